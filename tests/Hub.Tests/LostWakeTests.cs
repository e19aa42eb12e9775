using System.Net;
using System.Net.Sockets;

namespace Evergreen.HubTests;

/// <summary>
/// Regression tests for lost wake-ups in the hub's hand-off (issue 11.8, docs/hub.md "Lost wake-ups").
/// </summary>
public class LostWakeTests
{
    /// <summary>How long a native sender waits for a green thread to take its wake before calling it lost (a safety bound, not a speed limit).</summary>
    internal static readonly TimeSpan LostBound = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A connected loopback pair whose server end a green thread waits to read and nobody ever writes: it keeps
    /// <c>_fdWaiters</c> above zero, so the blocking hub polls for I/O with a zero timeout before it sleeps.
    /// </summary>
    internal static (Socket Idle, Socket Peer, IDisposable Listener) IdleSocketPair()
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var peer = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        peer.Connect(listener.LocalEndPoint!);
        var idle = listener.Accept();
        idle.Blocking = false;
        return (idle, peer, listener);
    }

    /// <summary>
    /// The smallest shape of the lost wake, deterministic: a green thread waits on an <see cref="Event"/> with no
    /// timeout, a second waits on a socket that stays silent (so the hub polls I/O with a zero timeout before it
    /// sleeps), no timer is pending. A native thread posts an action that itself posts the event's send — as any
    /// posted action does that wakes a green thread through a public API on a thread that is not green. The inner post
    /// lands while the outer one is being drained; the zero-timeout I/O poll then consumed its poller wake, and the hub
    /// slept in epoll_wait with the send undelivered until the next post (here: the round's bound, which counts it).
    /// </summary>
    [Fact]
    public void A_post_made_while_posts_are_drained_is_not_lost()
    {
        const int Rounds = 200;
        var (idle, peer, listener) = IdleSocketPair();
        int lost = 0, done = 0;
        try
        {
            Hub.Run(() =>
            {
                var reader = Green.Spawn(() => Green.Trampoline((int)idle.Handle, PollEvents.Read), name: "silent-socket");
                Green.Sleep(0); // the reader parks on its socket: _fdWaiters > 0 from here on
                for (int i = 0; i < Rounds && Volatile.Read(ref lost) == 0; i++)
                {
                    var ev = new Event();
                    int round = i;
                    var sender = new Thread(() =>
                    {
                        Hub.Instance.Post(() => Hub.Instance.Post(() => ev.Send()));
                        if (SpinUntil(() => Volatile.Read(ref done) > round, LostBound)) return;
                        Interlocked.Increment(ref lost);
                        Hub.Instance.Post(static () => { }); // another post's wake delivers the lost one: end the round
                    })
                    { IsBackground = true, Name = "native-poster" };
                    sender.Start();
                    ev.Wait();
                    Volatile.Write(ref done, i + 1);
                    sender.Join();
                }
                peer.Send(new byte[1]);
                reader.Wait();
            });
        }
        finally
        {
            idle.Dispose();
            peer.Dispose();
            listener.Dispose();
        }
        Assert.Equal(0, lost);
        Assert.Equal(Rounds, done);
    }

    /// <summary>Native: waits up to <paramref name="bound"/> for <paramref name="condition"/>.</summary>
    internal static bool SpinUntil(Func<bool> condition, TimeSpan bound)
    {
        var deadline = DateTime.UtcNow + bound;
        while (!condition())
        {
            if (DateTime.UtcNow >= deadline) return false;
            Thread.Sleep(0);
        }
        return true;
    }
}
