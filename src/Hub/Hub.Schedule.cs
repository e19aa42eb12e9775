using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Evergreen.Internal;

namespace Evergreen;

public sealed partial class Hub
{
    // ------------------------------------------------------------------------------------------
    // Seeded scheduling, virtual time and schedule exploration (issue 12, items 3 and 4)
    // ------------------------------------------------------------------------------------------
    // Every hook below is reached only behind ScheduleMode.Hooks / ScheduleMode.Explorable, static readonly fields the
    // JIT folds: with the switches off, the hot paths (picking, Monitor enter/exit) are unchanged.

    // --- the clock -------------------------------------------------------------------------------

    /// <summary>Ticks the hub's clock is ahead of <see cref="Stopwatch"/> (or, simulated, of its start): the jumps of virtual time (baton holder writes).</summary>
    private static long s_clockOffset;

    /// <summary>
    /// The hub's clock, in <see cref="Stopwatch"/> ticks: every deadline the hub keeps (timers, timed waits) is read against
    /// it. Equal to <see cref="Stopwatch.GetTimestamp"/> unless <c>EVERGREEN_VIRTUAL_TIME=1</c> made it jump ahead. User code
    /// reading <see cref="Stopwatch"/> or <see cref="DateTime"/> keeps seeing real time.
    /// </summary>
    /// <remarks>
    /// With a seed too (<see cref="ScheduleMode.SimulatedTime"/>), and during an exploration run, the clock is simulated: it
    /// moves by <see cref="PickQuantumTicks"/> at each pick and otherwise only when the hub would sleep — by a jump to the
    /// next timer, or by the real time it slept in the poller waiting for the outside. Otherwise how long code ran would
    /// decide which timers a pass finds due, and a seed would not fix the schedule of a program that sleeps (seen:
    /// EVERGREEN_SEED=3 with real time under the jumps gave a different hash on each of 3 runs of the 1,000-sleeper
    /// program; simulated, the same). The quantum keeps a thread that yields in a loop until a sleeper wakes from spinning
    /// for ever: its picks move the clock.
    /// </remarks>
    internal static long Now =>
        ScheduleMode.Explorable && Volatile.Read(ref s_runClock) ? Volatile.Read(ref s_runClockNow)
        : !ScheduleMode.VirtualTime ? Stopwatch.GetTimestamp()
        : (ScheduleMode.SimulatedTime ? s_clockStart : Stopwatch.GetTimestamp()) + Volatile.Read(ref s_clockOffset);

    /// <summary>How far a simulated clock moves at each pick: 10 µs (a yield loop waiting for a 100 ms sleep: 10,000 picks).</summary>
    private static readonly long PickQuantumTicks = Math.Max(1, Stopwatch.Frequency / 100_000);

    /// <summary>An exploration run keeps a simulated clock of its own (<see cref="BeginRun"/>), read as <see cref="Now"/>.</summary>
    private static bool s_runClock;

    private static long s_runClockNow;

    /// <summary>True when the hub's clock is simulated now (seed and virtual time, or an exploration run).</summary>
    private static bool ClockSimulated => ScheduleMode.SimulatedTime || (ScheduleMode.Explorable && Volatile.Read(ref s_runClock));

    /// <summary>True when the clock may jump to the next timer (virtual time, or an exploration run).</summary>
    private static bool ClockJumps => ScheduleMode.VirtualTime || (ScheduleMode.Explorable && Volatile.Read(ref s_runClock));

    /// <summary>Moves the hub's clock <paramref name="ticks"/> ahead (the baton holder).</summary>
    private static void AdvanceClock(long ticks)
    {
        if (ScheduleMode.Explorable && s_runClock) Volatile.Write(ref s_runClockNow, s_runClockNow + ticks);
        else Volatile.Write(ref s_clockOffset, s_clockOffset + ticks);
    }

    /// <summary>When the hub's clock started (the hub's type init), the base of a simulated clock and of the trace line's figure.</summary>
    private static readonly long s_clockStart = Stopwatch.GetTimestamp();

