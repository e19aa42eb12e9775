namespace Evergreen.Testing;

/// <summary>
/// A failed <see cref="System.Diagnostics.Debug.Assert(bool)"/> or <see cref="System.Diagnostics.Trace.Assert(bool)"/>
/// (<see cref="System.Diagnostics.Debug.Fail(string)"/>) once <see cref="ScheduleExplorer"/> has run: thrown where the
/// assertion failed instead of ending the process, and reported as kind "assertion".
/// </summary>
public sealed class AssertionFailedException : Exception
{
    /// <summary>Creates the exception with the assertion's message and detail.</summary>
    public AssertionFailedException(string? message, string? detail)
        : base(string.IsNullOrEmpty(detail) ? message ?? "Assertion failed." : $"{message} {detail}")
    {
    }
}
