using System.Runtime.InteropServices;
using Evergreen.Detours.Linux;
using static Evergreen.Detours.Child.Probe;

namespace Evergreen.Detours.Child;

/// <summary>The world stop on hand-made code, where the stopped thread's position is known exactly.</summary>
internal static unsafe class WorldStopScenarios
{
    // int spin(int* counter): +0 nop; +1 lock inc dword [rdi]; +4 jmp +1. At +32: mov eax, 42; ret.
    private static readonly byte[] s_spin = [0x90, 0xF0, 0xFF, 0x07, 0xEB, 0xFB];
    private static readonly byte[] s_escape = [0xB8, 42, 0, 0, 0, 0xC3];

    // What replaces +0..+5: mov eax, 7; ret. Executed from +1 it is 07 00 00 00 C3 (invalid in 64-bit mode: SIGILL);
    // from +4, 00 C3 (add bl, al) and then whatever follows: the torn stream of issue 9.
    private static readonly byte[] s_replacement = [0xB8, 7, 0, 0, 0, 0xC3];

    /// <summary>
    /// A thread spinning inside the bytes being replaced (at +1 or +4, never at +0 once the counter moved) is moved by
    /// its fixup and returns 42; the next call runs the new bytes and returns 7.
    /// </summary>
    internal static void ThreadInsideTheWriteIsMoved()
    {
        nint page = CodeMemory.AllocateNear(typeof(WorldStopScenarios).TypeHandle.Value);
        s_spin.CopyTo(new Span<byte>((void*)page, s_spin.Length));
        s_escape.CopyTo(new Span<byte>((void*)(page + 32), s_escape.Length));
        CodeMemory.MakeExecutable(page);
        var counter = (int*)NativeMemory.AllocZeroed(sizeof(int));
        var code = (delegate* unmanaged<int*, int>)page;
        int result = 0;
        var spinner = new Thread(() => result = code(counter));
        spinner.Start();
        while (Volatile.Read(ref *counter) == 0)
        {
            Thread.SpinWait(100); // wait until the spinner is inside the loop
        }

        WorldStop.Write([new CodeWrite(page, s_replacement)], [new IpFixup(page + 1, page + 32), new IpFixup(page + 4, page + 32)]);
        spinner.Join();
        Check(result == 42, $"the stopped thread returned {result}, not 42 through its fixup");
        int again = code(counter);
        Check(again == 7, $"a call after the write returned {again}, not 7 from the new bytes");
        Console.WriteLine($"spinner moved after {*counter} rounds; new code returns {again}; signal {WorldStop.Signal}");
    }

    [DllImport("libc", EntryPoint = "pthread_sigmask")]
    private static extern int PthreadSigmask(int how, byte* set, byte* old);

    /// <summary>
    /// A thread that blocks every signal (as glibc does while a thread starts or exits, where it may wait for a lock a
    /// stopped thread holds) does not stall the stop: it is excused once the census reads its SigBlk, and the write
    /// goes ahead. Before the census the write failed after 2 s ("1 thread(s) did not stop").
    /// </summary>
    internal static void ThreadBlockingTheSignalIsExcused()
    {
        using var blocked = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var holdout = new Thread(() =>
        {
            byte* all = stackalloc byte[128];
            new Span<byte>(all, 128).Fill(0xFF);
            Check(PthreadSigmask(0 /* SIG_BLOCK */, all, null) == 0, "pthread_sigmask failed");
            blocked.Set();
            release.Wait();
        });
        holdout.Start();
        blocked.Wait();
        nint page = CodeMemory.AllocateNear(typeof(WorldStopScenarios).TypeHandle.Value);
        CodeMemory.MakeExecutable(page);
        WorldStop.Write([new CodeWrite(page, [0xC3])], []);
        Check(*(byte*)page == 0xC3, "the write did not happen");
        release.Set();
        holdout.Join();
        Console.WriteLine("a thread blocking every signal was excused; the write went ahead");
    }
}