    /// <summary>How far virtual time's jumps have moved the hub's clock (for the trace line).</summary>
    internal static TimeSpan VirtualAdvance => TimeSpan.FromSeconds(Volatile.Read(ref s_jumped) / (double)Stopwatch.Frequency);

    private static long s_jumped;

    /// <summary>The blocking poll of <see cref="PickNext"/> under a simulated clock: the clock moves by the time slept.</summary>
    private void PollIoSimulated()
    {
        long before = Stopwatch.GetTimestamp();
        PollIo(MillisUntilNextTimer());
        AdvanceClock(Stopwatch.GetTimestamp() - before);
    }

    /// <summary>
    /// Virtual time: with nothing runnable, no I/O awaited and nothing outside that could wake a thread, the next timer is
    /// the next thing that can happen, so the clock jumps to it instead of sleeping. False if that is not so.
    /// </summary>
    private bool TryJumpToNextTimer()
    {
        if (_fdWaiters != 0 || !NothingOutsideCanWake() || _timers.Peek() is not { } t) return false;
        long ahead = t.Due - Now;
        if (ahead > 0)
        {
            AdvanceClock(ahead);
            Volatile.Write(ref s_jumped, s_jumped + ahead);
        }
        return true;
    }

    /// <summary>
    /// No outside thread can end a wait. While an exploration runs, the body's threads are all green by contract, so the
    /// waits counted as external "in case the owner is native" (lock and Monitor waits) do not count: otherwise a lock
    /// cycle could never be told from a wait on a native thread, and every deadlock would end as a hang.
    /// </summary>
    private bool NothingOutsideCanWake() =>
        Volatile.Read(ref _externalWaits) == 0 || (ScheduleMode.Explorable && Volatile.Read(ref s_exploring));

    // --- seeded choices and the schedule hash ------------------------------------------------------

    private const ulong FnvOffset = 14695981039346656037UL, FnvPrime = 1099511628211UL;

    private ScheduleRandom? _rng = ScheduleMode.Seeded ? new ScheduleRandom(ScheduleMode.Seed) : null;
    private ulong _scheduleHash = FnvOffset;
    private long _choices;
    private readonly List<HubTimer> _dueScratch = new();

    /// <summary>Green thread ids at or below this belong to before the current run: a thread's name in a schedule is its id minus this.</summary>
    private static long s_idBase;

    /// <summary>A green thread's place in the run's start order (1: the first thread of the run), what a schedule names it by.</summary>
    internal static long SpawnOrder(GreenThread g) => g.Id - Volatile.Read(ref s_idBase);

    /// <summary>
    /// Takes the next thread off the run queue when the scheduling hooks are on: a seeded random one (uniform over the
    /// runnable threads; <c>EVERGREEN_SEED</c> or an exploration run), else the first; either way recorded in the hash.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private GreenThread PopScheduled()
    {
        var next = _pctPriority != null && _runq.Count > 1 ? _runq.RemoveAt(PctHighest())
            : _rng is { } rng && _runq.Count > 1 ? _runq.RemoveAt(rng.Next(_runq.Count))
            : _runq.PopFront();
        long order = SpawnOrder(next);
        ulong h = _scheduleHash;
        for (int i = 0; i < 8; i++) { h = (h ^ (byte)(order >> (8 * i))) * FnvPrime; }
        _scheduleHash = h;
        _choices++;
        if (ClockSimulated) AdvanceClock(PickQuantumTicks);
        return next;
    }

    /// <summary>Runs the due timers in a seeded order (they were all found due in one pass: the order the clock cannot decide).</summary>
    private void RunDueTimersSeeded(long now, ScheduleRandom rng)
    {
        var due = _dueScratch;
        while (_timers.Peek() is { } t && t.Due <= now) due.Add(_timers.Pop());
        rng.Shuffle(CollectionsMarshal.AsSpan(due));
        try
        {
            foreach (var t in due) t.Fire(this);
        }
        finally
        {
            due.Clear();
        }
    }

