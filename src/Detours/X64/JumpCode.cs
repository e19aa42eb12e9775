using System.Buffers.Binary;
using Evergreen.Detours.Linux;

namespace Evergreen.Detours.X64;

/// <summary>The jumps the engine writes.</summary>
internal static class JumpCode
{
    /// <summary><c>mov rax, imm64; jmp rax</c>. rax is free at a method's entry (not an argument register in the managed
    /// or SysV convention; the precode's hidden argument travels in r10/r11, which this does not touch).</summary>
    internal const int AbsoluteLength = 12;

    /// <summary><c>jmp rel32</c>, used when the function is shorter than <see cref="AbsoluteLength"/>; it goes to a relay
    /// (<c>jmp [rip+0]; dq target</c>) in a page within ±2 GB.</summary>
    internal const int RelativeLength = 5;

    /// <summary><c>jmp qword [rip+0]; dq target</c>.</summary>
    internal const int IndirectLength = 14;

    internal static void WriteAbsolute(Span<byte> code, nint target)
    {
        code[0] = 0x48;
        code[1] = 0xB8;
        BinaryPrimitives.WriteInt64LittleEndian(code[2..], target);
        code[10] = 0xFF;
        code[11] = 0xE0;
    }

    internal static bool IsAbsolute(ReadOnlySpan<byte> code)
        => code.Length >= AbsoluteLength && code[0] == 0x48 && code[1] == 0xB8 && code[10] == 0xFF && code[11] == 0xE0;

    /// <summary>
    /// Where a thread can be stopped inside a jump this class wrote at <paramref name="at"/>, and where it must go when
    /// the jump is overwritten: after <c>mov rax, target</c> only <c>jmp rax</c> is left, so it goes to the target.
    /// </summary>
    internal static IEnumerable<IpFixup> InteriorFixups(nint at, ReadOnlySpan<byte> code, nint target)
        => IsAbsolute(code) ? [new IpFixup(at + 10, target)] : [];

    internal static void WriteRelative(Span<byte> code, nint at, nint target)
    {
        long rel = (long)target - ((long)at + RelativeLength);
        if (rel != (int)rel)
        {
            throw new InvalidOperationException("rel32 jump out of range");
        }

        code[0] = 0xE9;
        BinaryPrimitives.WriteInt32LittleEndian(code[1..], (int)rel);
    }

    internal static void WriteIndirect(Span<byte> code, nint target)
    {
        code[0] = 0xFF;
        code[1] = 0x25;
        BinaryPrimitives.WriteInt32LittleEndian(code[2..], 0);
        BinaryPrimitives.WriteInt64LittleEndian(code[6..], target);
    }
}
