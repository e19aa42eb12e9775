using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Evergreen.Internal;

namespace Evergreen.HubTests;

/// <summary>
/// LockOwner reads who holds a lock from the runtime's own state (the object header's thin lock, the sync block's
/// AwareLock, Lock._owningThreadId). These pin the runtime layout it relies on: a runtime whose layout differs fails here.
/// </summary>
public partial class LockOwnerTests
{
    [LibraryImport("libc")]
    private static partial int gettid();

    [Fact]
    public void The_runtime_describes_its_sync_table_and_the_sync_block_layout_checks_out()
    {
        Assert.Null(LockOwner.Problem);
        Assert.True(LockOwner.SyncBlocksReadable);
    }

    [Fact]
    public void A_free_object_reads_free()
    {
        var o = new object();
        Assert.Equal(LockOwner.State.Free, LockOwner.Read(o, out _, out _));
        RuntimeHelpers.GetHashCode(o); // a hash code in the header: still free
        Assert.Equal(LockOwner.State.Free, LockOwner.Read(o, out _, out _));
    }

    [Fact]
    public void A_thin_lock_names_its_holder_by_managed_thread_id()
    {
        var o = new object();
        lock (o)
        {
            Assert.Equal(LockOwner.State.Held, LockOwner.Read(o, out int managed, out int os));
            Assert.Equal(Environment.CurrentManagedThreadId, managed);
            Assert.Equal(0, os); // a thin lock keeps no OS id
        }
        Assert.Equal(LockOwner.State.Free, LockOwner.Read(o, out _, out _));
    }

    [Fact]
    public void An_inflated_lock_names_its_holder_by_managed_and_os_thread_id()
    {
        var o = new object();
        lock (o)
        {
            RuntimeHelpers.GetHashCode(o); // inflates the thin lock to a sync block
            Assert.Equal(LockOwner.State.Held, LockOwner.Read(o, out int managed, out int os));
            Assert.Equal(Environment.CurrentManagedThreadId, managed);
            Assert.Equal(gettid(), os);
        }
        Assert.Equal(LockOwner.State.Free, LockOwner.Read(o, out _, out _));
    }

    [Fact]
    public void A_lock_held_by_another_thread_names_that_thread_thin_and_inflated()
    {
        foreach (bool hashFirst in new[] { false, true })
        {
            var o = new object();
            if (hashFirst) RuntimeHelpers.GetHashCode(o); // the lock then goes straight to a sync block
            using var held = new ManualResetEventSlim();
            using var release = new ManualResetEventSlim();
            int holderId = 0, holderTid = 0;
            var t = new Thread(() =>
            {
                lock (o)
                {
                    holderId = Environment.CurrentManagedThreadId;
                    holderTid = gettid();
                    held.Set();
                    release.Wait();
                }
            });
            t.Start();
            held.Wait();
            Assert.Equal(LockOwner.State.Held, LockOwner.Read(o, out int managed, out int os));
            Assert.Equal(holderId, managed);
            if (hashFirst) Assert.Equal(holderTid, os);
            release.Set();
            t.Join();
            Assert.Equal(LockOwner.State.Free, LockOwner.Read(o, out _, out _));
        }
    }

    [Fact]
    public void A_System_Threading_Lock_names_its_holder_by_os_thread_id()
    {
        var l = new Lock();
#pragma warning disable CS9216 // read as an object, as GreenMonitor keys it; never locked on as one
        object boxed = l;
#pragma warning restore CS9216
        Assert.Equal(LockOwner.State.Free, LockOwner.Read(boxed, out _, out _));
        using (l.EnterScope())
        {
            Assert.Equal(LockOwner.State.Held, LockOwner.Read(boxed, out int managed, out int os));
            Assert.Equal(0, managed);
            Assert.Equal(gettid(), os);
        }
        Assert.Equal(LockOwner.State.Free, LockOwner.Read(boxed, out _, out _));
    }
}
