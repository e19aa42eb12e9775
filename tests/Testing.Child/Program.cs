using Evergreen.Patching;
using Evergreen.Testing;

// One scenario per process (patching is one-way). Prints "pass" last and exits 0, or prints why and exits 1. Every
// scenario ends with Environment.Exit: after a found deadlock or hang, threads of the failed run stay behind, and the
// patched exit would wait for the foreground ones.
internal static class Program
{
    private static int Main(string[] args)
    {
        Patcher.MonkeyPatch();
        string scenario = args.Length > 0 ? args[0] : "";
        int rc;
        try
        {
            rc = scenario switch
            {
                "seeded-schedule" => Scenarios.SeededSchedule(),
                "virtual-time" => Scenarios.VirtualTime(),
                "explore-lost-update" => Scenarios.ExploreLostUpdate(),
                "explore-assertion" => Scenarios.ExploreAssertion(),
                "explore-deadlock" => Scenarios.ExploreDeadlock(),
                "explore-correct" => Scenarios.ExploreCorrect(),
                "explore-wait-pulse" => Scenarios.ExploreWaitPulse(),
                "explore-hang" => Scenarios.ExploreHang(),
                _ => Scenarios.Fail($"unknown scenario '{scenario}'"),
            };
        }
        catch (Exception ex)
        {
            rc = Scenarios.Fail(ex.ToString());
        }
        if (rc == 0) Console.WriteLine("pass");
        Console.Out.Flush();
        Environment.Exit(rc);
        return rc;
    }
}
