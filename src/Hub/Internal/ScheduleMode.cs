namespace Evergreen.Internal;

/// <summary>
/// The scheduling switches of issue 12, read once when the type is first used. Every hook they add to a hot path is
/// behind <see cref="Hooks"/>, a <c>static readonly</c> field: once this class is initialised, tier-1 code treats it as
/// a constant and drops the branch, so with everything off the hooks cost nothing.
/// <list type="bullet">
/// <item><c>EVERGREEN_SEED=n</c>: every choice of the hub (next runnable thread, order of timers due together and of
/// I/O ready in one poll) comes from a PRNG seeded with n; threads started by a green thread join the run queue at a
/// fixed point of the schedule (<see cref="Hub.StartInline"/>).</item>
/// <item><c>EVERGREEN_TRACE=1</c>: at exit, one line on stderr with a hash of the schedule.</item>
/// <item><c>EVERGREEN_VIRTUAL_TIME=1</c>: when every green thread waits on a timer, the hub's clock jumps to it.</item>
/// <item><c>EVERGREEN_EXPLORE=1</c>, or an entry assembly that references Evergreen.Testing: the schedule points of
/// <see cref="Hub.SchedulePoint"/> are compiled in (they act only while an exploration runs).</item>
/// </list>
/// </summary>
internal static class ScheduleMode
{
    public static readonly bool Seeded;
    public static readonly ulong Seed;
    public static readonly bool Trace = IsOn("EVERGREEN_TRACE");
    public static readonly bool VirtualTime = IsOn("EVERGREEN_VIRTUAL_TIME");
    public static readonly bool Explorable = IsOn("EVERGREEN_EXPLORE") || EntryReferencesTesting();

    /// <summary>Virtual time with a seed: the hub's clock is simulated, moving only when the hub would sleep (<see cref="Hub.Now"/>).</summary>
    public static readonly bool SimulatedTime;

    /// <summary>Any of the above: the hub's scheduling hooks are live.</summary>
    public static readonly bool Hooks;

    static ScheduleMode()
    {
        if (Environment.GetEnvironmentVariable("EVERGREEN_SEED") is { Length: > 0 } s)
        {
            Seeded = true;
            Seed = ulong.TryParse(s, out ulong n) ? n : (ulong)s.GetHashCode(StringComparison.Ordinal); // a non-number still seeds
        }
        SimulatedTime = Seeded && VirtualTime;
        Hooks = Seeded || Trace || VirtualTime || Explorable;
    }

    private static bool IsOn(string variable) =>
        Environment.GetEnvironmentVariable(variable) is { } v && (v == "1" || v.Equals("true", StringComparison.OrdinalIgnoreCase) || v.Equals("yes", StringComparison.OrdinalIgnoreCase));

    // A test program that explores schedules references the testing assembly; every other program compiles the points out.
    private static bool EntryReferencesTesting()
    {
        try
        {
            return System.Reflection.Assembly.GetEntryAssembly()?.GetReferencedAssemblies().Any(a => a.Name == "Evergreen.Testing") == true;
        }
        catch (Exception)
        {
            return false;
        }
    }
}
