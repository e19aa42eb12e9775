namespace Evergreen.Internal;

/// <summary>
/// What a parked green thread waits on, as its wait site noted it (<see cref="GreenThread.NoteWait"/>): for the thread
/// dump and the deadlock check. <see cref="Timed"/> is a flag: the wait ends by itself at a deadline, so it can never
/// be part of a deadlock.
/// </summary>
internal enum WaitKind
{
    None = 0,
    Lock,        // target: the object (or System.Threading.Lock) whose lock is wanted
    Join,        // target: the GreenThread or Thread joined
    Condition,   // Monitor.Wait; target: the object
    Sleep,       // target: the WakeTimer, or null for a sleep without end
    Socket,      // target: the socket's state (its ToString names fd and endpoints); detail: the operation
    Fd,          // target: the hub's state of the fd; detail: read or write
    Event,       // target: the Event
    Semaphore,   // target: the semaphore, or the GreenPool whose free slot is awaited
    Queue,       // target: the queue; detail: put, get or join
    WaitHandle,  // target: the WaitHandle, or the array of them (WaitAny/WaitAll)
    Native,      // a call made on another OS thread while the green thread waits; target: the delegate; detail: what
    Other,       // detail says
    Timed = 0x100,
}
