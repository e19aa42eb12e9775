using System.Collections;

namespace Evergreen;

/// <summary>
/// A pile of green threads whose results are read back in spawn order (eventlet.greenpool.GreenPile): spawn
/// work with <see cref="Spawn"/>, then enumerate the pile to get each result as it is ready (waiting greenly),
/// an exception rethrown where its result would be. Enumerating consumes the results. Green threads only.
/// </summary>
public sealed class GreenPile<T> : IEnumerable<T>
{
    // A green queue, not a plain one: a consumer may find Count > 0 while the spawner still waits for a pool slot.
    private readonly GreenLightQueue<GreenThread<T>> _threads = new();
    private int _count;
    private bool _used;

    /// <summary>Creates a pile that spawns into <paramref name="pool"/> (null: a new pool of 1000).</summary>
    public GreenPile(GreenPool? pool) => Pool = pool ?? new GreenPool();

    /// <summary>Creates a pile with its own pool of <paramref name="size"/> slots.</summary>
    public GreenPile(int size = 1000) : this(new GreenPool(size)) { }

    /// <summary>The pool the pile spawns into.</summary>
    public GreenPool Pool { get; }

    /// <summary>Results spawned and not yet consumed.</summary>
    public int Count => _count;

    /// <summary>True once anything has been spawned into the pile.</summary>
    public bool Used => _used;

    /// <summary>Runs <paramref name="func"/> in the pile's pool (waiting greenly for a free slot) and returns its thread.</summary>
    public GreenThread<T> Spawn(Func<T> func)
    {
        _used = true;
        _count++;
        try
        {
            var g = Pool.Spawn(func);
            _threads.Put(g);
            return g;
        }
        catch
        {
            _count--;
            throw;
        }
    }

    /// <summary>Yields each spawned function's result in spawn order, waiting greenly for each; consumes them.</summary>
    public IEnumerator<T> GetEnumerator()
    {
        while (_used && _count > 0)
        {
            var g = _threads.Get();
            T result;
            try
            {
                result = g.Wait();
            }
            finally
            {
                _count--;
            }
            yield return result;
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
