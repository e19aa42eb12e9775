using Evergreen.Detours.Linux;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Evergreen.Detours.X64;

/// <summary>
/// Writes a jump over live code so that a thread entering the function never executes a torn instruction.
/// </summary>
/// <remarks>
/// <para>Protocol: (1) atomically swap the first two bytes for <c>EB FE</c> (<c>jmp $</c>), so threads that arrive
/// now spin at the entry; (2) write bytes 2..n-1, which no arriving thread executes; (3) atomically swap the first two
/// bytes for the new head. A thread sees either the old first instruction, the spin, or the complete jump. (A thread
/// already past the first instruction and preempted inside the patched range is the residual risk every in-place
/// detour engine shares; the patched range is the prologue, a handful of instructions.)</para>
/// <para>The three steps run in a tiny machine-code routine called through an <c>unmanaged</c> function pointer, so the
/// writing thread is in preemptive mode for the whole window: a GC that starts meanwhile does not wait for the writer,
/// while threads spinning at <c>jmp $</c> (possibly in cooperative mode inside libcoreclr) only wait for the writer.
/// Had the writer been suspended for that GC between steps 1 and 3, the GC would wait for the spinners and the
/// spinners for the writer.</para>
/// </remarks>
internal static unsafe class PatchWriter
{
    private static delegate* unmanaged<byte*, byte*, nuint, void> s_write;

    /// <summary>Builds the routine once; call before anything is patched.</summary>
    internal static void EnsureInitialized()
    {
        if (s_write != null)
        {
            return;
        }

        // void write(byte* dst /*rdi*/, byte* src /*rsi*/, nuint length /*rdx*/), length >= 2
        var a = new Assembler(64);
        var copy = a.CreateLabel();
        var done = a.CreateLabel();
        a.mov(ax, 0xFEEB);                 // bytes EB FE: jmp $
        a.xchg(__word_ptr[rdi], ax);       // xchg with memory is locked: the head changes in one step
        a.mfence();
        a.mov(rcx, 2);
        a.Label(ref copy);
        a.cmp(rcx, rdx);
        a.jae(done);
        a.mov(al, __byte_ptr[rsi + rcx]);
        a.mov(__byte_ptr[rdi + rcx], al);
        a.inc(rcx);
        a.jmp(copy);
        a.Label(ref done);
        a.mfence();                        // the tail is globally visible before the head stops spinning
        a.mov(ax, __word_ptr[rsi]);
        a.xchg(__word_ptr[rdi], ax);
        a.ret();

        nint page = CodeMemory.AllocateNear(typeof(PatchWriter).TypeHandle.Value);
        var writer = new PointerCodeWriter(page, CodeMemory.PageSize);
        a.Assemble(writer, (ulong)page);
        CodeMemory.MakeExecutable(page);
        s_write = (delegate* unmanaged<byte*, byte*, nuint, void>)page;
    }

    /// <summary>Writes <paramref name="code"/> at <paramref name="address"/> with the spin-head protocol. The pages must be writable.</summary>
    internal static void Write(nint address, ReadOnlySpan<byte> code)
    {
        // The two head bytes must sit in one cache line for the locked xchg to be atomic without a split lock.
        if ((address & 63) == 63)
        {
            throw new InvalidOperationException("patch site straddles a cache line");
        }

        fixed (byte* src = code)
        {
            s_write((byte*)address, src, (nuint)code.Length);
        }
    }

}

/// <summary>An Iced <see cref="CodeWriter"/> over a fixed native buffer (a page we allocated and have not made executable yet).</summary>
internal sealed unsafe class PointerCodeWriter : CodeWriter
{
    private readonly byte* _start;
    private readonly int _capacity;
    private int _length;

    internal PointerCodeWriter(nint start, int capacity)
    {
        _start = (byte*)start;
        _capacity = capacity;
    }

    internal int Length => _length;

    public override void WriteByte(byte value)
    {
        if (_length >= _capacity)
        {
            throw new InvalidOperationException("code buffer overflow");
        }

        _start[_length++] = value;
    }
}
