using System.Diagnostics;
using System.IO.Pipes;
using System.Reflection;
using Evergreen.IO;
using Evergreen.Patching.Internal;

namespace Evergreen.Patching.Green;

/// <summary>Replacements for the "os" area: waiting for a child process, and its pipes, go through tpool.</summary>
internal static unsafe class OsPatch
{
    // What this file replaces:
    //   Process.WaitForExit(int)  → the wait runs on a tpool thread while the green caller waits greenly
    //   Process.WaitForExit()     → same, without a timeout
    //   PipeStream.ReadCore(Span<byte>) / WriteCore(ReadOnlySpan<byte>)  (every sync Read/Write of a pipe funnels here,
    //     so a Process's StandardOutput/StandardError/StandardInput) → the blocking read/write runs on a tpool thread
    public static readonly (MethodBase Target, string Replacement)[] Table =
    [
        (typeof(Process).GetMethod(nameof(Process.WaitForExit), ThreadPatch.All, [typeof(int)])!, nameof(WaitForExitMs)),
        (typeof(Process).GetMethod(nameof(Process.WaitForExit), ThreadPatch.All, Type.EmptyTypes)!, nameof(WaitForExit)),
        (typeof(PipeStream).GetMethod("ReadCore", ThreadPatch.All, [typeof(Span<byte>)])!, nameof(PipeReadCore)),
        (typeof(PipeStream).GetMethod("WriteCore", ThreadPatch.All, [typeof(ReadOnlySpan<byte>)])!, nameof(PipeWriteCore)),
    ];

    internal static delegate*<Process, int, bool> s_waitMs;
    internal static delegate*<Process, void> s_wait;
    internal static delegate*<PipeStream, Span<byte>, int> s_pipeRead;
    internal static delegate*<PipeStream, ReadOnlySpan<byte>, void> s_pipeWrite;

    internal static int PipeReadCore(PipeStream pipe, Span<byte> buffer)
    {
        if (PassThrough.Native || buffer.Length == 0) return s_pipeRead(pipe, buffer);
        // A private array, not a pooled one: if the green caller is killed, the native read may still be writing
        // into it on the tpool thread after we return.
        var tmp = new byte[buffer.Length];
        int n = Tpool.Execute(() => s_pipeRead(pipe, tmp));
        tmp.AsSpan(0, n).CopyTo(buffer);
        return n;
    }

    internal static void PipeWriteCore(PipeStream pipe, ReadOnlySpan<byte> buffer)
    {
        if (PassThrough.Native || buffer.Length == 0) { s_pipeWrite(pipe, buffer); return; }
        var tmp = buffer.ToArray();
        Tpool.Execute(() => s_pipeWrite(pipe, tmp));
    }

    internal static bool WaitForExitMs(Process p, int ms)
    {
        if (PassThrough.Native) return s_waitMs(p, ms);
        return Tpool.Execute(() => { using (PassThrough.Enter()) return s_waitMs(p, ms); });
    }

    internal static void WaitForExit(Process p)
    {
        if (PassThrough.Native) { s_wait(p); return; }
        Tpool.Execute(() => { using (PassThrough.Enter()) s_wait(p); });
    }

    internal static void Bind(string replacement, nint original)
    {
        switch (replacement)
        {
            case nameof(WaitForExitMs): s_waitMs = (delegate*<Process, int, bool>)original; break;
            case nameof(WaitForExit): s_wait = (delegate*<Process, void>)original; break;
            case nameof(PipeReadCore): s_pipeRead = (delegate*<PipeStream, Span<byte>, int>)original; break;
            case nameof(PipeWriteCore): s_pipeWrite = (delegate*<PipeStream, ReadOnlySpan<byte>, void>)original; break;
            default: throw new ArgumentException("unknown replacement " + replacement);
        }
    }
}
