namespace Evergreen.Internal;

/// <summary>
/// The hub's PRNG for seeded scheduling: SplitMix64 (Steele, Lea, Flood 2014), chosen because its stream is fixed by
/// its definition — <see cref="Random"/>'s seeded algorithm is an implementation detail that may change between
/// runtimes, and a seed must name the same schedule on every machine. The baton holder only.
/// </summary>
internal sealed class ScheduleRandom(ulong seed)
{
    private ulong _state = seed;

    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, <paramref name="n"/>) (n &gt; 0); the modulo bias is below 2^-32 for any run queue.</summary>
    public int Next(int n) => (int)(NextUInt64() % (ulong)n);

    /// <summary>Shuffles <paramref name="items"/> in place (Fisher–Yates).</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
