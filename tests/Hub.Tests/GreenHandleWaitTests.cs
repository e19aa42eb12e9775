using Evergreen.Internal;

namespace Evergreen.HubTests;

/// <summary>
/// GreenHandleWait's hand-over: a signaller — green or not — makes the zero-timeout tries of the green threads already
/// waiting on the handle before its Set returns, and a waiter that leaves by an exception gives its grant back.
/// </summary>
public class GreenHandleWaitTests
{
    private static nint Raw(WaitHandle handle) => handle.SafeWaitHandle.DangerousGetHandle();

    /// <summary>A green WaitOne of <paramref name="ev"/> that a signaller may try for; <paramref name="gaveBack"/> counts give-backs.</summary>
    private static int WaitOne(AutoResetEvent ev, StrongBoxInt? gaveBack = null, bool takeable = true) =>
        GreenHandleWait.WaitOne(Raw(ev), -1, interruptible: true, (ev, gaveBack),
            static s => s.ev.WaitOne(0) ? 0 : GreenHandleWait.WaitTimeout,
            takeable ? static (s, _) => { if (s.gaveBack != null) Interlocked.Increment(ref s.gaveBack.Value); Signal(s.ev); }
    : null);

    private static void Signal(AutoResetEvent ev)
    {
        ev.Set();
        GreenHandleWait.Signalled(Raw(ev));
    }

    internal sealed class StrongBoxInt
    {
        public int Value;
    }

    /// <summary>Runs <paramref name="action"/> on a native thread while the calling green thread holds the baton (spinning on the CPU, never taken back).</summary>
    private static void OnNativeThreadWhileHubBusy(Action action)
    {
        bool done = false;
        var native = new Thread(() => { action(); Volatile.Write(ref done, true); }) { IsBackground = true };
        native.Start();
        while (!Volatile.Read(ref done)) Thread.SpinWait(100);
        native.Join();
    }

    [Fact]
    public void A_native_Set_is_handed_to_the_blocked_green_waiter_before_it_returns()
    {
        using var ev = new AutoResetEvent(false);
        Hub.Run(() =>
        {
            var waiter = Green.Spawn(() => WaitOne(ev));
            Green.Sleep(0); // the waiter is queued and parked
            bool signallerTookItBack = true;
            OnNativeThreadWhileHubBusy(() =>
            {
                Signal(ev);
                signallerTookItBack = ev.WaitOne(0);
            });
            Assert.False(signallerTookItBack);
            waiter.Wait();
            Assert.False(ev.WaitOne(0)); // the waiter consumed it
        });
    }

    [Fact]
    public void A_waiter_killed_after_a_native_grant_gives_the_signal_back()
    {
        using var ev = new AutoResetEvent(false);
        var gaveBack = new StrongBoxInt();
        Hub.Run(() =>
        {
            var waiter = Green.Spawn(() => WaitOne(ev, gaveBack));
            Green.Sleep(0);
            OnNativeThreadWhileHubBusy(() => Signal(ev)); // granted; its wake is posted and not yet run
            Assert.False(waiter.IsDead);
            waiter.Kill();
            Assert.True(waiter.IsDead);
            Assert.Equal(1, gaveBack.Value);
            Assert.True(ev.WaitOne(0)); // back on the event
        });
    }

    [Fact]
    public void A_WaitAll_that_cannot_complete_is_passed_over_for_the_next_waiter()
    {
        using var unset = new ManualResetEvent(false);
        using var ev = new AutoResetEvent(false);
        Hub.Run(() =>
        {
            var all = Green.Spawn(() => GreenHandleWait.WaitMultiple([Raw(unset), Raw(ev)], waitAll: true, -1, (unset, ev),
                static s => WaitHandle.WaitAll([s.unset, s.ev], 0) ? 0 : GreenHandleWait.WaitTimeout,
                static (s, _) => Signal(s.ev)));
            var one = Green.Spawn(() => WaitOne(ev));
            Green.Sleep(0);
            Signal(ev);
            Assert.False(ev.WaitOne(0)); // handed to `one`, not left for the signaller
            one.Wait();
            Assert.False(all.IsDead);
            all.Kill();
        });
    }

    [Fact]
    public void A_waiter_a_signaller_may_not_try_for_is_only_woken_to_try_itself()
    {
        using var ev = new AutoResetEvent(false);
        Hub.Run(() =>
        {
            var waiter = Green.Spawn(() => WaitOne(ev, takeable: false));
            Green.Sleep(0);
            Signal(ev);
            Assert.True(ev.WaitOne(0)); // nobody took it for the waiter (as for a mutex, which would become the signaller's)
            Signal(ev);
            waiter.Wait();
        });
    }
}
