using System.Diagnostics;
using System.Reflection;
using System.Runtime.CompilerServices;
using static Evergreen.Detours.Child.Probe;

namespace Evergreen.Detours.Child;

/// <summary>Thread.Sleep/Yield/Start/Join, Monitor (FCall bodies and Wait/Pulse), System.Threading.Lock.</summary>
internal static unsafe partial class Cases
{
    internal const BindingFlags All = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance;

    private static readonly object s_gate = new();
    private static readonly Lock s_lock = new();
    private static readonly Thread s_unstarted = new(static () => { });
    private static long s_counter;

    internal static MethodInfo M(Type type, string name, params Type[] parameters)
        => type.GetMethod(name, All, null, parameters, null) ?? throw new MissingMethodException(type.FullName, name);

    private static MethodInfo R(string name) => typeof(Cases).GetMethod(name, All) ?? throw new MissingMethodException(nameof(Cases), name);

    internal static IReadOnlyList<Case> All_ => s_all ??= Build();

    private static IReadOnlyList<Case>? s_all;

    private static List<Case> Build() => [
        SleepInt(), SleepTimeSpan(), Yield(), Start(), Join(), MonitorLock(), Wait(), Pulse(), PulseAll(), LockType(),
        SocketAccept(), SocketConnect(), SocketSend(), SocketReceive(), SocketSendTo(), SocketReceiveFrom(), SocketPoll(), SocketSelect()];

    internal static Case Find(string name) => All_.FirstOrDefault(c => c.Name == name) ?? throw new ArgumentException($"unknown case {name}");

    private static void AssertSlept(Action sleep, int ms)
    {
        long t0 = Stopwatch.GetTimestamp();
        sleep();
        var elapsed = Stopwatch.GetElapsedTime(t0);
        Check(elapsed.TotalMilliseconds >= ms, $"slept {elapsed.TotalMilliseconds} ms, asked {ms}");
    }

    // ---- Thread.Sleep(int) ----
    private static delegate*<int, void> s_sleepInt;

    private static void SleepIntReplacement(int ms)
    {
        Hit();
        if (PassThrough)
        {
            s_sleepInt(ms);
        }
    }

