using System.Diagnostics;
using System.Globalization;
using System.Text;
using Evergreen.Bugs;

namespace Evergreen.Bench.Explore;

/// <summary>
/// The driver: for each bug, the explorer from N starting seeds (a child process each), one stress child and, with
/// <c>--coyote</c>, one Coyote child for the same N seeds; then bench rows on stdout and a markdown table. Children run
/// one at a time (the machine has two CPUs; running them side by side would measure each other).
/// </summary>
internal static class Table
{
    private sealed record Options(int Seeds, int StressMs, int BudgetMs, int MaxSchedules, string? CoyoteDll, int CoyoteThreadSeeds,
        int CoyoteThreadBudgetMs, string? Markdown, List<string> Bugs);

    /// <summary>One child's row (after the leading "row"), or null when the child failed; <c>Note</c> says why.</summary>
    private sealed record Row(string[]? Fields, string Note);

    /// <summary>A starting seed's result: found within the budget or not, and what it cost.</summary>
    private readonly record struct Outcome(bool Found, double Count, double Ms, string Kind);

    public static int Run(string[] args)
    {
        var o = Parse(args);
        string self = typeof(Table).Assembly.Location;
        string loadStart = LoadAverage();
        var started = DateTime.UtcNow;
        var md = new StringBuilder();
        md.AppendLine("| bug | explorer schedules (median) | explorer ms (median) | stress found? iterations / time | Coyote, Task.Run variant: iterations / ms (median) | Coyote, the unchanged Thread body: iterations / ms (median) |");
        md.AppendLine("|---|---:|---:|---|---|---|");
        var detail = new StringBuilder();
        var interleavings = new StringBuilder();
        foreach (var bug in o.Bugs.Select(Corpus.Get))
        {
            // The explorer: starting seeds 1, 100001, 200001, …: far apart, so no two explorations share a schedule.
            var explorer = new List<Outcome>();
            for (int k = 0; k < o.Seeds; k++)
            {
                int first = 1 + k * 100_000;
                // The first seed's report (with its interleaving) goes into the markdown's detail.
                var row = Child(["explore", bug.Name, first.ToString(), o.MaxSchedules.ToString(), o.BudgetMs.ToString()], self,
                    TimeSpan.FromMilliseconds(o.BudgetMs + 60_000), k == 0 ? interleavings : null);
                // row: explore BUG FIRST FOUND SCHEDULES MS KIND SEED
                var outcome = row.Fields is { } f
                    ? new Outcome(f[3] == "1", double.Parse(f[4], CultureInfo.InvariantCulture), double.Parse(f[5], CultureInfo.InvariantCulture), f[6])
                    : new Outcome(false, double.NaN, double.NaN, "child failed: " + row.Note);
                explorer.Add(outcome);
                detail.AppendLine($"explorer {bug.Name} first seed {first}: {(outcome.Found ? "found" : "not found")} {outcome.Kind} after {outcome.Count} schedules, {outcome.Ms} ms");
            }
            Emit("evergreen-explorer", bug.Name, explorer, "schedules");

            // The stress loop, unpatched, for StressMs.
            var stress = Child(["stress", bug.Name, o.StressMs.ToString()], self, TimeSpan.FromMilliseconds(o.StressMs + 30_000));
            string stressCell;
            if (stress.Fields is { } s)
            {
                // row: stress BUG FOUND ITERATIONS MS HOW
                bool found = s[2] == "1";
                Print("native-stress", bug.Name, "found", found ? "1" : "0");
                Print("native-stress", bug.Name, "iterations", s[3]);
                Print("native-stress", bug.Name, "ms", s[4]);
                stressCell = found
                    ? $"yes: iteration {long.Parse(s[3]):N0} at {double.Parse(s[4], CultureInfo.InvariantCulture):N0} ms ({s[5].Split(':')[0]})"
                    : $"no: not in {long.Parse(s[3]):N0} iterations / {o.StressMs / 1000.0:0.#} s";
                detail.AppendLine($"stress {bug.Name}: {string.Join(' ', s[2..])}");
            }
            else
            {
                stressCell = "child failed: " + stress.Note;
                detail.AppendLine($"stress {bug.Name}: {stress.Note}");
            }

            // Coyote: one child per variant set runs every seed (a TestingEngine each).
            string coyoteCell = "not run", coyoteThreadCell = "not run";
            if (o.CoyoteDll != null)
            {
                var seeds = Enumerable.Range(0, o.Seeds).Select(k => (1 + k * 100_000).ToString()).ToArray();
                var tasks = Coyote(o, bug.Name, "task,task-hint", seeds, o.BudgetMs, detail);
                coyoteCell = Cell(tasks.GetValueOrDefault("coyote-task"), o.Seeds);
                if (tasks.GetValueOrDefault("coyote-task-hint") is { Count: > 0 } hinted)
                    coyoteCell += $"; with a SchedulingPoint.Interleave() hint: {Cell(hinted, o.Seeds)}";
                var threads = Coyote(o, bug.Name, "thread", seeds[..Math.Min(o.CoyoteThreadSeeds, seeds.Length)], o.CoyoteThreadBudgetMs, detail);
                coyoteThreadCell = Cell(threads.GetValueOrDefault("coyote-thread"), o.CoyoteThreadSeeds);
            }
            md.AppendLine($"| {bug.Name} | {Median(explorer, e => e.Count)}{FoundOf(explorer, o.Seeds)} | {Median(explorer, e => e.Ms)} | {stressCell} | {coyoteCell} | {coyoteThreadCell} |");
        }
        string loadEnd = LoadAverage();
        Console.WriteLine($"env\thost\t-\tload_avg_1m_at_start\t{loadStart}");
        Console.WriteLine($"env\thost\t-\tload_avg_1m_at_end\t{loadEnd}");
        md.AppendLine();
        md.AppendLine($"{started:yyyy-MM-dd HH:mm}–{DateTime.UtcNow:HH:mm} UTC, {Environment.ProcessorCount} vCPUs shared with other engineers' builds and tests " +
            $"(load average {loadStart} at start, {loadEnd} at end). Explorer: median over {o.Seeds} starting seeds, each in its own patched process " +
            $"(MaxSchedules {o.MaxSchedules:N0}, TimeBudget {o.BudgetMs / 1000.0:0.#} s; ms = the report's Elapsed, without process start and patching). " +
            $"Stress: the same body on native threads in one unpatched process, in a loop for {o.StressMs / 1000.0:0.#} s (a hang = an iteration still running after 2 s). " +
            $"Coyote 1.7.11 (rewritten; its default portfolio strategy; ms = one TestingEngine run, in-process): the Task.Run variant from the same {o.Seeds} starting seeds, " +
            $"at most {o.MaxSchedules:N0} iterations or {o.BudgetMs / 1000.0:0.#} s each; the unchanged Thread body from the first {o.CoyoteThreadSeeds} of them, " +
            $"at most {o.CoyoteThreadBudgetMs / 1000.0:0.#} s each. " +
            "A median over seeds where some found nothing counts those as infinite; (k/N) says how many found it.");
        Console.Error.WriteLine();
        Console.Error.WriteLine(md.ToString());
        Console.Error.WriteLine(detail.ToString());
        if (o.Markdown != null)
            File.WriteAllText(o.Markdown, md + "\n```\n" + detail + "```\n\nThe first seed's failing schedule, per bug:\n\n```\n" + interleavings + "```\n");
        return 0;
    }

