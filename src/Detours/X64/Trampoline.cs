using Evergreen.Detours.Linux;
using Iced.Intel;

namespace Evergreen.Detours.X64;

/// <summary>
/// The page that makes a body detour possible: the relocated prologue of the original code followed by a jump back
/// (what <see cref="IDetour.Original"/> points at), and, for functions too short for a 12-byte jump, a relay that the
/// 5-byte <c>jmp rel32</c> written into the body goes through. Allocated within ±2 GB of the body so that relocated
/// RIP-relative operands and the rel32 jump reach; written RW, then flipped to RX and never written again.
/// </summary>
internal sealed class Trampoline
{
    private const int RelayOffset = 128;

    private Trampoline(nint page, nint original, int patchLength, byte[] patch, IpFixup[] entryFixups)
    {
        Page = page;
        Original = original;
        PatchLength = patchLength;
        Patch = patch;
        EntryFixups = entryFixups;
    }

    /// <summary>The RX page holding the trampoline (never freed once a detour may have used it).</summary>
    internal nint Page { get; }

    /// <summary>Entry of the relocated original code.</summary>
    internal nint Original { get; }

    /// <summary>Bytes of the body the patch overwrites.</summary>
    internal int PatchLength { get; }

    /// <summary>The bytes to write at the body's entry.</summary>
    internal byte[] Patch { get; }

    /// <summary>
    /// For each original instruction that starts inside the patched bytes (after the first): its address, and the
    /// address of its relocated copy here. A thread stopped there while the patch is written resumes in the copy.
    /// </summary>
    internal IpFixup[] EntryFixups { get; }

    // Boundaries: (offset in the body, index of the first relocated instruction) for each original instruction moved.
    private readonly record struct Cover(int PatchLength, int Copied, List<Instruction> Instructions, bool EndsInTransfer,
        List<(int Offset, int Index)> Boundaries);

    private static Cover? TryCover(CodeScanner.Function function, nint body, int patchLength, bool allowCall, ref string? why)
    {
        var moved = new List<Instruction>();
        var boundaries = new List<(int Offset, int Index)>();
        int copied = 0;
        bool endsInTransfer = false;
        foreach (var ins in function.Instructions)
        {
            if (copied >= patchLength)
            {
                break;
            }

            boundaries.Add((copied, moved.Count));
            copied += ins.Length;
            endsInTransfer = ins.FlowControl is FlowControl.Return or FlowControl.UnconditionalBranch or FlowControl.IndirectBranch;
            if (ins.FlowControl is FlowControl.Call or FlowControl.IndirectCall)
            {
                // A relocated call would leave a return address inside the trampoline, which no unwinder can walk.
                // Only a call that is the last relocated instruction can be emulated: push the address after it in the
                // ORIGINAL body, then jump to the callee. The callee sees exactly the stack the original call builds and
                // returns into the original body, past the patch.
                if (!allowCall || copied < patchLength)
                {
                    why = $"a call at +{ins.IP - (ulong)body} lies in the first {patchLength} bytes";
                    return null;
                }

                moved.AddRange(EmulateCall(ins));
                endsInTransfer = true;
                continue;
            }

            moved.Add(ins);
        }

        if (copied < patchLength)
        {
            why = $"could not cover {patchLength} bytes with whole instructions";
            return null;
        }

        // Code that jumps back into the copied range would land inside our jump (or re-enter the detour at +0).
        foreach (ulong t in function.BranchTargets)
        {
            if (t >= (ulong)body && t < (ulong)body + (ulong)copied)
            {
                why = $"a branch targets +{t - (ulong)body}, inside the {copied} bytes a {patchLength}-byte patch relocates";
                return null;
            }
        }

        return new Cover(patchLength, copied, moved, endsInTransfer, boundaries);
    }

