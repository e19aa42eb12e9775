using System.Reflection;

namespace Evergreen.Detours;

/// <summary>One redirection of <see cref="Target"/> to <see cref="Replacement"/>.</summary>
/// <remarks>
/// Lifetime: undoing restores the target's code; the trampoline behind <see cref="Original"/> is never freed
/// (a thread may still be running in it) and stays callable after <see cref="Undo"/>.
/// Dispose is <see cref="Undo"/>.
/// </remarks>
public interface IDetour : IDisposable
{
    /// <summary>The method whose calls are redirected.</summary>
    MethodBase Target { get; }

    /// <summary>The static method that receives the calls.</summary>
    MethodInfo Replacement { get; }

    /// <summary>Whether calls of <see cref="Target"/> currently reach <see cref="Replacement"/>.</summary>
    bool IsApplied { get; }

    /// <summary>
    /// A callable pointer to the target's original code, valid from <see cref="IDetourEngine.Prepare"/> on.
    /// Cast it to a managed function pointer with the replacement's signature, e.g.
    /// <c>(delegate*&lt;int, void&gt;)detour.Original</c> for <c>Thread.Sleep(int)</c> or
    /// <c>(delegate*&lt;object, bool&gt;)</c> for an instance method returning bool on a reference type.
    /// </summary>
    nint Original { get; }

    /// <summary>Writes the detour (no-op when applied).</summary>
    /// <exception cref="DetourException">Writing failed; nothing is left written.</exception>
    void Apply();

    /// <summary>Restores the target's code (no-op when not applied). Callers compiled while the detour was
    /// applied call the target again; the not-inline mark set on a managed target stays.</summary>
    void Undo();
}
