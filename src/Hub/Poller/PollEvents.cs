namespace Evergreen;

/// <summary>Readiness a green thread can wait for on a file descriptor (neutral names; no epoll constants).</summary>
[Flags]
public enum PollEvents
{
    /// <summary>Nothing.</summary>
    None = 0,
    /// <summary>Data can be read, a connection accepted, or the peer closed its side.</summary>
    Read = 1,
    /// <summary>Data can be written or a connect completed.</summary>
    Write = 2,
    /// <summary>An error or hang-up is pending on the descriptor (always reported).</summary>
    Error = 4,
    /// <summary>Urgent (out-of-band) data arrived: TCP's urgent mark (EPOLLPRI). Reported with <see cref="Read"/>.</summary>
    Urgent = 8,
    /// <summary>The peer closed its sending side (EPOLLRDHUP). Reported with <see cref="Read"/>.</summary>
    Hangup = 16,
}
