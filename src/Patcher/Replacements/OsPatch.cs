using System.Diagnostics;
using System.IO.Pipes;
using Evergreen.IO;
using Evergreen.IO.Internal;
using Evergreen.Patching.Internal;

namespace Evergreen.Patching.Replacements;

/// <summary>Replacements for the "os" area: waiting for a child process, and its pipes, go through tpool.</summary>
internal static unsafe class OsPatch
{
    // What this file replaces (the patcher applies exactly these rows). Every sync Read/Write of a pipe funnels into
    // PipeStream.ReadCore/WriteCore, so a Process's StandardOutput/StandardError/StandardInput are covered.
    public static readonly PatchRow WaitForExitMsRow = PatchRow.Method(typeof(Process), nameof(Process.WaitForExit), [typeof(int)], typeof(OsPatch), nameof(WaitForExitMs));
    public static readonly PatchRow WaitForExitRow = PatchRow.Method(typeof(Process), nameof(Process.WaitForExit), [], typeof(OsPatch), nameof(WaitForExit));
    public static readonly PatchRow PipeReadCoreRow = PatchRow.Method(typeof(PipeStream), "ReadCore", [typeof(Span<byte>)], typeof(OsPatch), nameof(PipeReadCore));
    public static readonly PatchRow PipeWriteCoreRow = PatchRow.Method(typeof(PipeStream), "WriteCore", [typeof(ReadOnlySpan<byte>)], typeof(OsPatch), nameof(PipeWriteCore));

    public static readonly PatchTable Table = new("os",
        "the wait, and every synchronous read/write of a pipe (a Process's standard streams), runs on a tpool thread while the green caller waits greenly",
        [WaitForExitMsRow, WaitForExitRow, PipeReadCoreRow, PipeWriteCoreRow]);

    internal static int PipeReadCore(PipeStream pipe, Span<byte> buffer)
    {
        if (!NativeScope.GreenCaller || buffer.Length == 0) return ((delegate*<PipeStream, Span<byte>, int>)PipeReadCoreRow.Original)(pipe, buffer);
        // A private array, not a pooled one: if the green caller is killed, the native read may still be writing
        // into it on the tpool thread after we return.
        var tmp = new byte[buffer.Length];
        int n = Tpool.Execute(() => ((delegate*<PipeStream, Span<byte>, int>)PipeReadCoreRow.Original)(pipe, tmp));
        tmp.AsSpan(0, n).CopyTo(buffer);
        return n;
    }

    internal static void PipeWriteCore(PipeStream pipe, ReadOnlySpan<byte> buffer)
    {
        if (!NativeScope.GreenCaller || buffer.Length == 0) { ((delegate*<PipeStream, ReadOnlySpan<byte>, void>)PipeWriteCoreRow.Original)(pipe, buffer); return; }
        var tmp = buffer.ToArray();
        Tpool.Execute(() => ((delegate*<PipeStream, ReadOnlySpan<byte>, void>)PipeWriteCoreRow.Original)(pipe, tmp));
    }

    internal static bool WaitForExitMs(Process p, int ms)
    {
        if (!NativeScope.GreenCaller) return ((delegate*<Process, int, bool>)WaitForExitMsRow.Original)(p, ms);
        return Tpool.Execute(() => { using (NativeScope.Enter()) return ((delegate*<Process, int, bool>)WaitForExitMsRow.Original)(p, ms); });
    }

    internal static void WaitForExit(Process p)
    {
        if (!NativeScope.GreenCaller) { ((delegate*<Process, void>)WaitForExitRow.Original)(p); return; }
        Tpool.Execute(() => { using (NativeScope.Enter()) ((delegate*<Process, void>)WaitForExitRow.Original)(p); });
    }
}
