using System.Reflection;
using Evergreen.Internal;
using Evergreen.IO.Internal;
using Evergreen.Patching.Internal;
using Microsoft.Win32.SafeHandles;

namespace Evergreen.Patching.Replacements;

/// <summary>
/// Replacements for the kernel-style waits of System.Threading (area "thread"): WaitOne/WaitAny/WaitAll/SignalAndWait
/// of an <see cref="EventWaitHandle"/> (AutoResetEvent, ManualResetEvent), <see cref="Semaphore"/> or
/// <see cref="Mutex"/>, and what is built on them — ReaderWriterLockSlim's waits, HttpListener.GetContext, an
/// IAsyncResult's AsyncWaitHandle. On a green thread the wait is green (<see cref="GreenHandleWait"/>: the runtime's own
/// wait with a zero timeout, tried between green parks, so every semantic stays the runtime's: auto-reset, counts,
/// mutex ownership by this OS thread, abandonment); Set/Release/ReleaseMutex also wake green waiters of the handle.
/// </summary>
/// <remarks>
/// Depth: the private <c>WaitOneCore</c>/<c>WaitMultipleIgnoringSyncContextCore</c> under these are one-line wrappers of
/// the QCall that ReadyToRun CoreLib inlines into their callers (a detour there was never reached: measured, every
/// patched waiter froze the hub). <c>WaitOneNoCheck</c> and the span <c>WaitMultiple</c> hold try/finally blocks and are
/// called, not inlined; every public WaitOne/WaitAny/WaitAll overload reaches them.
/// </remarks>
internal static unsafe class WaitHandlePatch
{
    private const BindingFlags Any = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance;

    // NativeRuntimeEventSource.WaitHandleWaitSourceMap, a non-public byte enum (the replacement spells it as byte).
    private static readonly Type? s_waitSource =
        typeof(WaitHandle).GetMethods(Any).FirstOrDefault(m => m.Name == "WaitOneNoCheck")?.GetParameters().LastOrDefault()?.ParameterType;

    // What this file replaces (the patcher applies exactly these rows, after LockPatch's):
    public static readonly PatchRow WaitOneRow = PatchRow.Method(typeof(WaitHandle), "WaitOneNoCheck",
        [typeof(int), typeof(bool), typeof(object), s_waitSource], typeof(WaitHandlePatch), nameof(WaitOne));
    public static readonly PatchRow WaitMultipleRow = PatchRow.Method(typeof(WaitHandle), "WaitMultiple",
        [typeof(ReadOnlySpan<WaitHandle>), typeof(bool), typeof(int)], typeof(WaitHandlePatch), nameof(WaitMultiple));
    public static readonly PatchRow SignalAndWaitRow = PatchRow.Method(typeof(WaitHandle), nameof(WaitHandle.SignalAndWait),
        [typeof(WaitHandle), typeof(WaitHandle), typeof(int), typeof(bool)], typeof(WaitHandlePatch), nameof(SignalAndWait));
    public static readonly PatchRow SetRow = PatchRow.Method(typeof(EventWaitHandle), nameof(EventWaitHandle.Set), [], typeof(WaitHandlePatch), nameof(Set));
    public static readonly PatchRow ReleaseRow = PatchRow.Method(typeof(Semaphore), "ReleaseCore", [typeof(int)], typeof(WaitHandlePatch), nameof(ReleaseCore));
    public static readonly PatchRow ReleaseMutexRow = PatchRow.Method(typeof(Mutex), nameof(Mutex.ReleaseMutex), [], typeof(WaitHandlePatch), nameof(ReleaseMutex));

    public static readonly PatchTable Table = new("thread",
        "WaitHandle waits (WaitOne, WaitAny, WaitAll, SignalAndWait) on events, semaphores and mutexes — ReaderWriterLockSlim, HttpListener.GetContext and IAsyncResult waits included — park greenly between zero-timeout tries of the runtime's wait; Set/Release/ReleaseMutex wake green waiters",
        [WaitOneRow, WaitMultipleRow, SignalAndWaitRow, SetRow, ReleaseRow, ReleaseMutexRow]);

