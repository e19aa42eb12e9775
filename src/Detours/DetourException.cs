using System.Reflection;

namespace Evergreen.Detours;

/// <summary>A detour could not be written or undone. <see cref="Target"/> names the method and the message says why.</summary>
public sealed class DetourException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="target">The method whose detour failed.</param>
    /// <param name="reason">Why it failed.</param>
    /// <param name="inner">The underlying exception, if any.</param>
    public DetourException(MethodBase? target, string reason, Exception? inner = null)
        : base(target is null ? reason : $"{Describe(target)}: {reason}", inner)
    {
        Target = target;
        Reason = reason;
    }

    /// <summary>The method whose detour failed.</summary>
    public MethodBase? Target { get; }

    /// <summary>Why it failed, without the target's name.</summary>
    public string Reason { get; }

    internal static string Describe(MethodBase m)
        => $"{m.DeclaringType?.FullName}.{m.Name}({string.Join(", ", m.GetParameters().Select(p => p.ParameterType.Name))})";
}
