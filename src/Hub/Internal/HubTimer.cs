namespace Evergreen.Internal;

/// <summary>
/// An entry of the hub's timer heap (eventlet's schedule_call_global). Fires on the baton holder's thread
/// during scheduling; a firing must be short and must not block (it wakes or throws into a green thread).
/// </summary>
internal abstract class HubTimer
{
    internal long Due;          // Stopwatch ticks
    internal long Seq;          // FIFO among equal deadlines
    internal int HeapIndex = -1;

    public bool IsScheduled => HeapIndex >= 0;

    public abstract void Fire(Hub hub);
}

/// <summary>Wakes a green thread from wait number <see cref="WaitId"/> (sleep, timeouts of waits).</summary>
/// <remarks>Each green thread keeps one and reuses it for its next timed wait (<see cref="Hub.AddWakeTimer"/>).</remarks>
internal sealed class WakeTimer(GreenThread target) : HubTimer
{
    public GreenThread Target = target; // re-targeted when a worker hands it to its next green thread
    public int WaitId;
    public override void Fire(Hub hub) => hub.Wake(Target, WaitId, HubTimeoutMarker.Instance);
}

/// <summary>Marker wake value meaning "the wait's own deadline passed".</summary>
internal sealed class HubTimeoutMarker
{
    public static readonly HubTimeoutMarker Instance = new();
}

/// <summary>Throws an exception into a green thread wherever it waits (GreenTimeout scopes, kill).</summary>
internal sealed class ThrowTimer(GreenThread target, Func<Exception> make) : HubTimer
{
    public override void Fire(Hub hub) => hub.Throw(target, make());
}

/// <summary>Makes a spawned-after green thread runnable.</summary>
internal sealed class StartTimer(GreenThread target) : HubTimer
{
    public override void Fire(Hub hub) => hub.MakeRunnable(target);
}
