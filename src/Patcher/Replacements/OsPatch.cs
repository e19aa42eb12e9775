using System.Diagnostics;
using System.IO.Pipes;
using Evergreen.IO;
using Evergreen.IO.Internal;
using Evergreen.Patching.Internal;

namespace Evergreen.Patching.Replacements;

/// <summary>
/// Replacements for the "os" area: waiting for a child process, and its pipes, go through tpool unless the thread or socket
/// area makes them green already (<see cref="WaitsGreenThroughWaitHandles"/>, <see cref="PipesGreenThroughSockets"/>).
/// </summary>
internal static unsafe class OsPatch
{
    // What this file replaces (the patcher applies exactly these rows). Every sync Read/Write of a pipe funnels into
    // PipeStream.ReadCore/WriteCore, so a Process's StandardOutput/StandardError/StandardInput are covered.
    public static readonly PatchRow WaitForExitMsRow = PatchRow.Method(typeof(Process), nameof(Process.WaitForExit), [typeof(int)], typeof(OsPatch), nameof(WaitForExitMs));
    public static readonly PatchRow WaitForExitRow = PatchRow.Method(typeof(Process), nameof(Process.WaitForExit), [], typeof(OsPatch), nameof(WaitForExit));
    public static readonly PatchRow PipeReadCoreRow = PatchRow.Method(typeof(PipeStream), "ReadCore", [typeof(Span<byte>)], typeof(OsPatch), nameof(PipeReadCore));
    public static readonly PatchRow PipeWriteCoreRow = PatchRow.Method(typeof(PipeStream), "WriteCore", [typeof(ReadOnlySpan<byte>)], typeof(OsPatch), nameof(PipeWriteCore));

    public static readonly PatchTable Table = new("os",
        "the wait, and every synchronous read/write of a pipe (a Process's standard streams), runs on a tpool thread while the green caller waits greenly — unless the thread area (the wait: an event's WaitOne) or the socket area (a pipe: its PipeSocket's Receive/Send) already makes it green, when the original runs on the green thread",
        [WaitForExitMsRow, WaitForExitRow, PipeReadCoreRow, PipeWriteCoreRow]);

    // On .NET 10 (linux) PipeStream.ReadCore/WriteCore of every pipe, named or anonymous, is Receive/Send(span,
    // SocketFlags.None) on the handle's PipeSocket, a Socket over the pipe's fd. With the socket area patched that call
    // already parks the green caller on the hub's poller and holds no thread, so the original runs right here. Only
    // without it does a pipe call go through tpool, whose bounded pool a blocked reader holds a thread of for as long as
    // it waits: with 20 readers blocked, the 21st read and the write that would end them all queue behind them, and the
    // program hangs where unpatched it runs (diff-p2-pipes-many-readers, diff-p2-process-readers-first).
    private static bool PipesGreenThroughSockets => SocketPatch.DisposeCoreRow.Original != 0;

    internal static int PipeReadCore(PipeStream pipe, Span<byte> buffer)
    {
        if (!NativeScope.GreenCaller || buffer.Length == 0 || PipesGreenThroughSockets)
            return ((delegate*<PipeStream, Span<byte>, int>)PipeReadCoreRow.Original)(pipe, buffer);
        // A private array, not a pooled one: if the green caller is killed, the native read may still be writing
        // into it on the tpool thread after we return.
        var tmp = new byte[buffer.Length];
        int n = Tpool.Execute(() => ((delegate*<PipeStream, Span<byte>, int>)PipeReadCoreRow.Original)(pipe, tmp));
        tmp.AsSpan(0, n).CopyTo(buffer);
        return n;
    }

    internal static void PipeWriteCore(PipeStream pipe, ReadOnlySpan<byte> buffer)
    {
        if (!NativeScope.GreenCaller || buffer.Length == 0 || PipesGreenThroughSockets)
        {
            ((delegate*<PipeStream, ReadOnlySpan<byte>, void>)PipeWriteCoreRow.Original)(pipe, buffer);
            return;
        }
        var tmp = buffer.ToArray();
        Tpool.Execute(() => ((delegate*<PipeStream, ReadOnlySpan<byte>, void>)PipeWriteCoreRow.Original)(pipe, tmp));
    }

    // A child's exit is a ManualResetEvent the runtime's SIGCHLD handling sets (ProcessWaitState.WaitForExit waits on it;
    // WaitForExit() then waits for the redirected streams' EOF tasks), so with the thread area patched the original
    // waits greenly right here and holds no thread. Through tpool, each waiting green thread held a pool thread until its
    // process ended: 20 such waits left nothing for a 21st, for a timed WaitForExit or for DNS, and a supervisor that
    // resolved a name before telling its workers to quit hung where unpatched it runs (diff-p2-waitforexit-many).
    private static bool WaitsGreenThroughWaitHandles => WaitHandlePatch.WaitOneRow.Original != 0;

    internal static bool WaitForExitMs(Process p, int ms)
    {
        if (!NativeScope.GreenCaller || WaitsGreenThroughWaitHandles) return ((delegate*<Process, int, bool>)WaitForExitMsRow.Original)(p, ms);
        return Tpool.Execute(() => { using (NativeScope.Enter()) return ((delegate*<Process, int, bool>)WaitForExitMsRow.Original)(p, ms); });
    }

    internal static void WaitForExit(Process p)
    {
        if (!NativeScope.GreenCaller || WaitsGreenThroughWaitHandles)
        {
            ((delegate*<Process, void>)WaitForExitRow.Original)(p);
            return;
        }
        Tpool.Execute(() => { using (NativeScope.Enter()) ((delegate*<Process, void>)WaitForExitRow.Original)(p); });
    }
}
