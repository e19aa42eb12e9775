using System.Reflection;
using System.Runtime.CompilerServices;

namespace Evergreen.Detours.Runtime;

/// <summary>
/// The not-inline bit of a CoreCLR MethodDesc. Setting it before patching keeps callers compiled later from inlining
/// the target (measured: <c>Thread.Yield</c> was inlined into a caller compiled after the patch, 0 hits). Callers
/// compiled before keep whatever they inlined.
/// </summary>
/// <remarks>.NET 10 layout: <c>m_wFlags</c> (ushort) at +6 of the MethodDesc, <c>mdfNotInline = 0x2000</c>.
/// <see cref="Verify"/> checks it against methods whose answer is known; the engine fails closed if it does not hold.</remarks>
internal static unsafe class MethodDescFlags
{
    internal const int FlagsOffset = 6;
    internal const ushort NotInline = 0x2000;

    /// <summary>True when the known-NoInlining method has the bit and the plain one does not.</summary>
    internal static bool Verify()
    {
        var flags = typeof(MethodDescFlags);
        var marked = flags.GetMethod(nameof(KnownNotInline), BindingFlags.NonPublic | BindingFlags.Static)!;
        var plain = flags.GetMethod(nameof(KnownInlinable), BindingFlags.NonPublic | BindingFlags.Static)!;
        return (Read(marked.MethodHandle) & NotInline) != 0 && (Read(plain.MethodHandle) & NotInline) == 0;
    }

    internal static ushort Read(RuntimeMethodHandle method) => *(ushort*)((byte*)method.Value + FlagsOffset);

    /// <summary>Sets the bit; returns whether it was already set.</summary>
    internal static bool SetNotInline(RuntimeMethodHandle method) => Update(method, set: true);

    /// <summary>Clears the bit; returns whether it was set.</summary>
    internal static bool ClearNotInline(RuntimeMethodHandle method) => Update(method, set: false);

    private static bool Update(RuntimeMethodHandle method, bool set)
    {
        // The runtime updates other bits of this word concurrently: OR/AND the aligned dword at +4 with a CAS.
        int* word = (int*)((byte*)method.Value + FlagsOffset - 2);
        const int Bit = NotInline << 16;
        while (true)
        {
            int old = Volatile.Read(ref *word);
            int updated = set ? old | Bit : old & ~Bit;
            if (Interlocked.CompareExchange(ref *word, updated, old) == old)
            {
                return (old & Bit) != 0;
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int KnownNotInline(int x) => x + 1;

    private static int KnownInlinable(int x) => x + 2;
}
