namespace Evergreen.IO.Internal;

/// <summary>
/// A per-thread "act natively" depth: inside it, on a green thread too, the green socket functions and every
/// replacement of the monkey patch call the un-patched original and block the OS thread (DESIGN.md §6, "native by
/// choice"). <c>Patcher.Original(...)</c>'s facades enter it, and so do the patcher's hooks around their own calls of
/// what they patch (the Monitor hook runs for every lock in the process, its own included).
/// </summary>
internal static class NativeScope
{
    [ThreadStatic] private static int t_depth;

    /// <summary>True when the caller should act greenly: a green thread outside any native scope.</summary>
    public static bool GreenCaller => t_depth == 0 && Hub.IsGreenThread;

    /// <summary>Enters the scope on this thread: <c>using (NativeScope.Enter()) { ... }</c>.</summary>
    public static Scope Enter()
    {
        t_depth++;
        return default;
    }

    /// <summary>Leaves the scope begun by <see cref="Enter"/>.</summary>
    public readonly struct Scope : IDisposable
    {
        public void Dispose() => t_depth--;
    }
}
