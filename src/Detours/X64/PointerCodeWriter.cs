using Iced.Intel;

namespace Evergreen.Detours.X64;

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