    private static Case SleepInt() => new()
    {
        Name = "sleep-int",
        Detours = [(M(typeof(Thread), "Sleep", typeof(int)), R(nameof(SleepIntReplacement)), p => s_sleepInt = (delegate*<int, void>)p)],
        Before = [MethodImpl(MethodImplOptions.NoInlining)] static () => Thread.Sleep(0),
        AfterOptimized = [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)] static () => Thread.Sleep(0),
        Framework = static () =>
        {
            var spinner = default(SpinWait);
            for (int i = 0; i < 100; i++)
            {
                spinner.SpinOnce();
            }
        },
        Call = static () => Thread.Sleep(0),
        Original = static () => AssertSlept(static () => Thread.Sleep(50), 50),
    };

    // ---- Thread.Sleep(TimeSpan) ----
    private static delegate*<TimeSpan, void> s_sleepSpan;

    private static void SleepSpanReplacement(TimeSpan span)
    {
        Hit();
        if (PassThrough)
        {
            s_sleepSpan(span);
        }
    }

    private static Case SleepTimeSpan() => new()
    {
        Name = "sleep-timespan",
        Detours = [(M(typeof(Thread), "Sleep", typeof(TimeSpan)), R(nameof(SleepSpanReplacement)), p => s_sleepSpan = (delegate*<TimeSpan, void>)p)],
        Before = [MethodImpl(MethodImplOptions.NoInlining)] static () => Thread.Sleep(TimeSpan.Zero),
        AfterOptimized = [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)] static () => Thread.Sleep(TimeSpan.Zero),
        Call = static () => Thread.Sleep(TimeSpan.Zero),
        Original = static () => AssertSlept(static () => Thread.Sleep(TimeSpan.FromMilliseconds(50)), 50),
    };

    // ---- Thread.Yield ----
    private static delegate*<bool> s_yield;

    private static bool YieldReplacement()
    {
        Hit();
        return PassThrough && s_yield();
    }

    private static Case Yield() => new()
    {
        Name = "yield",
        Detours = [(M(typeof(Thread), "Yield"), R(nameof(YieldReplacement)), p => s_yield = (delegate*<bool>)p)],
        Before = [MethodImpl(MethodImplOptions.NoInlining)] static () => Thread.Yield(),
        AfterOptimized = [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)] static () => Thread.Yield(),
        // No framework caller: SpinWait (R2R CoreLib) inlines Yield's QCall; see docs/detours.md.
        Call = static () => Thread.Yield(),
        Original = static () =>
        {
            // sched_yield returns promptly either way; the original must run without fault, many times.
            for (int i = 0; i < 1000; i++)
            {
                Thread.Yield();
            }
        },
    };

    // ---- Thread.Start() ----
    private static delegate*<Thread, void> s_start;

    private static void StartReplacement(Thread thread)
    {
        Hit();
        if (PassThrough)
        {
            s_start(thread);
        }
    }

    private static void StartAndJoin()
    {
        if (!PassThrough)
        {
            s_unstarted.Start();
            return;
        }

        var t = new Thread(static () => { });
        t.Start();
        t.Join();
    }

    private static Case Start() => new()
    {
        Name = "start",
        Detours = [(M(typeof(Thread), "Start"), R(nameof(StartReplacement)), p => s_start = (delegate*<Thread, void>)p)],
        Before = [MethodImpl(MethodImplOptions.NoInlining)] static () => { var t = new Thread(static () => { }); t.Start(); t.Join(); },
        AfterOptimized = [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)] static () => { var t = new Thread(static () => { }); t.Start(); t.Join(); },
        Call = StartAndJoin,
        Original = static () =>
        {
            using var ran = new ManualResetEventSlim();
            var t = new Thread(() => ran.Set());
            t.Start();
            Check(ran.Wait(TimeSpan.FromSeconds(30)), "started thread did not run");
            t.Join();
        },
    };

    // ---- Thread.Join() ----
    private static delegate*<Thread, void> s_join;

    private static void JoinReplacement(Thread thread)
    {
        Hit();
        if (PassThrough)
        {
            s_join(thread);
        }
    }

    private static Case Join() => new()
    {
        Name = "join",
        Detours = [(M(typeof(Thread), "Join"), R(nameof(JoinReplacement)), p => s_join = (delegate*<Thread, void>)p)],
        Before = [MethodImpl(MethodImplOptions.NoInlining)] static () => { var t = new Thread(static () => { }); t.Start(); t.Join(); },
        AfterOptimized = [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)] static () => { var t = new Thread(static () => { }); t.Start(); t.Join(); },
        Call = static () =>
        {
            if (!PassThrough)
            {
                s_unstarted.Join();
                return;
            }

            var t = new Thread(static () => { });
            t.Start();
            t.Join();
        },
        Original = static () =>
        {
            using var release = new ManualResetEventSlim();
            var t = new Thread(() => release.Wait());
            t.Start();
            release.Set();
            t.Join();
            Check(!t.IsAlive, "Join returned while the thread was alive");
        },
    };

    // ---- Monitor: the FCall bodies every lock(obj) reaches ----
    private static delegate*<object, bool> s_tryEnter;
    private static delegate*<object, int> s_exit;

    private static bool TryEnterReplacement(object obj)
    {
        Hit();
        return s_tryEnter(obj);
    }

    private static int ExitReplacement(object obj) => s_exit(obj);

    private static Case MonitorLock() => new()
    {
        Name = "monitor",
        Detours =
        [
            (M(typeof(Monitor), "TryEnter_FastPath", typeof(object)), R(nameof(TryEnterReplacement)), p => s_tryEnter = (delegate*<object, bool>)p),
            (M(typeof(Monitor), "Exit_FastPath", typeof(object)), R(nameof(ExitReplacement)), p => s_exit = (delegate*<object, int>)p),
        ],
        Before = [MethodImpl(MethodImplOptions.NoInlining)] static () => { lock (s_gate) { s_counter++; } },
        AfterOptimized = [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)] static () => { lock (s_gate) { s_counter++; } },
        Framework = static () =>
        {
            var dictionary = new System.Collections.Concurrent.ConcurrentDictionary<string, string>();
            dictionary.TryAdd("a", "b");
            using var semaphore = new SemaphoreSlim(0);
            semaphore.Release();
            semaphore.Wait();
        },
        HotWithoutOriginal = false,
        Call = static () => { lock (s_gate) { s_counter++; } },
        Original = static () => AssertExclusion(static () => { lock (s_gate) { s_counter++; } }),
        AfterRace = static made => Interlocked.Read(ref s_counter) == made ? null : $"locked counter {s_counter} != calls {made}",
    };

    private static void AssertExclusion(Action increment)
    {
        const int Threads = 4, Each = 100_000;
        s_counter = 0;
        using var start = new Barrier(Threads);
        var threads = Enumerable.Range(0, Threads).Select(_ => new Thread(() =>
        {
            start.SignalAndWait();
            for (int i = 0; i < Each; i++)
            {
                increment();
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Check(s_counter == Threads * Each, $"{Threads} x {Each} locked increments gave {s_counter}");
    }

    // ---- Monitor.Wait(object, int) ----
    private static delegate*<object, int, bool> s_wait;

    private static bool WaitReplacement(object obj, int timeout)
    {
        Hit();
        return PassThrough && s_wait(obj, timeout);
    }

    private static Case Wait() => new()
    {
        Name = "wait",
        Detours = [(M(typeof(Monitor), "Wait", typeof(object), typeof(int)), R(nameof(WaitReplacement)), p => s_wait = (delegate*<object, int, bool>)p)],
        Before = [MethodImpl(MethodImplOptions.NoInlining)] static () => { lock (s_gate) { Monitor.Wait(s_gate, 0); } },
        AfterOptimized = [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)] static () => { lock (s_gate) { Monitor.Wait(s_gate, 0); } },
        Framework = static () =>
        {
            // 100 ms, not 1: MRES.Wait skips Monitor.Wait when its timeout has passed by the time it holds its lock,
            // which a 1 ms timeout did once in 18 loaded ./test runs ("framework caller did not reach the replacement").
            using var never = new ManualResetEventSlim(false, spinCount: 0);
            never.Wait(100);
        },
        Call = static () => { lock (s_gate) { Monitor.Wait(s_gate, 0); } },
        Original = static () =>
        {
            lock (s_gate)
            {
                long t0 = Stopwatch.GetTimestamp();
                Check(!Monitor.Wait(s_gate, 30), "Wait(30) on an unpulsed object returned true");
                Check(Stopwatch.GetElapsedTime(t0).TotalMilliseconds >= 30, "Wait(30) returned early");
            }

            PulseHandshake(static o => Monitor.Pulse(o));
        },
    };

    /// <summary>A waiter that can only finish if Wait releases the lock and the pulse wakes it.</summary>
    private static void PulseHandshake(Action<object> pulse)
    {
        var o = new object();
        bool waiting = false, go = false;
        var waiter = new Thread(() =>
        {
            lock (o)
            {
                waiting = true;
                Monitor.Pulse(o);
                while (!go)
                {
                    Monitor.Wait(o, Timeout.Infinite);
                }
            }
        });
        lock (o)
        {
            waiter.Start();
            while (!waiting)
            {
                Monitor.Wait(o, Timeout.Infinite);
            }

            go = true;
            pulse(o);
        }

        waiter.Join();
    }

    // ---- Monitor.Pulse / PulseAll ----
    private static delegate*<object, void> s_pulse;
    private static delegate*<object, void> s_pulseAll;

    private static void PulseReplacement(object obj)
    {
        Hit();
        if (PassThrough)
        {
            s_pulse(obj);
        }
    }

    private static void PulseAllReplacement(object obj)
    {
        Hit();
        if (PassThrough)
        {
            s_pulseAll(obj);
        }
    }

    private static Case Pulse() => new()
    {
        Name = "pulse",
        Detours = [(M(typeof(Monitor), "Pulse", typeof(object)), R(nameof(PulseReplacement)), p => s_pulse = (delegate*<object, void>)p)],
        Before = [MethodImpl(MethodImplOptions.NoInlining)] static () => { lock (s_gate) { Monitor.Pulse(s_gate); } },
        AfterOptimized = [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)] static () => { lock (s_gate) { Monitor.Pulse(s_gate); } },
        Call = static () => { lock (s_gate) { Monitor.Pulse(s_gate); } },
        Original = static () => PulseHandshake(static o => Monitor.Pulse(o)),
    };

    private static Case PulseAll() => new()
    {
        Name = "pulseall",
        Detours = [(M(typeof(Monitor), "PulseAll", typeof(object)), R(nameof(PulseAllReplacement)), p => s_pulseAll = (delegate*<object, void>)p)],
        Before = [MethodImpl(MethodImplOptions.NoInlining)] static () => { lock (s_gate) { Monitor.PulseAll(s_gate); } },
        AfterOptimized = [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)] static () => { lock (s_gate) { Monitor.PulseAll(s_gate); } },
        Framework = static () =>
        {
            // ManualResetEventSlim.Set pulses all waiters only when it has some; Barrier's phase change does via its events.
            using var e = new ManualResetEventSlim(false, spinCount: 0);
            var t = new Thread(() => e.Wait());
            t.Start();
            while (!IsWaiting(t))
            {
                Thread.SpinWait(100);
            }

            e.Set();
            t.Join();
        },
        Call = static () => { lock (s_gate) { Monitor.PulseAll(s_gate); } },
        Original = static () => PulseHandshake(static o => Monitor.PulseAll(o)),
    };

    private static bool IsWaiting(Thread t) => (t.ThreadState & System.Threading.ThreadState.WaitSleepJoin) != 0;

    // ---- System.Threading.Lock: EnterAndGetCurrentThreadId / Exit(ThreadId) ----
    private static delegate*<Lock, uint> s_lockEnter;
    private static delegate*<Lock, uint, void> s_lockExit;

    private static uint LockEnterReplacement(Lock l)
    {
        Hit();
        return s_lockEnter(l);
    }

    private static void LockExitReplacement(Lock l, uint threadId) => s_lockExit(l, threadId);

    private static Case LockType()
    {
        var threadId = typeof(Lock).GetNestedType("ThreadId", BindingFlags.NonPublic) ?? throw new MissingMemberException("Lock.ThreadId");
        return new()
        {
            Name = "lock",
            Detours =
            [
                (M(typeof(Lock), "EnterAndGetCurrentThreadId"), R(nameof(LockEnterReplacement)), p => s_lockEnter = (delegate*<Lock, uint>)p),
                (M(typeof(Lock), "Exit", threadId), R(nameof(LockExitReplacement)), p => s_lockExit = (delegate*<Lock, uint, void>)p),
            ],
            Before = [MethodImpl(MethodImplOptions.NoInlining)] static () => { lock (s_lock) { s_counter++; } },
            AfterOptimized = [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)] static () => { lock (s_lock) { s_counter++; } },
            HotWithoutOriginal = false,
            Call = static () => { lock (s_lock) { s_counter++; } },
            Original = static () => AssertExclusion(static () => { lock (s_lock) { s_counter++; } }),
            AfterRace = static made => Interlocked.Read(ref s_counter) == made ? null : $"locked counter {s_counter} != calls {made}",
        };
    }
}

internal static partial class Cases
{
    internal static void ResetCounter() => Interlocked.Exchange(ref s_counter, 0);
}