    private static IEnumerable<Instruction> EmulateCall(Instruction call)
    {
        ulong returnAddress = call.NextIP;
        // lea keeps the flags, mov imm32 stores the two halves: no register is touched (r10/r11 may carry hidden arguments).
        yield return Instruction.Create(Code.Lea_r64_m, Register.RSP, new MemoryOperand(Register.RSP, -8));
        yield return Instruction.Create(Code.Mov_rm32_imm32, new MemoryOperand(Register.RSP), (uint)returnAddress);
        yield return Instruction.Create(Code.Mov_rm32_imm32, new MemoryOperand(Register.RSP, 4), (uint)(returnAddress >> 32));
        if (call.Op0Kind is OpKind.NearBranch64 or OpKind.NearBranch32)
        {
            yield return Instruction.CreateBranch(Code.Jmp_rel32_64, call.NearBranchTarget);
        }
        else if (call.Op0Kind == OpKind.Memory && call.IsIPRelativeMemoryOperand)
        {
            yield return Instruction.Create(Code.Jmp_rm64, new MemoryOperand(Register.RIP, (long)call.IPRelativeMemoryAddress));
        }
        else if (call.Op0Kind == OpKind.Register)
        {
            yield return Instruction.Create(Code.Jmp_rm64, call.Op0Register);
        }
        else
        {
            var jump = call;
            jump.Code = Code.Jmp_rm64;
            yield return jump;
        }
    }

    /// <summary>Builds the trampoline for <paramref name="body"/> redirecting to <paramref name="destination"/>.</summary>
    /// <exception cref="InvalidOperationException">The body cannot be patched safely; the message says why.</exception>
    internal static unsafe Trampoline Build(nint body, nint destination, int readable)
    {
        var function = CodeScanner.Scan(body, readable);
        int functionLength = (int)(function.End - function.Start);
        if (functionLength < JumpCode.RelativeLength)
        {
            throw new InvalidOperationException($"function is {functionLength} bytes, shorter than a 5-byte jump");
        }

        // Prefer the 12-byte jump, then the 5-byte one; prefer a prologue without calls, then one whose only call is
        // the last relocated instruction (emulated so that it returns into the original body, see Cover).
        string? why = null;
        Cover? chosen = null;
        foreach (bool allowCall in new[] { false, true })
        {
            foreach (int length in new[] { JumpCode.AbsoluteLength, JumpCode.RelativeLength })
            {
                if (chosen is null && length <= functionLength)
                {
                    chosen = TryCover(function, body, length, allowCall, ref why);
                }
            }
        }

        if (chosen is not { } cover)
        {
            throw new InvalidOperationException(why ?? "no safe patch length");
        }

        int patchLength = cover.PatchLength;
        int copied = cover.Copied;
        var moved = cover.Instructions;
        bool endsInTransfer = cover.EndsInTransfer;

        nint page = CodeMemory.AllocateNear(body);
        try
        {
            var writer = new PointerCodeWriter(page, RelayOffset);
            var block = new InstructionBlock(writer, moved, (ulong)page);
            if (!BlockEncoder.TryEncode(64, block, out string? error, out var encoded, BlockEncoderOptions.ReturnNewInstructionOffsets))
            {
                throw new InvalidOperationException($"relocating the prologue failed: {error}");
            }

            var entryFixups = new List<IpFixup>();
            foreach (var (offset, index) in cover.Boundaries)
            {
                if (offset == 0 || offset >= patchLength)
                {
                    continue; // +0 runs the new jump; bytes past the patch are not written
                }

                uint relocated = encoded.NewInstructionOffsets[index];
                if (relocated == uint.MaxValue)
                {
                    throw new InvalidOperationException($"the relocated copy of the instruction at +{offset} has no known address");
                }

                entryFixups.Add(new IpFixup(body + offset, page + (nint)relocated));
            }

            var span = new Span<byte>((void*)page, CodeMemory.PageSize);
            if (!endsInTransfer)
            {
                JumpCode.WriteIndirect(span[writer.Length..], body + copied);
            }

            var patch = new byte[patchLength];
            if (patchLength == JumpCode.AbsoluteLength)
            {
                JumpCode.WriteAbsolute(patch, destination);
            }
            else
            {
                JumpCode.WriteIndirect(span[RelayOffset..], destination);
                JumpCode.WriteRelative(patch, body, page + RelayOffset);
            }

            CodeMemory.MakeExecutable(page);
            return new Trampoline(page, page, patchLength, patch, entryFixups.ToArray());
        }
        catch
        {
            CodeMemory.Free(page);
            throw;
        }
    }
}