    /// <summary>Runs the Coyote child for <paramref name="variants"/>; its outcomes by system (coyote-task, …), rows emitted.</summary>
    private static Dictionary<string, List<Outcome>> Coyote(Options o, string bug, string variants, string[] seeds, int budgetMs, StringBuilder detail)
    {
        var lines = ChildLines(["dotnet", o.CoyoteDll!, bug, variants, o.MaxSchedules.ToString(), budgetMs.ToString(), .. seeds],
            TimeSpan.FromMilliseconds((long)seeds.Length * budgetMs * variants.Split(',').Length + 60_000), out string note, out string stderr);
        if (stderr.Length > 0)
            Console.Error.Write(stderr.Length > 4000 ? stderr[..4000] + "…\n" : stderr);
        var bySystem = new Dictionary<string, List<Outcome>>();
        // row: coyote-VARIANT BUG SEED FOUND ITERATIONS MS WHAT
        foreach (var l in lines.Where(l => l[0].StartsWith("coyote-", StringComparison.Ordinal)))
        {
            var outcome = new Outcome(l[3] == "1", double.Parse(l[4], CultureInfo.InvariantCulture), double.Parse(l[5], CultureInfo.InvariantCulture), l[6]);
            (bySystem.TryGetValue(l[0], out var list) ? list : bySystem[l[0]] = []).Add(outcome);
            detail.AppendLine($"{l[0]} {bug} seed {l[2]}: {(outcome.Found ? "found" : "not found")} after {l[4]} iterations, {l[5]} ms: {l[6]}");
        }
        if (bySystem.Count == 0)
            detail.AppendLine($"coyote {bug} {variants}: no rows ({note})");
        foreach (var (system, outcomes) in bySystem)
            Emit(system, bug, outcomes, "iterations");
        return bySystem;
    }

