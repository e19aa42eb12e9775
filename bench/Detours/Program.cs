using System.Collections;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.CompilerServices;
using Evergreen.Detours;

namespace Evergreen.Bench.Detours;

/// <summary>
/// Two figures for issue 3, as TSV <c>bench system param metric value</c>: the cost a detour adds to a call whose
/// replacement immediately calls the original, and the time to apply the monkey-patch target set as one batch.
/// Plain Stopwatch loops, best of 5; run with <c>dotnet run -c Release --project bench/Detours</c>.
/// </summary>
internal static unsafe class Program
{
    private const BindingFlags All = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance;
    private const int Calls = 50_000_000;

    private static delegate*<int, int> s_original;
    private static int s_sink;

    // Not a one-instruction body: a tier-1 'x + 1' is 4 bytes, too short for any in-place jump (see docs/detours.md).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int Target(int x) => x < 0 ? Fail() : (x * 3) + (x >> 2) + 1;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int Fail() => throw new ArgumentOutOfRangeException();

    private static int Replacement(int x) => s_original(x);

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static double Loop()
    {
        long t0 = Stopwatch.GetTimestamp();
        int s = 0;
        for (int i = 0; i < Calls; i++)
        {
            s += Target(i);
        }

        s_sink = s;
        return Stopwatch.GetElapsedTime(t0).TotalNanoseconds / Calls;
    }

    private static double Best(Func<double> measure) => Enumerable.Range(0, 5).Select(_ => measure()).Min();

    private static void Main()
    {
        // Warm the target to its final tier so both sides measure optimised code.
        for (int i = 0; i < 3; i++)
        {
            Loop();
            Thread.Sleep(200);
        }

        double plain = Best(Loop);
        var engine = DetourEngine.Default;
        var detour = engine.Prepare(typeof(Program).GetMethod(nameof(Target), All)!, typeof(Program).GetMethod(nameof(Replacement), All)!);
        s_original = (delegate*<int, int>)detour.Original;
        detour.Apply();
        for (int i = 0; i < 3; i++)
        {
            Loop();
            Thread.Sleep(200);
        }

        double detoured = Best(Loop);
        detour.Undo();
        Console.WriteLine($"detour\tgreen\tcall\tns_plain\t{plain:F2}");
        Console.WriteLine($"detour\tgreen\tcall\tns_detoured\t{detoured:F2}");
        Console.WriteLine($"detour\tgreen\tcall\tns_added\t{detoured - plain:F2}");

        // The monkey-patch set: 20 detours (Monitor counts two FCalls, Lock two methods) as one batch.
        var targets = MonkeyPatchSet();
        var batch = targets.Select(t => (t, (MethodInfo)typeof(Replacements).GetMethod(t.Key, All)!)).ToList();
        // Cold: the first batch also JIT-compiles the engine itself (Iced's decoder/encoder, the JIT hook) and the
        // replacements; warm: the same batch applied again after undo (what a second patch set would cost).
        long a0 = Stopwatch.GetTimestamp();
        var applied = engine.ApplyAll(batch.Select(b => (b.t.Value, b.Item2)).ToList());
        double applyMs = Stopwatch.GetElapsedTime(a0).TotalMilliseconds;
        long u0 = Stopwatch.GetTimestamp();
        foreach (var d in applied.Reverse())
        {
            d.Undo();
        }

        double undoMs = Stopwatch.GetElapsedTime(u0).TotalMilliseconds;
        long w0 = Stopwatch.GetTimestamp();
        foreach (var d in applied)
        {
            d.Apply();
        }

        double warmMs = Stopwatch.GetElapsedTime(w0).TotalMilliseconds;
        foreach (var d in applied.Reverse())
        {
            d.Undo();
        }

        Console.WriteLine($"detour\tgreen\tmonkeypatch-set\ttargets\t{applied.Count}");
        Console.WriteLine($"detour\tgreen\tmonkeypatch-set\tapply_ms\t{applyMs:F1}");
        Console.WriteLine($"detour\tgreen\tmonkeypatch-set\treapply_warm_ms\t{warmMs:F1}");
        Console.WriteLine($"detour\tgreen\tmonkeypatch-set\tundo_ms\t{undoMs:F1}");
    }