    /// <summary>The I/O readiness of one poll, in a seeded order.</summary>
    private void ShufflePollResults(int n)
    {
        if (_rng is { } rng && n > 1) rng.Shuffle(_pollResults.AsSpan(0, n));
    }

    /// <summary>The schedule so far: a hash of the sequence of picked threads (by start order) and how many picks.</summary>
    internal (ulong Hash, long Choices) ScheduleDigest() => (Volatile.Read(ref _scheduleHash), Volatile.Read(ref _choices));

    /// <summary>The line <c>EVERGREEN_TRACE=1</c> prints at exit.</summary>
    internal string TraceLine()
    {
        var (hash, choices) = ScheduleDigest();
        string seed = ScheduleMode.Seeded ? $"seed {ScheduleMode.Seed}" : "no seed";
        string clock = ScheduleMode.VirtualTime
            ? $", hub clock {(Now - s_clockStart) / (double)Stopwatch.Frequency:0.000} s, {VirtualAdvance.TotalSeconds:0.000} s of it jumped{(ScheduleMode.SimulatedTime ? ", simulated" : "")}"
            : "";
        return $"evergreen: schedule hash {hash:x16} ({choices} choices, {seed}{clock})";
    }

    private void RegisterTrace()
    {
        if (!ScheduleMode.Trace) return;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Console.Error.WriteLine(TraceLine());
    }

    // --- deterministic thread starts -----------------------------------------------------------------

    private static Thread? s_inlineStarting;
    private readonly Parker _adoptPosted = new();

    /// <summary>
    /// True under seeded scheduling or during an exploration run: the schedule must be the seed's alone, so a green
    /// thread's <c>Thread.Start</c> starts the thread in place (<see cref="StartInline"/>; off the baton-holding thread the
    /// new thread's arrival on the run queue would be a race with the OS), and the short native waits the patcher makes
    /// while holding the baton (a joined thread's exit) stay inside the hub, where the watchdog does not take the baton back.
    /// </summary>
    internal static bool DeterministicSchedule => ScheduleMode.Hooks && (ScheduleMode.Seeded || Volatile.Read(ref s_exploring));

    /// <summary>
    /// Starts <paramref name="thread"/> (<paramref name="start"/>: the runtime's start) from the green thread holding the
    /// baton, and returns once the new thread has posted its adoption: it joins the run queue at the next scheduling point,
    /// a fixed place in the schedule. The caller keeps the baton throughout (about 0.1 ms: the runtime's start; the
    /// starter thread exists because 10,000 starts this way held the hub for seconds, issue 11.5 — a price seeded runs pay).
    /// </summary>
    internal void StartInline(Thread thread, Action start, Action failed)
    {
        // In the hub throughout: the runtime's start and the wait for the adoption block in the kernel with the baton held,
        // which the watchdog must not mistake for a native call to take the baton back from (that would be a switch the
        // seed did not choose).
        using var entry = EnterGreen("Thread.Start", out _);
        Volatile.Write(ref s_inlineStarting, thread);
        var saved = CpuAffinity.UnpinCurrent(); // the new thread inherits the process's CPU set, as from the starter
        try
        {
            start();
        }
        catch
        {
            Volatile.Write(ref s_inlineStarting, null);
            failed();
            throw;
        }
        finally
        {
            CpuAffinity.Restore(saved);
        }
        _adoptPosted.Park();
    }

    /// <summary>Called by <see cref="Adopt"/> once a thread's adoption is posted: releases an inline start waiting for it.</summary>
    private void NoteAdoptPosted()
    {
        if (Volatile.Read(ref s_inlineStarting) != Thread.CurrentThread) return;
        Volatile.Write(ref s_inlineStarting, null);
        _adoptPosted.Unpark();
    }

    // --- exploration ---------------------------------------------------------------------------------

    /// <summary>An exploration run is on: schedule points yield to a seeded choice and are logged.</summary>
    private static bool s_exploring;

    private static List<(long Thread, string Operation, string? Target)> s_steps = new();

