using System.Runtime.InteropServices;
using Iced.Intel;

namespace Evergreen.Detours.X64;

/// <summary>
/// Decodes a function from its entry to its end by linear sweep. The end is the first unconditional transfer
/// (<c>ret</c>, <c>jmp</c>, <c>int3</c>) past every forward branch target seen so far; there is no code-size source for
/// R2R or native bodies, and a sweep that stops early only makes the branch check weaker, never wrong.
/// </summary>
internal static unsafe class CodeScanner
{
    private const int MaxScan = 8192;

    internal readonly record struct Function(List<Instruction> Instructions, ulong Start, ulong End, List<ulong> BranchTargets);

    /// <param name="entry">The function's first byte.</param>
    /// <param name="readable">How many bytes from <paramref name="entry"/> are mapped.</param>
    internal static Function Scan(nint entry, int readable)
    {
        int length = Math.Min(readable, MaxScan);
        var bytes = new byte[length];
        Marshal.Copy(entry, bytes, 0, length);
        var decoder = Decoder.Create(64, new ByteArrayCodeReader(bytes), (ulong)entry);
        ulong start = (ulong)entry, limit = start + (ulong)length, furthest = start;
        var instructions = new List<Instruction>();
        var targets = new List<ulong>();
        while (decoder.IP < limit)
        {
            decoder.Decode(out var ins);
            if (ins.IsInvalid)
            {
                break;
            }

            instructions.Add(ins);
            if (ins.FlowControl is FlowControl.ConditionalBranch or FlowControl.UnconditionalBranch or FlowControl.Call
                && ins.Op0Kind is OpKind.NearBranch16 or OpKind.NearBranch32 or OpKind.NearBranch64)
            {
                ulong t = ins.NearBranchTarget;
                targets.Add(t);
                if (ins.FlowControl != FlowControl.Call && t > furthest && t < limit)
                {
                    furthest = t;
                }
            }

            bool ends = ins.FlowControl is FlowControl.Return or FlowControl.UnconditionalBranch or FlowControl.IndirectBranch or FlowControl.Interrupt
                || ins.Code == Code.Ud2;
            if (ends && ins.NextIP > furthest)
            {
                break;
            }
        }

        ulong end = instructions.Count == 0 ? start : instructions[^1].NextIP;
        return new Function(instructions, start, end, targets);
    }
}
