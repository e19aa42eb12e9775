using System.Runtime.CompilerServices;

namespace Evergreen.Detours.Child;

/// <summary>What every replacement reports: per-thread hits (assertions run on the calling thread) and a global total.</summary>
internal static class Probe
{
    [ThreadStatic] private static long t_hits;
    [ThreadStatic] private static bool t_seen;
    private static long s_total;

    /// <summary>When false, replacements return a default without calling the original (cheap hot loops).</summary>
    internal static volatile bool PassThrough = true;

    internal static long ThreadHits => t_hits;

    internal static long Total => Interlocked.Read(ref s_total);

    internal static bool Seen
    {
        get => t_seen;
        set => t_seen = value;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Hit()
    {
        t_hits++;
        t_seen = true;
        Interlocked.Increment(ref s_total);
    }

    internal static void Check(bool condition, string message)
    {
        if (!condition)
        {
            throw new ScenarioFailedException(message);
        }
    }
}

internal sealed class ScenarioFailedException(string message) : Exception(message);