    /// <summary>The step log keeps a run's first this many steps: a thread spinning on Thread.Yield until a hang is called logs ~10^5-10^6 a second.</summary>
    internal const int MaxLoggedSteps = 100_000;

    [ThreadStatic] private static int t_noPoints;

    /// <summary>Sees exceptions escaping a green thread's body while a run is on; returns true to swallow (the explorer records it).</summary>
    internal static Func<GreenThread, Exception, bool>? UnhandledObserver;

    /// <summary>Green threads created in the current run and not yet ended.</summary>
    private static int s_runThreads;

    /// <summary>Green threads created in the current run and not yet ended (the baton holder reads it exactly).</summary>
    internal static int RunThreadsAlive => Volatile.Read(ref s_runThreads);

    /// <summary>Called under the baton when the last thread created in the run ends (the explorer's wake).</summary>
    internal static Action? RunEnded;

    /// <summary>Every green thread's constructor, while a run is on: one more thread of the run.</summary>
    internal static void NoteCreated()
    {
        if (Volatile.Read(ref s_exploring)) Interlocked.Increment(ref s_runThreads);
    }

    /// <summary>A green thread has ended (its body returned or threw; the baton holder): the run ends with its last thread.</summary>
    private static void NoteEnded(GreenThread g)
    {
        if (!Volatile.Read(ref s_exploring) || g.Id <= Volatile.Read(ref s_idBase)) return;
        if (Interlocked.Decrement(ref s_runThreads) == 0) RunEnded?.Invoke();
    }

    /// <summary>
    /// Starts a run (the baton holder; the explorer, between runs): the PRNG restarts from <paramref name="seed"/>, the
    /// schedule hash and step log empty, threads created from now on are named from T1, and with
    /// <paramref name="explore"/> the schedule points act.
    /// </summary>
    internal void BeginRun(ulong seed, bool explore, int pctDepth = 0, int pctSteps = 0)
    {
        AssertBatonHolder();
        _rng = new ScheduleRandom(seed);
        BeginPct(explore ? pctDepth : 0, pctSteps);
        s_stepCount = 0;
        _scheduleHash = FnvOffset;
        _choices = 0;
        _roundLeft = 0;
        s_steps = new();
        s_targetNames = new(ReferenceEqualityComparer.Instance);
        s_targetsOfType = new();
        s_runThreads = 0;
        // The run's clock starts where the hub's stands and is simulated: runs with one seed see the same times.
        Volatile.Write(ref s_runClockNow, Now);
        Volatile.Write(ref s_runClock, explore);
        Volatile.Write(ref s_idBase, GreenThread.LastId);
        Volatile.Write(ref s_exploring, explore);
    }

    /// <summary>Ends the run begun by <see cref="BeginRun"/> and returns its steps (thread by start order, operation, target type).</summary>
    internal List<(long Thread, string Operation, string? Target)> EndRun()
    {
        Volatile.Write(ref s_exploring, false);
        _pctPriority = null;
        // Back to the hub's own clock. A leftover of a failed run keeps timers set on the run's clock, perhaps ahead of it.
        Volatile.Write(ref s_runClock, false);
        _rng = ScheduleMode.Seeded ? new ScheduleRandom(ScheduleMode.Seed) : null;
        var steps = s_steps;
        s_steps = new();
        s_targetNames = new(ReferenceEqualityComparer.Instance);
        s_targetsOfType = new();
        return steps;
    }

    /// <summary>
    /// A preemption point of schedule exploration: <paramref name="operation"/> (e.g. <c>Monitor.Enter</c>) on
    /// <paramref name="target"/> is about to happen (or, for a release, just happened). While a run is on, a green thread of
    /// the run logs the step and yields: the seeded picker chooses who runs next, perhaps itself. Otherwise nothing.
    /// The patcher's replacements call it; off (no <see cref="ScheduleMode.Explorable"/>), the call folds away.
    /// </summary>
    internal static bool SchedulePoint(string operation, object? target)
    {
        if (!ScheduleMode.Explorable || !Volatile.Read(ref s_exploring)) return false;
        return SchedulePointSlow(operation, target);
    }

