using System.Net;
using System.Net.Sockets;
using Evergreen.IO.Internal;
using Evergreen.Patching.Internal;

namespace Evergreen.Patching;

/// <summary>
/// True native access to a patched area (eventlet's <c>patcher.original</c>). Calls made through a module's
/// methods, or inside its <see cref="Native"/> scope, bypass the green replacements on the calling thread:
/// they block the OS thread (and with it the hub, if called from a green thread) exactly as unpatched .NET does.
/// </summary>
public abstract class OriginalModule
{
    private protected OriginalModule(string name) => Name = name;

    /// <summary>The area name, e.g. "Thread".</summary>
    public string Name { get; }

    /// <summary>True when the area is currently patched (otherwise the originals are simply the BCL).</summary>
    public bool IsPatched => PatchRegistry.IsPatched(Name);

    /// <summary>
    /// Starts a scope in which every patched call on this thread goes to the original: <c>using (module.Native()) { ... }</c>.
    /// </summary>
    public IDisposable Native() => new Scope(NativeScope.Enter());

    private sealed class Scope(NativeScope.Scope inner) : IDisposable
    {
        private bool _done;
        public void Dispose()
        {
            if (_done) return;
            _done = true;
            inner.Dispose();
        }
    }
}

/// <summary>Native <see cref="Thread"/>: a thread started here is a real, parallel OS thread, not a green one.</summary>
public sealed class OriginalThread : OriginalModule
{
    internal OriginalThread() : base("thread") { }

    /// <summary>Starts <paramref name="thread"/> as a native OS thread that runs in parallel with the green threads.</summary>
    public void Start(Thread thread)
    {
        ArgumentNullException.ThrowIfNull(thread);
        using (NativeScope.Enter()) Hub.StartNativeThread(thread);
    }

    /// <summary>Creates and starts a native thread running <paramref name="body"/>.</summary>
    public Thread Start(ThreadStart body, string? name = null, bool isBackground = false)
    {
        var t = new Thread(body) { Name = name, IsBackground = isBackground };
        Start(t);
        return t;
    }

    /// <summary>Joins natively (blocks the OS thread).</summary>
    public bool Join(Thread thread, int millisecondsTimeout = -1)
    {
        ArgumentNullException.ThrowIfNull(thread);
        using (NativeScope.Enter()) return thread.Join(millisecondsTimeout);
    }

    /// <summary>The OS yield (sched_yield), not a green switch.</summary>
    public bool Yield()
    {
        using (NativeScope.Enter()) return Thread.Yield();
    }
}

/// <summary>Native sleeping ("time"): blocks the OS thread.</summary>
public sealed class OriginalTime : OriginalModule
{
    internal OriginalTime() : base("time") { }

    /// <summary>Sleeps the OS thread.</summary>
    public void Sleep(TimeSpan duration)
    {
        using (NativeScope.Enter()) Thread.Sleep(duration);
    }

    /// <summary>Sleeps the OS thread.</summary>
    public void Sleep(int milliseconds)
    {
        using (NativeScope.Enter()) Thread.Sleep(milliseconds);
    }
}

/// <summary>Native <see cref="Monitor"/>: a contended enter or a Wait blocks the OS thread in the kernel.</summary>
public sealed class OriginalMonitor : OriginalModule
{
    internal OriginalMonitor() : base("thread") { }

    /// <summary>Enters natively.</summary>
    public void Enter(object obj)
    {
        using (NativeScope.Enter()) Monitor.Enter(obj);
    }

    /// <summary>Exits (the same as <see cref="Monitor.Exit"/>).</summary>
    public void Exit(object obj) => Monitor.Exit(obj);

    /// <summary>Waits natively.</summary>
    public bool Wait(object obj, int millisecondsTimeout = -1)
    {
        using (NativeScope.Enter()) return Monitor.Wait(obj, millisecondsTimeout);
    }
}

/// <summary>Native <see cref="Socket"/> operations: they block the OS thread as unpatched .NET does.</summary>
public sealed class OriginalSocket : OriginalModule
{
    internal OriginalSocket() : base("socket") { }

    /// <summary>Receives natively.</summary>
    public int Receive(Socket socket, byte[] buffer, int offset, int size, SocketFlags flags = SocketFlags.None)
    {
        ArgumentNullException.ThrowIfNull(socket);
        Evergreen.IO.GreenSocket.RestoreForNative(socket);
        using (NativeScope.Enter()) return socket.Receive(buffer, offset, size, flags);
    }

    /// <summary>Sends natively.</summary>
    public int Send(Socket socket, byte[] buffer, int offset, int size, SocketFlags flags = SocketFlags.None)
    {
        ArgumentNullException.ThrowIfNull(socket);
        Evergreen.IO.GreenSocket.RestoreForNative(socket);
        using (NativeScope.Enter()) return socket.Send(buffer, offset, size, flags);
    }

    /// <summary>Accepts natively.</summary>
    public Socket Accept(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        Evergreen.IO.GreenSocket.RestoreForNative(socket);
        using (NativeScope.Enter()) return socket.Accept();
    }

    /// <summary>Connects natively.</summary>
    public void Connect(Socket socket, EndPoint remote)
    {
        ArgumentNullException.ThrowIfNull(socket);
        Evergreen.IO.GreenSocket.RestoreForNative(socket);
        using (NativeScope.Enter()) socket.Connect(remote);
    }
}
