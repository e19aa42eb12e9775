namespace Evergreen.Testing;

/// <summary>
/// Schedule exploration for plain <see cref="Thread"/>/<c>lock</c> code (CHESS's idea, here through the monkey patch).
/// </summary>
public static class ScheduleExplorer
{
    /// <summary>Runs <paramref name="body"/> under many seeds; stops at the first failure.</summary>
    public static ExplorationReport Explore(Action body, ExploreOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        throw new NotImplementedException();
    }

    /// <summary>Runs <paramref name="body"/> once under <paramref name="seed"/>.</summary>
    public static ExplorationReport Replay(Action body, int seed)
    {
        ArgumentNullException.ThrowIfNull(body);
        throw new NotImplementedException();
    }
}
