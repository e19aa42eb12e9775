namespace Evergreen;

/// <summary>
/// A bounded queue had no room: thrown by <see cref="GreenLightQueue{T}.PutNowait"/> on a full queue and by
/// <see cref="GreenLightQueue{T}.Put(T, TimeSpan)"/> when the timeout passes first (Python's <c>queue.Full</c>).
/// </summary>
public class QueueFullException : InvalidOperationException
{
    /// <summary>Creates the exception with the default message.</summary>
    public QueueFullException() : base("The queue is full.") { }

    /// <summary>Creates the exception with a message.</summary>
    public QueueFullException(string message) : base(message) { }
}