    private static string Cell(List<Outcome>? outcomes, int n) =>
        outcomes is null or { Count: 0 } ? "child failed (see the log)" : $"{Median(outcomes, c => c.Count)} / {Median(outcomes, c => c.Ms)}{FoundOf(outcomes, n)}";

    private static void Emit(string system, string bug, List<Outcome> outcomes, string countName)
    {
        Print(system, bug, "found_seeds", outcomes.Count(x => x.Found).ToString());
        var found = outcomes.Where(x => x.Found).ToList();
        if (outcomes.Count > 0 && found.Count * 2 > outcomes.Count)
        {
            Print(system, bug, countName + "_median", Median(outcomes, x => x.Count));
            Print(system, bug, "ms_median", Median(outcomes, x => x.Ms));
        }
    }

    /// <summary>The median with not-found counted as infinite ("—" when it is), in the invariant culture.</summary>
    private static string Median(List<Outcome> outcomes, Func<Outcome, double> value)
    {
        if (outcomes.Count == 0) return "—";
        var sorted = outcomes.Select(x => x.Found ? value(x) : double.PositiveInfinity).Order().ToList();
        int n = sorted.Count;
        double m = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        if (double.IsInfinity(m)) return "—";
        return m >= 100 ? m.ToString("0", CultureInfo.InvariantCulture) : m.ToString("0.#", CultureInfo.InvariantCulture);
    }

    private static string FoundOf(List<Outcome> outcomes, int n) => $" ({outcomes.Count(x => x.Found)}/{n})";

    private static void Print(string system, string bug, string metric, string value) =>
        Console.WriteLine($"explore\t{system}\tbug={bug}\t{metric}\t{value}");

    /// <summary>Runs one of our children; its stderr is echoed when it printed no row, and kept in <paramref name="keepLog"/> if given.</summary>
    private static Row Child(string[] args, string self, TimeSpan timeout, StringBuilder? keepLog = null)
    {
        var lines = ChildLines(["dotnet", self, .. args], timeout, out string note, out string stderr);
        var row = lines.FirstOrDefault(l => l[0] == args[0]);
        if (row is null)
            Console.Error.Write(stderr.Length > 4000 ? stderr[..4000] + "…\n" : stderr);
        keepLog?.Append(stderr);
        return row != null ? new Row(row, "") : new Row(null, note);
    }

    /// <summary>Runs a child; returns its <c>row\t…</c> lines split (without "row"); <paramref name="note"/> says how it ended.</summary>
    private static List<string[]> ChildLines(string[] command, TimeSpan timeout, out string note, out string stderr)
    {
        var start = new ProcessStartInfo(command[0], command[1..]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(start)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var err = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            note = $"killed after {timeout.TotalSeconds:0} s";
        }
        else
        {
            note = $"exit code {p.ExitCode}";
        }
        stderr = err.Result;
        return stdout.Result.Split('\n').Where(l => l.StartsWith("row\t", StringComparison.Ordinal)).Select(l => l.TrimEnd('\r').Split('\t')[1..]).ToList();
    }

    private static string LoadAverage()
    {
        try { return File.ReadAllText("/proc/loadavg").Split(' ')[0]; }
        catch (IOException) { return "?"; }
    }

    private static Options Parse(string[] args)
    {
        var o = new Options(10, 5_000, 5_000, 10_000, null, 3, 5_000, null, []);
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--seeds": o = o with { Seeds = int.Parse(args[++i]) }; break;
                case "--stress-ms": o = o with { StressMs = int.Parse(args[++i]) }; break;
                case "--budget-ms": o = o with { BudgetMs = int.Parse(args[++i]) }; break;
                case "--max-schedules": o = o with { MaxSchedules = int.Parse(args[++i]) }; break;
                case "--coyote": o = o with { CoyoteDll = args[++i] }; break;
                case "--coyote-thread-seeds": o = o with { CoyoteThreadSeeds = int.Parse(args[++i]) }; break;
                case "--coyote-thread-budget-ms": o = o with { CoyoteThreadBudgetMs = int.Parse(args[++i]) }; break;
                case "--markdown": o = o with { Markdown = args[++i] }; break;
                default: o.Bugs.Add(args[i]); break;
            }
        }
        if (o.Bugs.Count == 0)
            o.Bugs.AddRange(Corpus.All.Select(b => b.Name));
        return o;
    }
}
