using System.ComponentModel;
using System.Runtime.InteropServices;
using Evergreen.Interop;

namespace Evergreen;

/// <summary>Linux epoll backend with an eventfd for <see cref="Wake"/> (eventlet's hubs/epolls.py).</summary>
internal sealed unsafe class EpollPoller : IPoller
{
    private const ulong WakeToken = ulong.MaxValue;
    private const int BatchSize = 256;
    private readonly int _epfd;
    private readonly int _eventFd;
    private readonly Libc.EpollEvent* _buffer;

    public EpollPoller()
    {
        _epfd = Libc.epoll_create1(Libc.EPOLL_CLOEXEC);
        if (_epfd < 0) throw new Win32Exception(Marshal.GetLastPInvokeError(), "epoll_create1 failed");
        _eventFd = Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
        if (_eventFd < 0) throw new Win32Exception(Marshal.GetLastPInvokeError(), "eventfd failed");
        var ev = new Libc.EpollEvent { Events = Libc.EPOLLIN, Data = WakeToken }; // level-triggered: drained on read
        if (Libc.epoll_ctl(_epfd, Libc.EPOLL_CTL_ADD, _eventFd, &ev) != 0)
            throw new Win32Exception(Marshal.GetLastPInvokeError(), "epoll_ctl(eventfd) failed");
        _buffer = (Libc.EpollEvent*)NativeMemory.Alloc(BatchSize, (nuint)sizeof(Libc.EpollEvent));
    }

    public void Register(int fd)
    {
        var ev = new Libc.EpollEvent
        {
            Events = Libc.EPOLLIN | Libc.EPOLLOUT | Libc.EPOLLRDHUP | Libc.EPOLLPRI | Libc.EPOLLET,
            Data = (uint)fd,
        };
        if (Libc.epoll_ctl(_epfd, Libc.EPOLL_CTL_ADD, fd, &ev) == 0) return;
        int errno = Marshal.GetLastPInvokeError();
        // EEXIST: a previous owner of this fd number registered it and it was never closed in between
        // (dup'd descriptors keep the registration alive) - re-arm instead.
        if (errno == Libc.EEXIST && Libc.epoll_ctl(_epfd, Libc.EPOLL_CTL_MOD, fd, &ev) == 0) return;
        throw new Win32Exception(errno, $"epoll_ctl(ADD, fd {fd}) failed");
    }

    public void Unregister(int fd)
    {
        var ev = default(Libc.EpollEvent);
        Libc.epoll_ctl(_epfd, Libc.EPOLL_CTL_DEL, fd, &ev); // ENOENT/EBADF: already gone, which is what we want
    }

    public int Wait(Span<PollResult> results, int timeoutMs)
    {
        int max = Math.Min(results.Length, BatchSize);
        int n = Libc.epoll_wait(_epfd, _buffer, max, timeoutMs);
        if (n < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno == Libc.EINTR) return 0;
            throw new Win32Exception(errno, "epoll_wait failed");
        }
        int count = 0;
        for (int i = 0; i < n; i++)
        {
            var e = _buffer[i];
            if (e.Data == WakeToken)
            {
                ulong drain;
                Libc.read(_eventFd, &drain, sizeof(ulong));
                continue;
            }
            var ev = PollEvents.None;
            if ((e.Events & (Libc.EPOLLIN | Libc.EPOLLRDHUP | Libc.EPOLLPRI)) != 0) ev |= PollEvents.Read;
            if ((e.Events & Libc.EPOLLPRI) != 0) ev |= PollEvents.Urgent;
            if ((e.Events & Libc.EPOLLRDHUP) != 0) ev |= PollEvents.Hangup;
            if ((e.Events & Libc.EPOLLOUT) != 0) ev |= PollEvents.Write;
            // An error or hang-up makes both directions "ready": the retried operation reports the error.
            if ((e.Events & (Libc.EPOLLERR | Libc.EPOLLHUP)) != 0) ev |= PollEvents.Error | PollEvents.Read | PollEvents.Write;
            results[count++] = new PollResult((int)e.Data, ev);
        }
        return count;
    }

    public void Wake()
    {
        ulong one = 1;
        Libc.write(_eventFd, &one, sizeof(ulong));
    }

    public void Dispose()
    {
        Libc.close(_eventFd);
        Libc.close(_epfd);
        NativeMemory.Free(_buffer);
    }
}
