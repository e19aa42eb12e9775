namespace Evergreen.Testing;

/// <summary>How long and how widely <see cref="ScheduleExplorer.Explore"/> searches.</summary>
public sealed class ExploreOptions
{
    /// <summary>At most this many schedules (seeds <see cref="FirstSeed"/>, <see cref="FirstSeed"/> + 1, …). Default 10,000.</summary>
    public int MaxSchedules { get; init; } = 10_000;

    /// <summary>Stop starting new schedules once this much wall-clock time has passed. Default 10 s.</summary>
    public TimeSpan TimeBudget { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The seed of the first schedule. Default 1.</summary>
    public int FirstSeed { get; init; } = 1;

    /// <summary>A schedule whose body (and the threads it started) has not ended after this long is a hang. Default 5 s.</summary>
    public TimeSpan HangTimeout { get; init; } = TimeSpan.FromSeconds(5);
}
