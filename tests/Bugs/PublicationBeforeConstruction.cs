namespace Evergreen.Bugs;

/// <summary>
/// Publication before construction ends: <see cref="Connection"/>'s constructor registers <c>this</c> in the shared
/// <see cref="Registry"/> (under its lock) and only then sets its fields. A health check that walks the registry in
/// between sees a connection with no host.
/// </summary>
public static class PublicationBeforeConstruction
{
    /// <summary>Every open connection, for a health check.</summary>
    public sealed class Registry
    {
        private readonly object _gate = new();
        private readonly List<Connection> _open = [];

        /// <summary>Registers a connection.</summary>
        public void Add(Connection connection)
        {
            lock (_gate)
            {
                _open.Add(connection);
            }
        }

        /// <summary>The connections registered so far.</summary>
        public Connection[] Snapshot()
        {
            lock (_gate)
            {
                return [.. _open];
            }
        }
    }

    /// <summary>A connection that registers itself.</summary>
    public sealed class Connection
    {
        /// <summary>The server's host name.</summary>
        public string? Host;

        /// <summary>The server's port.</summary>
        public int Port;

        /// <summary>The bug: <c>this</c> escapes to another thread before the fields are written.</summary>
        public Connection(Registry registry, string host, int port)
        {
            registry.Add(this);
            Host = host;
            Port = port;
        }
    }

    /// <summary>One thread opens a connection, another checks every open one; the checker throws on a half-built one.</summary>
    public static void Body()
    {
        var registry = new Registry();
        var opener = new Thread(() => _ = new Connection(registry, "db.internal", 5432)) { Name = "opener" };
        var checker = new Thread(() =>
        {
            foreach (var connection in registry.Snapshot())
            {
                if (connection.Host is null || connection.Port == 0)
                    throw new InvalidOperationException($"half-built connection: host {connection.Host ?? "null"}, port {connection.Port}");
            }
        })
        { Name = "health-check" };
        opener.Start();
        checker.Start();
        opener.Join();
        checker.Join();
    }
}
