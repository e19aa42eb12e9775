using System.Runtime.InteropServices;
using Iced.Intel;

namespace Evergreen.Detours.Runtime;

/// <summary>
/// Follows a method's entry point through the runtime's stubs to the code body. Patch the body: writing into a
/// FixupPrecode segfaulted (probe q4), and the precode is retargeted by the runtime at every tier-up anyway.
/// </summary>
internal static unsafe class StubWalker
{
    private const int MaxHops = 8;

    /// <summary>Returns the body reached from <paramref name="entry"/>.</summary>
    /// <param name="entry">The method's entry point (<see cref="RuntimeMethodHandle.GetFunctionPointer"/>).</param>
    /// <param name="isOurs">Recognises a body we patched: the walk stops there instead of following our own jump
    /// (following it once re-patched the replacement and hung the probe).</param>
    internal static nint FindBody(nint entry, Func<nint, bool> isOurs)
    {
        nint at = entry;
        for (int hop = 0; hop < MaxHops; hop++)
        {
            if (isOurs(at))
            {
                return at;
            }

            var bytes = new byte[32];
            Marshal.Copy(at, bytes, 0, bytes.Length);
            var decoder = Decoder.Create(64, new ByteArrayCodeReader(bytes), (ulong)at);
            decoder.Decode(out var first);
            nint next = 0;
            if (first.Mnemonic == Mnemonic.Jmp && first.Op0Kind == OpKind.NearBranch64)
            {
                next = (nint)first.NearBranchTarget;                                   // jmp rel32
            }
            else if (first.Mnemonic == Mnemonic.Jmp && first.IsIPRelativeMemoryOperand)
            {
                next = *(nint*)first.IPRelativeMemoryAddress;                          // FixupPrecode: jmp [rip+x]
            }
            else if (first.Mnemonic == Mnemonic.Mov && first.IsIPRelativeMemoryOperand)
            {
                // Call-counting stub: mov rax,[rip+x]; dec word [rax]; je ...; jmp [rip+y] -> the counted code.
                decoder.Decode(out var dec);
                decoder.Decode(out _);
                decoder.Decode(out var jmp);
                if (dec.Mnemonic == Mnemonic.Dec && jmp.Mnemonic == Mnemonic.Jmp && jmp.IsIPRelativeMemoryOperand)
                {
                    next = *(nint*)jmp.IPRelativeMemoryAddress;
                }
            }

            if (next == 0)
            {
                return at;
            }

            at = next;
        }

        throw new InvalidOperationException($"more than {MaxHops} stubs from entry 0x{entry:X}");
    }
}
