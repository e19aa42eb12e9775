namespace Evergreen;

/// <summary>
/// A queue had no item to give: thrown by <see cref="GreenLightQueue{T}.GetNowait"/> on an empty queue and by
/// <see cref="GreenLightQueue{T}.Get(TimeSpan)"/> when the timeout passes first (Python's <c>queue.Empty</c>).
/// </summary>
public class QueueEmptyException : InvalidOperationException
{
    /// <summary>Creates the exception with the default message.</summary>
    public QueueEmptyException() : base("The queue is empty.") { }

    /// <summary>Creates the exception with a message.</summary>
    public QueueEmptyException(string message) : base(message) { }
}
