using Evergreen.IO.Internal;

namespace Evergreen.Patching.Internal;

/// <summary>
/// A per-thread "go native" scope: inside it every replacement on this thread calls the original. It is GreenIO's
/// <see cref="NativeScope"/>, so the green socket functions honour it too. <see cref="Patcher.Original(string)"/>'s
/// facades use it, and so do the Monitor hooks around their own non-blocking attempts (the hook runs for every lock
/// in the process, including the ones it takes itself).
/// </summary>
internal static class PassThrough
{
    /// <summary>True when replacements on this thread must call the original: not a green thread, or inside a native scope.</summary>
    public static bool Native => !NativeScope.GreenCaller;

    public static Scope Enter()
    {
        NativeScope.Enter();
        return default;
    }

    /// <summary>Leaves the scope begun by <see cref="Enter"/>.</summary>
    public readonly struct Scope : IDisposable
    {
        public void Dispose() => NativeScope.Exit();
    }
}
