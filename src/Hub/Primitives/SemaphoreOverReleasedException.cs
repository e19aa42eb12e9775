namespace Evergreen;

/// <summary>
/// A <see cref="GreenBoundedSemaphore"/> was released more times than it was acquired (eventlet raises
/// <c>ValueError("Semaphore released too many times")</c>). Named so as not to clash with
/// <see cref="System.Threading.SemaphoreFullException"/>, which the implicit <c>System.Threading</c> using brings in.
/// </summary>
public class SemaphoreOverReleasedException : InvalidOperationException
{
    /// <summary>Creates the exception with a message.</summary>
    public SemaphoreOverReleasedException(string message) : base(message) { }
}
