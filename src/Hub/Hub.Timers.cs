using System.Diagnostics;
using Evergreen.Internal;

namespace Evergreen;

public sealed partial class Hub
{
    // ------------------------------------------------------------------------------------------
    // Timers
    // ------------------------------------------------------------------------------------------

    internal WakeTimer AddWakeTimer(GreenThread g, int waitId, long ticksFromNow)
    {
        // The thread's own timer, reused wait after wait (a timed wait ends with CancelTimer, or the timer fired
        // and left the heap): 10k sleeping threads otherwise allocate one timer per sleep.
        var t = g.WakeTimer;
        if (t == null || t.IsScheduled) g.WakeTimer = t = new WakeTimer(g);
        t.WaitId = waitId;
        t.Due = Now + ticksFromNow;
        _timers.Add(t);
        return t;
    }

    internal void AddTimer(HubTimer t, long ticksFromNow)
    {
        t.Due = Now + ticksFromNow;
        _timers.Add(t);
    }

    internal void CancelTimer(HubTimer t) => _timers.Remove(t);

    private void RunDueTimers()
    {
        if (_timers.Count == 0) return;
        long now = Now;
        if (ScheduleMode.Hooks && _rng is { } rng) { RunDueTimersSeeded(now, rng); return; }
        while (_timers.Peek() is { } t && t.Due <= now)
        {
            _timers.Pop();
            t.Fire(this);
        }
    }

    private int MillisUntilNextTimer()
    {
        if (_timers.Peek() is not { } t) return -1;
        long ticks = t.Due - Now;
        if (ticks <= 0) return 0;
        double ms = Math.Ceiling(ticks * 1000.0 / Stopwatch.Frequency);
        return ms >= int.MaxValue ? int.MaxValue : (int)ms;
    }
}
