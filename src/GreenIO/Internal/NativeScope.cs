namespace Evergreen.IO.Internal;

/// <summary>
/// A per-thread "act natively" depth. While it is above zero, the green socket functions behave as on a thread that
/// is not green (plain blocking BCL calls). The monkey patch's <c>Patcher.Original(...)</c> facades enter it.
/// </summary>
internal static class NativeScope
{
    [ThreadStatic] private static int t_depth;

    /// <summary>True inside a native scope on this thread.</summary>
    public static bool Active => t_depth != 0;

    /// <summary>True when the caller should act greenly: a green thread outside any native scope.</summary>
    public static bool GreenCaller => t_depth == 0 && Hub.IsGreenThread;

    public static void Enter() => t_depth++;

    public static void Exit() => t_depth--;
}
