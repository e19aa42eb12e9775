using System.Reflection;

namespace Evergreen.Detours.Child;

/// <summary>One detour target (or a pair that only make sense together, like Monitor's two FCalls) and its callers.</summary>
internal sealed class Case
{
    internal required string Name { get; init; }

    /// <summary>Target, replacement, and where the replacement finds the original (set before the patch is written).</summary>
    internal required (MethodBase Target, MethodInfo Replacement, Action<nint> SetOriginal)[] Detours { get; init; }

    /// <summary>A call site run once before the patch (so it is compiled before it) and again after.</summary>
    internal required Action Before { get; init; }

    /// <summary>A call site first run after the patch, compiled with AggressiveOptimization.</summary>
    internal required Action AfterOptimized { get; init; }

    /// <summary>A framework method that reaches the target on this thread; null where none exists.</summary>
    internal Action? Framework { get; init; }

    /// <summary>A call that is valid with the replacement passing through or not (race and hot loops).</summary>
    internal required Action Call { get; init; }

    /// <summary>Whether hot loops may run with <see cref="Probe.PassThrough"/> off.</summary>
    internal bool HotWithoutOriginal { get; init; } = true;

    /// <summary>Checks the original still behaves (replacement passing through); throws on failure.</summary>
    internal required Action Original { get; init; }

    /// <summary>Optional extra check after a race (e.g. an exact locked counter).</summary>
    internal Func<long, string?>? AfterRace { get; init; }
}