    private static List<KeyValuePair<string, MethodBase>> MonkeyPatchSet()
    {
        static MethodInfo M(Type t, string n, params Type[] p) => t.GetMethod(n, All, null, p, null)!;
        var threadId = typeof(Lock).GetNestedType("ThreadId", BindingFlags.NonPublic)!;
        return new()
        {
            new("SleepInt", M(typeof(Thread), "Sleep", typeof(int))),
            new("SleepSpan", M(typeof(Thread), "Sleep", typeof(TimeSpan))),
            new("Yield", M(typeof(Thread), "Yield")),
            new("Start", M(typeof(Thread), "Start")),
            new("Join", M(typeof(Thread), "Join")),
            new("TryEnter", M(typeof(Monitor), "TryEnter_FastPath", typeof(object))),
            new("Exit", M(typeof(Monitor), "Exit_FastPath", typeof(object))),
            new("Wait", M(typeof(Monitor), "Wait", typeof(object), typeof(int))),
            new("Pulse", M(typeof(Monitor), "Pulse", typeof(object))),
            new("PulseAll", M(typeof(Monitor), "PulseAll", typeof(object))),
            new("LockEnter", M(typeof(Lock), "EnterAndGetCurrentThreadId")),
            new("LockExit", M(typeof(Lock), "Exit", threadId)),
            new("Accept", M(typeof(Socket), "Accept")),
            new("Connect", M(typeof(Socket), "Connect", typeof(EndPoint))),
            new("Send", M(typeof(Socket), "Send", typeof(ReadOnlySpan<byte>), typeof(SocketFlags), typeof(SocketError).MakeByRefType())),
            new("Receive", M(typeof(Socket), "Receive", typeof(Span<byte>), typeof(SocketFlags), typeof(SocketError).MakeByRefType())),
            new("SendTo", M(typeof(Socket), "SendTo", typeof(byte[]), typeof(int), typeof(int), typeof(SocketFlags), typeof(EndPoint))),
            new("ReceiveFrom", M(typeof(Socket), "ReceiveFrom", typeof(byte[]), typeof(int), typeof(int), typeof(SocketFlags), typeof(EndPoint).MakeByRefType())),
            new("Poll", M(typeof(Socket), "Poll", typeof(int), typeof(SelectMode))),
            new("Select", M(typeof(Socket), "Select", typeof(IList), typeof(IList), typeof(IList), typeof(int))),
        };
    }

    /// <summary>Replacements for the batch timing; they are undone before anything calls them, except Monitor's,
    /// which must work at once, so those two call straight back into the trampoline the engine built.</summary>
    private static class Replacements
    {
        internal static void SleepInt(int ms) => throw new InvalidOperationException();

        internal static void SleepSpan(TimeSpan t) => throw new InvalidOperationException();

        internal static bool Yield() => false;

        internal static void Start(Thread t) => throw new InvalidOperationException();

        internal static void Join(Thread t) => throw new InvalidOperationException();

        // Unused: the benchmark uses Monitor only from its own thread before/after, never while applied.
        internal static bool TryEnter(object o) => false;

        internal static int Exit(object o) => 0;

        internal static bool Wait(object o, int ms) => false;

        internal static void Pulse(object o)
        {
        }

        internal static void PulseAll(object o)
        {
        }

        internal static uint LockEnter(Lock l) => 0;

        internal static void LockExit(Lock l, uint id)
        {
        }

        internal static Socket Accept(Socket s) => null!;

        internal static void Connect(Socket s, EndPoint e)
        {
        }

        internal static int Send(Socket s, ReadOnlySpan<byte> b, SocketFlags f, out SocketError e) => throw new InvalidOperationException();

        internal static int Receive(Socket s, Span<byte> b, SocketFlags f, out SocketError e) => throw new InvalidOperationException();

        internal static int SendTo(Socket s, byte[] b, int o, int c, SocketFlags f, EndPoint e) => 0;

        internal static int ReceiveFrom(Socket s, byte[] b, int o, int c, SocketFlags f, ref EndPoint e) => 0;

        internal static bool Poll(Socket s, int us, SelectMode m) => false;

        internal static void Select(IList? r, IList? w, IList? e, int us)
        {
        }
    }
}
