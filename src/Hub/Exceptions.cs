namespace Evergreen;

/// <summary>
/// Thrown inside a green thread that is killed (eventlet's GreenletExit), wherever it waits; also what
/// <see cref="GreenThread.Wait"/> rethrows for a killed thread. Catching it and returning ends the thread normally.
/// </summary>
public class GreenThreadExitException : Exception
{
    /// <summary>Creates the exception.</summary>
    public GreenThreadExitException() : base("The green thread was killed.") { }

    /// <summary>Creates the exception with a message.</summary>
    public GreenThreadExitException(string message) : base(message) { }
}

/// <summary>
/// Thrown into a green thread whose <see cref="GreenTimeout"/> scope expired, wherever it waits. Derives from
/// <see cref="System.TimeoutException"/>.
/// </summary>
public class GreenTimeoutException : System.TimeoutException
{
    /// <summary>Creates the exception for <paramref name="timeout"/>.</summary>
    public GreenTimeoutException(GreenTimeout? timeout, string message) : base(message) => Timeout = timeout;

    /// <summary>The scope that expired (null for a plain wait timeout), so nested scopes can tell whose it is.</summary>
    public GreenTimeout? Timeout { get; }
}

/// <summary>
/// The OS-thread ceiling was reached: every green thread is backed by an OS thread and the kernel's limits
/// (vm.max_map_count, pid_max, threads-max) would be exceeded. The message says how to raise them.
/// </summary>
public class GreenThreadLimitException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public GreenThreadLimitException(string message, int alive, Exception? inner = null) : base(message, inner) => Alive = alive;

    /// <summary>OS threads backing green threads when the limit was hit.</summary>
    public int Alive { get; }
}

/// <summary>
/// A green wait could never end: no other green thread is runnable, no timer is pending, nothing waits on
/// a file descriptor and no outside thread can wake anything (gevent's LoopExit). Thrown into the thread
/// whose wait made that so, instead of hanging the process.
/// </summary>
public class GreenDeadlockException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public GreenDeadlockException(string message) : base(message) { }
}

/// <summary>A green-only operation was called from a thread that is not a green thread.</summary>
public class NotGreenThreadException : InvalidOperationException
{
    /// <summary>Creates the exception naming the operation.</summary>
    public NotGreenThreadException(string operation) : base(
        $"{operation} must be called from a green thread. Run the code inside Hub.Run(...), a Green.Spawn(...)ed " +
        "thread, or after Patcher.MonkeyPatch() on the main thread.")
    { }
}