    /// <summary>True while an exploration run is on (any thread; racy outside the baton).</summary>
    internal static bool Exploring => ScheduleMode.Explorable && Volatile.Read(ref s_exploring);

    /// <summary>
    /// True if a <see cref="SchedulePoint"/> on this thread now would act: a run is on, this is one of its green threads, it
    /// holds the baton, and points are not suppressed here. Lets a caller do costlier checks only then.
    /// </summary>
    internal static bool SchedulePointWouldAct() => Exploring && PointsActHere(out _);

    // Only the baton holder switches: a thread being adopted is green (t_current) before it holds the baton, and takes locks
    // meanwhile (the thread table). The holder field is written by each green thread for itself as it takes the baton, so
    // reading itself there, on its own thread, means it holds it.
    private static bool PointsActHere(out GreenThread self)
    {
        self = t_current!;
        return self != null && t_noPoints == 0 && self.Id > Volatile.Read(ref s_idBase) && self.Hub._holder == self;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool SchedulePointSlow(string operation, object? target)
    {
        using var entry = Enter(out _); // the switch touches hub state: the watchdog must not take the baton back meanwhile
        if (!PointsActHere(out var self)) return false;
        t_noPoints++; // what the log does (Type.Name's cache, a List growing) must not come back here
        try
        {
            if (s_steps.Count < MaxLoggedSteps) s_steps.Add((SpawnOrder(self), operation, TargetName(target)));
            self.Hub.PctAtStep(self, ++s_stepCount);
        }
        finally
        {
            t_noPoints--;
        }
        self.Hub.Yield(self);
        return true;
    }

    /// <summary>
    /// A step's target: a green thread by its start order (<c>T3</c>), anything else by its type's name and the order in
    /// which the run first met an object of that type (<c>Account#2</c>), so two locks of one type read apart and a replay
    /// names them the same. The names live for the run (they hold its objects until <see cref="EndRun"/>).
    /// </summary>
    private static string? TargetName(object? target)
    {
        switch (target)
        {
            case null: return null;
            case Thread t when s_byThread.TryGetValue(t, out var g) && SpawnOrder(g) > 0: return "T" + SpawnOrder(g);
            case GreenThread g when SpawnOrder(g) > 0: return "T" + SpawnOrder(g);
        }
        if (s_targetNames.TryGetValue(target, out var name)) return name;
        string type = target.GetType().Name;
        int n = s_targetsOfType.TryGetValue(type, out int seen) ? seen + 1 : 1;
        s_targetsOfType[type] = n;
        return s_targetNames[target] = $"{type}#{n}";
    }

    private static Dictionary<object, string> s_targetNames = new(ReferenceEqualityComparer.Instance);
    private static Dictionary<string, int> s_targetsOfType = new();

    /// <summary>
    /// Schedule points off on this thread until <see cref="ResumeSchedulePoints"/>: for operations that are atomic in plain
    /// .NET but made of several patched steps here (Monitor.Wait's release and re-entry: a switch between its release and
    /// its enqueue would lose a Pulse plain .NET never loses).
    /// </summary>
    internal static void SuppressSchedulePoints() => t_noPoints++;

    /// <summary>Ends <see cref="SuppressSchedulePoints"/>.</summary>
    internal static void ResumeSchedulePoints() => t_noPoints--;

    /// <summary>
    /// Called with an exception escaping a green thread's body (spawned or adopted); true if an exploration run took it
    /// (the thread then ends quietly instead of failing the process, as an unhandled exception would).
    /// </summary>
    /// <remarks>
    /// Decided by the observer, not by whether a run is on: after a deadlock the explorer may end the run before the other
    /// threads it broke out of their waits have unwound, and their exceptions must not end the process either.
    /// </remarks>
    internal static bool ObserveUnhandled(Exception ex) =>
        ScheduleMode.Explorable && UnhandledObserver is { } observer && t_current is { } self && observer(self, ex);
}
