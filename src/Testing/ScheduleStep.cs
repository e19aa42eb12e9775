namespace Evergreen.Testing;

/// <summary>
/// One step of an explored schedule: at preemption point number <paramref name="Index"/>, green thread
/// <paramref name="Thread"/> (named by its start order in the run: <c>T1</c> runs the body, <c>T2</c> is the first thread
/// it started, …) did <paramref name="Operation"/> (<c>Monitor.Enter</c>, <c>Thread.Start</c>, …) on
/// <paramref name="Target"/> (the object's type name, or null).
/// </summary>
public readonly record struct ScheduleStep(int Index, string Thread, string Operation, string? Target)
{
    /// <summary>One line: <c>#12 T2 Monitor.Enter Account</c>.</summary>
    public override string ToString() => Target is null ? $"#{Index} {Thread} {Operation}" : $"#{Index} {Thread} {Operation} {Target}";
}
