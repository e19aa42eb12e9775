namespace Evergreen.Bugs;

/// <summary>How a bug of the corpus shows itself when its interleaving happens.</summary>
public enum Manifestation
{
    /// <summary>An exception: thrown by the body after its joins, or escaping one of the threads it started.</summary>
    Exception,

    /// <summary>The threads block each other forever (the body never returns): a deadlock, or a wait nobody ends.</summary>
    Hang,
}

/// <summary>
/// One bug of the corpus. <see cref="Body"/> starts plain threads, joins them and returns when the run was correct;
/// it throws, or one of its threads throws, or it never returns (<see cref="Manifestation.Hang"/>) when the bug's
/// interleaving happened. Every run builds its own objects, so a body can run again and again in one process.
/// </summary>
/// <param name="Name">Short kebab-case name (the bench's row, the test's scenario).</param>
/// <param name="Summary">One line: the bug and the interleaving that shows it.</param>
/// <param name="Shows">Whether the bug throws or hangs.</param>
/// <param name="Body">The buggy code.</param>
/// <param name="Fixed">The same code with the bug fixed, for the bugs that have one here; never fails.</param>
public sealed record Bug(string Name, string Summary, Manifestation Shows, Action Body, Action? Fixed = null);
