using System.Reflection;

namespace Evergreen.Detours;

/// <summary>
/// Redirects calls of a method to a replacement, process-wide. The one seam between the monkey
/// patcher and whatever writes the machine code: our own engine (<see cref="DetourEngine.Default"/>)
/// or an adapter over Harmony / MonoMod where a user has them.
/// </summary>
/// <remarks>
/// <para>The replacement is a <b>static</b> method with the target's signature; for an instance target
/// its first parameter is the <c>this</c> (the declaring type, <see cref="object"/> for a reference type,
/// or <c>ref T</c> for a value type). A non-public enum may be written as its underlying type and a
/// non-public single-field struct (such as <c>System.Threading.Lock.ThreadId</c>) as its field's type.</para>
/// <para>Two-phase use: <see cref="Prepare"/> builds everything (the original-code trampoline included)
/// without touching the target, so the replacement can find <see cref="IDetour.Original"/> before the
/// first redirected call arrives. That matters whenever the target runs on other threads while the patch is
/// written, and always for targets the engine itself passes through (a <c>lock</c>).</para>
/// </remarks>
public interface IDetourEngine
{
    /// <summary>Validates a detour and builds its trampoline; writes nothing to the target.</summary>
    /// <param name="target">The method whose calls are to be redirected.</param>
    /// <param name="replacement">A static method with a matching signature.</param>
    /// <returns>A detour that is not applied yet; <see cref="IDetour.Original"/> is already callable.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The signatures do not match (the message names the mismatch).</exception>
    /// <exception cref="NotSupportedException">The target cannot be detoured (abstract, P/Invoke, open or shared generic code).</exception>
    /// <exception cref="DetourException">The target's code cannot be patched safely (the message says why).</exception>
    IDetour Prepare(MethodBase target, MethodInfo replacement);

    /// <summary>Prepares and applies one detour.</summary>
    /// <param name="target">The method whose calls are to be redirected.</param>
    /// <param name="replacement">A static method with a matching signature.</param>
    /// <returns>The applied detour.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The signatures do not match.</exception>
    /// <exception cref="NotSupportedException">The target cannot be detoured.</exception>
    /// <exception cref="DetourException">Writing the detour failed; nothing is left written.</exception>
    IDetour Apply(MethodBase target, MethodInfo replacement);

    /// <summary>Prepares and applies a batch, all or nothing.</summary>
    /// <param name="batch">Target / replacement pairs.</param>
    /// <returns>The applied detours, in batch order.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="batch"/> or one of its methods is null.</exception>
    /// <exception cref="ArgumentException">A pair's signatures do not match.</exception>
    /// <exception cref="DetourException">One detour failed; every detour of the batch already written has been undone.</exception>
    IReadOnlyList<IDetour> ApplyAll(IReadOnlyList<(MethodBase Target, MethodInfo Replacement)> batch);

    /// <summary>Applies prepared detours, all or nothing.</summary>
    /// <param name="prepared">Detours from <see cref="Prepare"/> (already-applied ones are left as they are).</param>
    /// <exception cref="ArgumentNullException"><paramref name="prepared"/> or an element is null.</exception>
    /// <exception cref="DetourException">One detour failed; every detour this call wrote has been undone.</exception>
    void ApplyAll(IReadOnlyList<IDetour> prepared);
}
