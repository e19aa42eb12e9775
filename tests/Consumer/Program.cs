// What README's "Using it" promises, built from the package: MonkeyPatch first, then plain threads, lock,
// Monitor.Wait/Pulse and Thread.Sleep run as green threads. Prints "pass" and exits 0, or says what failed and exits 1.
using Evergreen;
using Evergreen.Patching;

internal static class Program
{
    private const int Rounds = 5;

    private static int Main()
    {
        Patcher.MonkeyPatch(); // must be the first line: Main runs again from here, green
        foreach (var area in new[] { "thread", "time" })
            if (!Patcher.IsMonkeyPatched(area)) return Fail($"area {area} is not patched");

        var gate = new object();
        int turn = 0;
        var trace = new List<string>();
        bool allGreen = true;
        Thread Player(int me, string word) => new(() =>
        {
            for (int i = 0; i < Rounds; i++)
            {
                lock (gate)
                {
                    while (turn != me) Monitor.Wait(gate);
                    allGreen &= Hub.IsGreenThread;
                    trace.Add(word);
                    turn = 1 - me;
                    Monitor.PulseAll(gate);
                }
                Thread.Sleep(5);
            }
        });

        var ping = Player(0, "ping");
        var pong = Player(1, "pong");
        ping.Start();
        pong.Start();
        ping.Join();
        pong.Join();

        string expected = string.Join(' ', Enumerable.Repeat("ping pong", Rounds));
        if (string.Join(' ', trace) != expected) return Fail($"trace was '{string.Join(' ', trace)}', expected '{expected}'");
        if (!allGreen) return Fail("a plain Thread did not run as a green thread");
        Console.WriteLine("pass");
        return 0;
    }

    private static int Fail(string why)
    {
        Console.WriteLine("FAIL consumer: " + why);
        return 1;
    }
}
