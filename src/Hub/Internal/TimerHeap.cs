namespace Evergreen.Internal;

/// <summary>
/// Binary min-heap of timers by (due, seq) with O(log n) removal: a cancelled sleep or timeout leaves
/// nothing behind (10k sleeping threads cancel their timeouts constantly).
/// </summary>
internal sealed class TimerHeap
{
    private HubTimer[] _heap = new HubTimer[64];
    private int _count;
    private long _seq;

    public int Count => _count;

    public HubTimer? Peek() => _count == 0 ? null : _heap[0];

    public void Add(HubTimer t)
    {
        if (t.IsScheduled) throw new InvalidOperationException("timer already scheduled");
        if (_count == _heap.Length) Array.Resize(ref _heap, _heap.Length * 2);
        t.Seq = _seq++;
        _heap[_count] = t;
        t.HeapIndex = _count;
        _count++;
        Up(t.HeapIndex);
    }

    public void Remove(HubTimer t)
    {
        int i = t.HeapIndex;
        if (i < 0) return;
        _count--;
        t.HeapIndex = -1;
        if (i == _count) { _heap[i] = null!; return; }
        var last = _heap[_count];
        _heap[_count] = null!;
        _heap[i] = last;
        last.HeapIndex = i;
        Up(i);
        Down(last.HeapIndex);
    }

    public HubTimer Pop()
    {
        var t = _heap[0];
        Remove(t);
        return t;
    }

    private static bool Less(HubTimer a, HubTimer b) => a.Due < b.Due || (a.Due == b.Due && a.Seq < b.Seq);

    private void Up(int i)
    {
        while (i > 0)
        {
            int p = (i - 1) >> 1;
            if (!Less(_heap[i], _heap[p])) break;
            Swap(i, p);
            i = p;
        }
    }

    private void Down(int i)
    {
        while (true)
        {
            int l = 2 * i + 1, r = l + 1, m = i;
            if (l < _count && Less(_heap[l], _heap[m])) m = l;
            if (r < _count && Less(_heap[r], _heap[m])) m = r;
            if (m == i) return;
            Swap(i, m);
            i = m;
        }
    }

    private void Swap(int a, int b)
    {
        (_heap[a], _heap[b]) = (_heap[b], _heap[a]);
        _heap[a].HeapIndex = a;
        _heap[b].HeapIndex = b;
    }
}