    internal static bool WaitOne(WaitHandle self, int millisecondsTimeout, bool useTrivialWaits, object? associatedObject, byte waitSource)
    {
        var original = (delegate*<WaitHandle, int, bool, object?, byte, bool>)WaitOneRow.Original;
        if (!NativeScope.GreenCaller)
        {
            return original(self, millisecondsTimeout, useTrivialWaits, associatedObject, waitSource);
        }

        if (!useTrivialWaits)
        {
            Hub.ThrowIfInterrupted(); // as the runtime's alertable wait does first, signalled handle or not
        }
        if (millisecondsTimeout == 0)
        {
            return original(self, 0, useTrivialWaits, associatedObject, waitSource);
        }

        if (original(self, 0, useTrivialWaits, associatedObject, waitSource))
        {
            return true;
        }

        var safe = self.SafeWaitHandle;
        bool added = false;
        try
        {
            safe.DangerousAddRef(ref added); // see HoldAll
            return GreenHandleWait.WaitOne(safe.DangerousGetHandle(), millisecondsTimeout, !useTrivialWaits, (self, useTrivialWaits, associatedObject, waitSource),
                static s => ((delegate*<WaitHandle, int, bool, object?, byte, bool>)WaitOneRow.Original)(s.self, 0, s.useTrivialWaits, s.associatedObject, s.waitSource)
                    ? 0 : GreenHandleWait.WaitTimeout,
                CanTakeFor(self) ? static (s, _) => GiveBack(s.self) : null, self) != GreenHandleWait.WaitTimeout;
        }
        finally
        {
            if (added) safe.DangerousRelease();
        }
    }

    /// <summary>
    /// The runtime holds a reference on every handle for the whole of a wait, so a Dispose meanwhile (a <c>using</c>
    /// event ending while a background thread still waits on it) only marks the handle: the wait goes on to its timeout
    /// and the handle is closed when it ends. A green wait is many zero-timeout waits, each with a reference of its own
    /// only while it runs; holding one across them keeps the runtime's behaviour (without it, the next try after the
    /// Dispose threw ObjectDisposedException and ended the process from a background thread). The caller has already
    /// made one try, so a handle disposed before the wait began has failed there as in .NET.
    /// </summary>
    private static SafeWaitHandle[] HoldAll(WaitHandle[] handles)
    {
        var held = new SafeWaitHandle[handles.Length];
        int count = 0;
        try
        {
            foreach (var handle in handles)
            {
                var safe = handle.SafeWaitHandle;
                bool added = false;
                safe.DangerousAddRef(ref added);
                held[count++] = safe;
            }
        }
        catch
        {
            ReleaseAll(held.AsSpan(0, count));
            throw;
        }

        return held;
    }

    private static void ReleaseAll(ReadOnlySpan<SafeWaitHandle> held)
    {
        foreach (var safe in held) safe.DangerousRelease();
    }

    internal static int WaitMultiple(ReadOnlySpan<WaitHandle> handles, bool waitAll, int millisecondsTimeout)
    {
        var original = (delegate*<ReadOnlySpan<WaitHandle>, bool, int, int>)WaitMultipleRow.Original;
        if (!NativeScope.GreenCaller)
        {
            return original(handles, waitAll, millisecondsTimeout);
        }

        // What the runtime rejects in managed code before its wait (an empty or too long array, a null in it, a timeout
        // below -1) it rejects before looking at a pending interrupt, which stays pending: the original throws exactly
        // that, without waiting. (Without this, a timeout of -2 went into the green wait as "infinite" and hung.)
        if (handles.Length == 0 || millisecondsTimeout < -1 || handles.Length > 64 || AnyNull(handles))
        {
            return original(handles, waitAll, millisecondsTimeout);
        }

        Hub.ThrowIfInterrupted();
        if (millisecondsTimeout == 0)
        {
            return original(handles, waitAll, 0);
        }

        // The first try also checks what the runtime checks natively (duplicates) as it does.
        int first = original(handles, waitAll, 0);
        if (first != GreenHandleWait.WaitTimeout)
        {
            return first;
        }

        var array = handles.ToArray();
        var held = HoldAll(array);
        try
        {
            var raw = new nint[held.Length];
            bool takeable = true;
            for (int i = 0; i < held.Length; i++)
            {
                raw[i] = held[i].DangerousGetHandle();
                takeable &= CanTakeFor(array[i]);
            }

            return GreenHandleWait.WaitMultiple(raw, waitAll, millisecondsTimeout, (array, waitAll),
                static s => ((delegate*<ReadOnlySpan<WaitHandle>, bool, int, int>)WaitMultipleRow.Original)(s.array, s.waitAll, 0),
                takeable ? static (s, index) => GiveBackMultiple(s.array, s.waitAll, index) : null, array);
        }
        finally
        {
            ReleaseAll(held);
        }
    }

