using System.Diagnostics;
using System.Reflection;
using Evergreen.IO;
using Evergreen.Patching.Internal;

namespace Evergreen.Patching.Green;

/// <summary>Replacements for the "os" area: waiting for a child process goes through tpool.</summary>
internal static unsafe class OsPatch
{
    // What this file replaces:
    //   Process.WaitForExit(int)  → the wait runs on a tpool thread while the green caller waits greenly
    //   Process.WaitForExit()     → same, without a timeout
    // Not replaced (documented in README): pipe streams of a Process (StandardOutput reads block the hub).
    public static readonly (MethodBase Target, string Replacement)[] Table =
    [
        (typeof(Process).GetMethod(nameof(Process.WaitForExit), ThreadPatch.All, [typeof(int)])!, nameof(WaitForExitMs)),
        (typeof(Process).GetMethod(nameof(Process.WaitForExit), ThreadPatch.All, Type.EmptyTypes)!, nameof(WaitForExit)),
    ];

    internal static delegate*<Process, int, bool> s_waitMs;
    internal static delegate*<Process, void> s_wait;

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
        if (replacement == nameof(WaitForExitMs)) s_waitMs = (delegate*<Process, int, bool>)original;
        else s_wait = (delegate*<Process, void>)original;
    }
}
