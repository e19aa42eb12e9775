namespace Evergreen.Internal;

/// <summary>A growable ring buffer of runnable green threads. The baton holder only (asserted in debug builds).</summary>
internal sealed class RunQueue
{
    private GreenThread?[] _items = new GreenThread?[256];
    private int _head, _count;

    public int Count => _count;

    public void PushBack(GreenThread g)
    {
        Hub.AssertBatonHolder();
        if (_count == _items.Length) Grow();
        _items[(_head + _count) & (_items.Length - 1)] = g;
        _count++;
    }

    public void PushFront(GreenThread g)
    {
        Hub.AssertBatonHolder();
        if (_count == _items.Length) Grow();
        _head = (_head - 1) & (_items.Length - 1);
        _items[_head] = g;
        _count++;
    }

    public GreenThread PopFront()
    {
        Hub.AssertBatonHolder();
        var g = _items[_head]!;
        _items[_head] = null;
        _head = (_head + 1) & (_items.Length - 1);
        _count--;
        return g;
    }

    /// <summary>Removes and returns the <paramref name="index"/>-th thread from the front (seeded picks), keeping the others' order.</summary>
    public GreenThread RemoveAt(int index)
    {
        Hub.AssertBatonHolder();
        int mask = _items.Length - 1;
        var g = _items[(_head + index) & mask]!;
        for (int i = index; i > 0; i--) _items[(_head + i) & mask] = _items[(_head + i - 1) & mask];
        _items[_head] = null;
        _head = (_head + 1) & mask;
        _count--;
        return g;
    }

    private void Grow()
    {
        var n = new GreenThread?[_items.Length * 2];
        for (int i = 0; i < _count; i++) n[i] = _items[(_head + i) & (_items.Length - 1)];
        _items = n;
        _head = 0;
    }
}