    private static bool AnyNull(ReadOnlySpan<WaitHandle> handles)
    {
        foreach (var handle in handles)
        {
            if (handle is null) return true;
        }

        return false;
    }

    internal static bool SignalAndWait(WaitHandle toSignal, WaitHandle toWaitOn, int millisecondsTimeout, bool exitContext)
    {
        var original = (delegate*<WaitHandle, WaitHandle, int, bool, bool>)SignalAndWaitRow.Original;
        // Argument errors (a null handle, a timeout below -1) come first and signal nothing: the original throws them.
        // Then a pending interrupt throws, also before the signal (plain .NET: a SignalAndWait of a mutex not owned,
        // interrupted, throws ThreadInterruptedException, not the mutex's error); a green thread's interrupt is the hub's,
        // which the runtime's call below cannot see.
        if (!NativeScope.GreenCaller || toSignal is null || toWaitOn is null || millisecondsTimeout < -1)
        {
            return original(toSignal!, toWaitOn!, millisecondsTimeout, exitContext);
        }

        Hub.ThrowIfInterrupted();
        if (millisecondsTimeout == 0)
        {
            return original(toSignal, toWaitOn, 0, exitContext);
        }

        // The signal and a first try in one runtime call (its argument checks and errors — a semaphore past its
        // maximum, a mutex not owned — come out as they would); then the green wait on the second handle.
        bool acquired = original(toSignal, toWaitOn, 0, exitContext);
        WakeWaiters(toSignal);
        return acquired || toWaitOn.WaitOne(millisecondsTimeout);
    }

    internal static bool Set(EventWaitHandle self)
    {
        bool result = ((delegate*<EventWaitHandle, bool>)SetRow.Original)(self);
        WakeWaiters(self);
        return result;
    }

    internal static int ReleaseCore(Semaphore self, int releaseCount)
    {
        int previous = ((delegate*<Semaphore, int, int>)ReleaseRow.Original)(self, releaseCount);
        WakeWaiters(self);
        return previous;
    }

    /// <summary>
    /// Whether a signaller may make a green waiter's zero-timeout try for it (GreenHandleWait's hand-over): for an event
    /// or a semaphore any thread may; a mutex would become the signaller's, and another WaitHandle's kind is unknown.
    /// </summary>
    private static bool CanTakeFor(WaitHandle handle) => handle is EventWaitHandle or Semaphore;

    /// <summary>
    /// Undoes a try a signaller made for a green waiter whose wait then ended by an exception: the signal goes back to the
    /// handle, and through the patched Set/Release to its next waiter. A ManualResetEvent's try took nothing, so nothing goes back
    /// (a Set there would undo a Reset the signaller made since).
    /// </summary>
    private static void GiveBack(WaitHandle handle)
    {
        try
        {
            switch (handle)
            {
                case ManualResetEvent:
                    break;
                case EventWaitHandle ev:
                    Set(ev);
                    break;
                case Semaphore sem:
                    ReleaseCore(sem, 1);
                    break;
            }
        }
        catch (Exception e) when (e is ObjectDisposedException or SemaphoreFullException)
        {
            // Disposed meanwhile, or released to its maximum by others: there is nowhere the signal could go.
        }
    }

    private static void GiveBackMultiple(WaitHandle[] handles, bool waitAll, int index)
    {
        if (!waitAll)
        {
            GiveBack(handles[index]);
            return;
        }

        foreach (var handle in handles) GiveBack(handle);
    }

    internal static void ReleaseMutex(Mutex self)
    {
        ((delegate*<Mutex, void>)ReleaseMutexRow.Original)(self);
        WakeWaiters(self);
    }

    private static void WakeWaiters(WaitHandle handle)
    {
        if (GreenHandleWait.AnyWaiters)
        {
            GreenHandleWait.Signalled(handle.SafeWaitHandle.DangerousGetHandle());
        }
    }
}
