using Evergreen.Detours.Platform;

namespace Evergreen.Detours;

/// <summary>The built-in detour engine.</summary>
public static class DetourEngine
{
    private static BodyDetourEngine? s_default;
    private static PlatformNotSupportedException? s_failure;
    private static readonly object s_initGate = new();

    /// <summary>
    /// The process-wide engine for .NET 10 CoreCLR on linux-x64. The first access runs the start-up
    /// self-checks (runtime version, MethodDesc flag layout, JIT-EE GUID, JIT hook self-test) and installs the
    /// JIT hook; nothing of a target is written until a detour is applied.
    /// </summary>
    /// <exception cref="PlatformNotSupportedException">Not .NET 10 CoreCLR on linux-x64, or a self-check failed
    /// (then nothing has been written and every later access throws the same).</exception>
    public static IDetourEngine Default
    {
        get
        {
            if (Volatile.Read(ref s_default) is { } engine)
            {
                return engine;
            }

            // Only taken before any detour exists, so this lock never passes through a patched Monitor.
            lock (s_initGate)
            {
                if (s_failure is not null)
                {
                    throw new PlatformNotSupportedException(s_failure.Message, s_failure);
                }

                try
                {
                    s_default ??= BodyDetourEngine.Create();
                }
                catch (PlatformNotSupportedException e)
                {
                    s_failure = e;
                    throw;
                }

                return s_default;
            }
        }
    }

    /// <summary>Whether <see cref="Default"/> can work here (platform only; the self-checks run on first use).</summary>
    public static bool IsPlatformSupported => PlatformGuard.GetUnsupportedReason(PlatformGuard.Current) is null;
}
