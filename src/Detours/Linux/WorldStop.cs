using System.Runtime.InteropServices;
using Evergreen.Detours.Interop;
using Evergreen.Detours.X64;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Evergreen.Detours.Linux;

/// <summary>One span of code to write: <see cref="Bytes"/> at <see cref="Address"/>.</summary>
internal readonly record struct CodeWrite(nint Address, byte[] Bytes);

/// <summary>
/// An instruction pointer to move while the world is stopped: a thread paused exactly at <see cref="From"/> resumes at
/// <see cref="To"/>, which executes what <see cref="From"/> would have executed before the write.
/// </summary>
internal readonly record struct IpFixup(nint From, nint To);

/// <summary>
/// Writes code while every other thread of the process is stopped, and moves the instruction pointer of any thread that
/// was stopped inside the bytes being replaced — what Windows' Detours does with SuspendThread/SetThreadContext, here
/// with a real-time signal.
/// </summary>
/// <remarks>
/// <para>Why: a patch covers several instructions (a 12-byte jump over a prologue of <c>push rbp; mov rbp, rsp; push
/// rbx; …</c>). A thread preempted after the first of them resumes in the middle of the new jump: SIGSEGV or SIGILL
/// (issue 9, docs/detours.md). No ordering of the writes can prevent that; only knowing where every thread is can.</para>
/// <para>How: one machine-code routine, called once per batch, (1) lists <c>/proc/self/task</c> and sends each other
/// thread the signal with a generation number, (2) waits until every live thread sits in the handler, listing the tasks
/// again until a pass finds no new thread (a stopped thread cannot start one), (3) makes the pages writable, copies
/// every write, restores each page's protection, (4) releases the threads; each one, before it returns from the
/// handler, moves its interrupted instruction pointer by the fixup table and executes <c>cpuid</c> (a serialising
/// instruction: no core runs stale bytes after a cross-modifying write). The writer never runs managed code between
/// (1) and (4) and is in preemptive mode throughout, so a garbage collection that another thread started, or one the
/// stopped threads would need, never waits on a thread that waits on us.</para>
/// <para>What remains: a thread interrupted inside the patched bytes by another signal whose handler is still running
/// when ours arrives resumes there after both handlers return (its saved context is not ours to see); the runtime's
/// own activation signal handler returns at once for code that is not at a GC-interruptible point, and a prologue is
/// not one, so the window is that handler's few instructions.</para>
/// </remarks>
internal static unsafe class WorldStop
{
    // Control block layout (one block for the process; the handler has its address baked in).
    private const int Phase = 0;           // int: 0 idle, 1 stopping, 2 releasing
    private const int Arrived = 4;         // int: threads of this generation inside the handler
    private const int Left = 8;            // int: threads that have left the handler after the release
    private const int Excused = 12;        // int: at the last census, threads arrived, exited, or blocking the signal
    private const int Generation = 16;     // long: sent in si_value; stale signals of an aborted stop are ignored
    private const int Pid = 24;            // int
    private const int SignalNumber = 28;   // int
    private const int TidCount = 32;      // int
    private const int TidCapacity = 36;   // int
    private const int Tids = 40;          // int*
    private const int DirentBuffer = 48;  // byte*
    private const int DirentSize = 56;    // long
    private const int PageCount = 64;     // long
    private const int Pages = 72;         // PageEntry*: { long page, long writable protection, long original protection }
    private const int WriteCount = 80;    // long
    private const int Writes = 88;        // WriteEntry*: { long destination, long source, long length }
    private const int FixupCount = 96;    // long
    private const int Fixups = 104;       // FixupEntry*: { long from, long to }
    private const int WaitRounds = 112;   // long: 1 ms rounds to wait for the threads to stop
    private const int Detail = 120;       // long: errno or thread count of a failure
    private const int TimeoutSpec = 128;  // struct timespec { 0, 1 ms }
    private const int SigInfo = 144;      // siginfo_t (128 bytes) sent with rt_tgsigqueueinfo
    private const int TaskPath = 272;     // "/proc/self/task\0"
    private const int Arrivals = 304;     // byte*: per entry of Tids, 1 once that thread is in the handler
    private const int StatusPath = 312;   // "/proc/self/task/<tid>/status\0" (48 bytes)
    private const int ControlSize = 360;

    private const int PageEntrySize = 24, WriteEntrySize = 24, FixupEntrySize = 16;
    private const int UcontextRip = 168;  // offsetof(ucontext_t, uc_mcontext.gregs[REG_RIP]) on x86-64 glibc/musl
    private const int SigInfoValue = 24;  // offsetof(siginfo_t, si_value)

    // Results of the routine.
    private const int Ok = 0, ListFailed = 1, NotStopped = 2, ProtectFailed = 3, RestoreFailed = 4, TooManyThreads = 5, SignalFailed = 6;

    // x86-64 system calls and flags.
    private const int SysClose = 3, SysMprotect = 10, SysGettid = 186, SysFutex = 202, SysGetdents64 = 217, SysTgkill = 234,
        SysOpenat = 257, SysRtTgsigqueueinfo = 297;
    private const int FutexWaitPrivate = 128, FutexWakePrivate = 129;
    private const int AtFdCwd = -100, ODirectoryCloexec = 0x10000 | 0x80000, Esrch = 3;

    private const int MaxWaitMilliseconds = 2000;

    private static readonly object s_gate = new();
    private static byte* s_control;
    private static delegate* unmanaged<byte*, long> s_run;
    private static int s_tidCapacity = 1024;

    /// <summary>The real-time signal the stop uses (the highest one with no handler at start-up).</summary>
    internal static int Signal { get; private set; }

    /// <summary>Stops done, for tests and benchmarks.</summary>
    internal static long StopCount { get; private set; }

    /// <summary>Builds the routine and installs the handler; call before anything is patched.</summary>
    internal static void EnsureInitialized()
    {
        lock (s_gate)
        {
            if (s_run != null)
            {
                return;
            }

            var control = (byte*)NativeMemory.AllocZeroed(ControlSize);
            *(int*)(control + Pid) = Environment.ProcessId;
            *(long*)(control + TimeoutSpec + 8) = 1_000_000;
            *(long*)(control + WaitRounds) = MaxWaitMilliseconds;
            "/proc/self/task\0"u8.CopyTo(new Span<byte>(control + TaskPath, 16));
            "/proc/self/task/"u8.CopyTo(new Span<byte>(control + StatusPath, 16));
            const int DirentBytes = 32 * 1024;
            *(byte**)(control + DirentBuffer) = (byte*)NativeMemory.Alloc(DirentBytes);
            *(long*)(control + DirentSize) = DirentBytes;

            nint page = CodeMemory.AllocateNear(typeof(WorldStop).TypeHandle.Value);
            var a = new Assembler(64);
            var handler = a.CreateLabel();
            var run = a.CreateLabel();
            EmitHandler(a, ref handler, (ulong)control);
            EmitRun(a, ref run);
            var writer = new PointerCodeWriter(page, CodeMemory.PageSize);
            var result = a.Assemble(writer, (ulong)page, BlockEncoderOptions.ReturnNewInstructionOffsets);
            CodeMemory.MakeExecutable(page);
            nint handlerAddress = (nint)result.GetLabelRIP(handler);
            nint runAddress = (nint)result.GetLabelRIP(run);

            int signal = ChooseSignal();
            Install(signal, handlerAddress);
            *(int*)(control + SignalNumber) = signal;
            var info = (int*)(control + SigInfo);
            info[0] = signal;           // si_signo
            info[2] = -1;               // si_code = SI_QUEUE
            info[4] = Environment.ProcessId; // si_pid

            Signal = signal;
            s_control = control;
            s_run = (delegate* unmanaged<byte*, long>)runAddress;
        }
    }

    /// <summary>
    /// Writes every span with all other threads of the process stopped, applying <paramref name="fixups"/> to the
    /// threads stopped at one of their <see cref="IpFixup.From"/> addresses.
    /// </summary>
    /// <exception cref="InvalidOperationException">The threads could not be stopped or a page not made writable;
    /// nothing was written.</exception>
    internal static void Write(IReadOnlyList<CodeWrite> writes, IReadOnlyList<IpFixup> fixups)
    {
        if (writes.Count == 0)
        {
            return;
        }

        EnsureInitialized();
        var pages = CodeMemory.GetPages(writes.Select(w => (w.Address, w.Bytes.Length)))
            .Where(p => (p.Protection & Libc.ProtWrite) == 0)
            .ToList();

        int sourceBytes = writes.Sum(w => w.Bytes.Length);
        var pageTable = (long*)NativeMemory.Alloc((nuint)(Math.Max(1, pages.Count) * PageEntrySize));
        var writeTable = (long*)NativeMemory.Alloc((nuint)(writes.Count * WriteEntrySize));
        var fixupTable = (long*)NativeMemory.Alloc((nuint)(Math.Max(1, fixups.Count) * FixupEntrySize));
        var sources = (byte*)NativeMemory.Alloc((nuint)sourceBytes);
        try
        {
            for (int i = 0; i < pages.Count; i++)
            {
                pageTable[(i * 3) + 0] = pages[i].Page;
                pageTable[(i * 3) + 1] = pages[i].Protection | Libc.ProtWrite;
                pageTable[(i * 3) + 2] = pages[i].Protection;
            }

            byte* source = sources;
            for (int i = 0; i < writes.Count; i++)
            {
                writes[i].Bytes.CopyTo(new Span<byte>(source, writes[i].Bytes.Length));
                writeTable[(i * 3) + 0] = writes[i].Address;
                writeTable[(i * 3) + 1] = (long)source;
                writeTable[(i * 3) + 2] = writes[i].Bytes.Length;
                source += writes[i].Bytes.Length;
            }

            for (int i = 0; i < fixups.Count; i++)
            {
                fixupTable[(i * 2) + 0] = fixups[i].From;
                fixupTable[(i * 2) + 1] = fixups[i].To;
            }

            lock (s_gate)
            {
                ThrowIfHandlerReplaced();
                byte* c = s_control;
                *(long*)(c + Pages) = (long)pageTable;
                *(long*)(c + PageCount) = pages.Count;
                *(long*)(c + Writes) = (long)writeTable;
                *(long*)(c + WriteCount) = writes.Count;
                *(long*)(c + Fixups) = (long)fixupTable;
                *(long*)(c + FixupCount) = fixups.Count;
                while (true)
                {
                    var tids = (int*)NativeMemory.AllocZeroed((nuint)(s_tidCapacity * sizeof(int)));
                    var arrivals = (byte*)NativeMemory.AllocZeroed((nuint)s_tidCapacity);
                    long result;
                    try
                    {
                        *(long*)(c + Tids) = (long)tids;
                        *(long*)(c + Arrivals) = (long)arrivals;
                        *(int*)(c + TidCapacity) = s_tidCapacity;
                        result = s_run(c);
                    }
                    finally
                    {
                        *(long*)(c + Tids) = 0;
                        *(long*)(c + Arrivals) = 0;
                        NativeMemory.Free(tids);
                        NativeMemory.Free(arrivals);
                    }

                    StopCount++;
                    long detail = *(long*)(c + Detail);
                    switch (result)
                    {
                        case Ok:
                            return;
                        case TooManyThreads:
                            s_tidCapacity *= 4;
                            continue;
                        case RestoreFailed:
                            // The code is written but a page is left writable: worse than a dead process.
                            Environment.FailFast($"Evergreen.Detours: could not restore the protection of a patched page, errno {detail}");
                            return;
                        case NotStopped:
                            throw new InvalidOperationException(
                                $"{detail} thread(s) did not stop within {MaxWaitMilliseconds} ms for signal {Signal} (blocked signal, or stopped by a debugger); nothing was written");
                        case ProtectFailed:
                            throw new InvalidOperationException($"mprotect(+W) of a code page failed, errno {detail}; nothing was written");
                        case ListFailed:
                            throw new InvalidOperationException($"listing /proc/self/task failed, errno {detail}; nothing was written");
                        case SignalFailed:
                            throw new InvalidOperationException($"rt_tgsigqueueinfo failed, errno {detail}; nothing was written");
                        default:
                            throw new InvalidOperationException($"world stop returned {result}");
                    }
                }
            }
        }
        finally
        {
            NativeMemory.Free(pageTable);
            NativeMemory.Free(writeTable);
            NativeMemory.Free(fixupTable);
            NativeMemory.Free(sources);
            if (pages.Count > 0)
            {
                ProcMaps.Invalidate();
            }
        }
    }

    private static int ChooseSignal()
    {
        int min = Libc.SigRtMin(), max = Libc.SigRtMax();
        // From the top: the runtime takes SIGRTMIN for its activation injection, glibc the two below it.
        for (int signal = max - 1; signal > min + 4; signal--)
        {
            var old = default(Libc.SigAction);
            if (Libc.SigActionQuery(signal, null, &old) == 0 && old.Handler == 0)
            {
                return signal;
            }
        }

        throw new PlatformNotSupportedException("no free real-time signal to stop threads with");
    }

    private static void Install(int signal, nint handler)
    {
        var action = default(Libc.SigAction);
        action.Handler = handler;
        action.Flags = Libc.SaSigInfo | Libc.SaRestart;
        // Nothing nests on the handler: a thread sits in it, stopped, and runs nothing else until released.
        new Span<byte>(action.Mask, 128).Fill(0xFF);
        if (Libc.SigActionQuery(signal, &action, null) != 0)
        {
            throw new InvalidOperationException($"sigaction({signal}) failed, errno {Marshal.GetLastPInvokeError()}");
        }
    }

    private static void ThrowIfHandlerReplaced()
    {
        var current = default(Libc.SigAction);
        Libc.SigActionQuery(Signal, null, &current);
        if ((current.Flags & Libc.SaSigInfo) == 0 || current.Handler == 0)
        {
            throw new InvalidOperationException($"the handler of signal {Signal}, which the detour engine stops threads with, was replaced");
        }
    }

    // void handler(int signal /*edi*/, siginfo_t* info /*rsi*/, ucontext_t* context /*rdx*/)
    private static void EmitHandler(Assembler a, ref Label handler, ulong control)
    {
        var wait = a.CreateLabel();
        var released = a.CreateLabel();
        var scan = a.CreateLabel();
        var next = a.CreateLabel();
        var fixedUp = a.CreateLabel();
        var ignore = a.CreateLabel();
        var findSelf = a.CreateLabel();
        var markSelf = a.CreateLabel();
        var counted = a.CreateLabel();
        a.Label(ref handler);
        a.push(rbx);
        a.push(r12);
        a.push(r13);
        a.mov(r12, rdx);
        a.mov(r13, control);
        a.mov(rax, __qword_ptr[rsi + SigInfoValue]);
        a.cmp(rax, __qword_ptr[r13 + Generation]);
        a.jne(ignore);                                  // a stale signal of an aborted stop
        a.cmp(__dword_ptr[r13 + Phase], 1);
        a.jne(ignore);
        // Mark this thread's entry (the writer stores the tid before it sends, so the entry exists; it may be the one
        // at TidCount, not yet counted), then count: the census reads the marks, the wait loop the count.
        Syscall(a, SysGettid);
        a.mov(rcx, __qword_ptr[r13 + Tids]);
        a.mov(edx, __dword_ptr[r13 + TidCount]);
        a.inc(edx);
        a.cmp(edx, __dword_ptr[r13 + TidCapacity]);
        a.cmova(edx, __dword_ptr[r13 + TidCapacity]);
        a.xor(r8d, r8d);
        a.Label(ref findSelf);
        a.cmp(r8d, edx);
        a.jae(counted);
        a.cmp(__dword_ptr[rcx + (r8 * 4)], eax);
        a.je(markSelf);
        a.inc(r8d);
        a.jmp(findSelf);
        a.Label(ref markSelf);
        a.mov(rcx, __qword_ptr[r13 + Arrivals]);
        a.mov(__byte_ptr[rcx + r8], 1);
        a.Label(ref counted);
        a.@lock.inc(__dword_ptr[r13 + Arrived]);
        Futex(a, r13 + Arrived, FutexWakePrivate, 1);
        a.Label(ref wait);
        a.cmp(__dword_ptr[r13 + Phase], 1);
        a.jne(released);
        Futex(a, r13 + Phase, FutexWaitPrivate, 1);
        a.jmp(wait);
        a.Label(ref released);
        a.mov(rax, __qword_ptr[r12 + UcontextRip]);
        a.mov(rcx, __qword_ptr[r13 + FixupCount]);
        a.mov(rdx, __qword_ptr[r13 + Fixups]);
        a.Label(ref scan);
        a.test(rcx, rcx);
        a.jz(fixedUp);
        a.cmp(rax, __qword_ptr[rdx]);
        a.jne(next);
        a.mov(r8, __qword_ptr[rdx + 8]);
        a.mov(__qword_ptr[r12 + UcontextRip], r8);
        a.jmp(fixedUp);
        a.Label(ref next);
        a.add(rdx, FixupEntrySize);
        a.dec(rcx);
        a.jmp(scan);
        a.Label(ref fixedUp);
        a.xor(eax, eax);
        a.cpuid();                                      // serialise before running the rewritten code
        a.@lock.inc(__dword_ptr[r13 + Left]);
        Futex(a, r13 + Left, FutexWakePrivate, 1);
        a.Label(ref ignore);
        a.pop(r13);
        a.pop(r12);
        a.pop(rbx);
        a.ret();
    }

    // long run(byte* control /*rdi*/); registers: r12 control, r13 own tid, r14 counter, r15 new threads this pass,
    // rbp directory fd, rbx cursor.
    private static void EmitRun(Assembler a, ref Label run)
    {
        var enumerate = a.CreateLabel();
        var read = a.CreateLabel();
        var record = a.CreateLabel();
        var parse = a.CreateLabel();
        var parsed = a.CreateLabel();
        var member = a.CreateLabel();
        var send = a.CreateLabel();
        var skip = a.CreateLabel();
        var closeDir = a.CreateLabel();
        var waitLoop = a.CreateLabel();
        var noCensus = a.CreateLabel();
        var census = a.CreateLabel();
        var censusNext = a.CreateLabel();
        var excuse = a.CreateLabel();
        var censusDone = a.CreateLabel();
        var sigBlocked = a.CreateLabel();
        var allArrived = a.CreateLabel();
        var protect = a.CreateLabel();
        var protectFailed = a.CreateLabel();
        var unprotect = a.CreateLabel();
        var unprotectDone = a.CreateLabel();
        var copy = a.CreateLabel();
        var copyDone = a.CreateLabel();
        var restore = a.CreateLabel();
        var restoreNext = a.CreateLabel();
        var restoreDone = a.CreateLabel();
        var release = a.CreateLabel();
        var drain = a.CreateLabel();
        var drained = a.CreateLabel();
        var failList = a.CreateLabel();
        var failListClose = a.CreateLabel();
        var failCapacity = a.CreateLabel();
        var failSignal = a.CreateLabel();
        var failStop = a.CreateLabel();

        a.Label(ref run);
        a.push(rbx);
        a.push(rbp);
        a.push(r12);
        a.push(r13);
        a.push(r14);
        a.push(r15);
        a.push(rax);                                    // result slot
        a.mov(r12, rdi);
        Syscall(a, SysGettid);
        a.mov(r13d, eax);
        a.mov(__qword_ptr[rsp], Ok);
        a.mov(__qword_ptr[r12 + Detail], 0);
        a.mov(__dword_ptr[r12 + TidCount], 0);
        a.mov(__dword_ptr[r12 + Arrived], 0);
        a.mov(__dword_ptr[r12 + Left], 0);
        a.mov(__dword_ptr[r12 + Excused], 0);
        a.mov(rax, __qword_ptr[r12 + Generation]);
        a.inc(rax);
        a.mov(__qword_ptr[r12 + Generation], rax);
        a.mov(__qword_ptr[r12 + SigInfo + SigInfoValue], rax);
        a.mov(eax, 1);
        a.xchg(__dword_ptr[r12 + Phase], eax);          // locked: the phase is visible before any signal is sent

        // (1) list the threads, signal each new one.
        a.Label(ref enumerate);
        a.xor(r15d, r15d);
        a.mov(eax, SysOpenat);
        a.mov(edi, AtFdCwd);
        a.lea(rsi, __[r12 + TaskPath]);
        a.mov(edx, ODirectoryCloexec);
        a.xor(r10d, r10d);
        a.syscall();
        a.test(eax, eax);
        a.js(failList);
        a.mov(ebp, eax);
        a.Label(ref read);
        a.mov(eax, SysGetdents64);
        a.mov(edi, ebp);
        a.mov(rsi, __qword_ptr[r12 + DirentBuffer]);
        a.mov(rdx, __qword_ptr[r12 + DirentSize]);
        a.syscall();
        a.test(rax, rax);
        a.jz(closeDir);
        a.js(failListClose);
        a.mov(rbx, __qword_ptr[r12 + DirentBuffer]);
        a.lea(r14, __[rbx + rax]);
        a.Label(ref record);
        a.cmp(rbx, r14);
        a.jae(read);
        a.lea(rsi, __[rbx + 19]);                       // d_name
        a.xor(eax, eax);
        a.Label(ref parse);
        a.movzx(edx, __byte_ptr[rsi]);
        a.test(edx, edx);
        a.jz(parsed);
        a.sub(edx, '0');
        a.cmp(edx, 9);
        a.ja(skip);                                     // "." and ".."
        a.imul(eax, eax, 10);
        a.add(eax, edx);
        a.inc(rsi);
        a.jmp(parse);
        a.Label(ref parsed);
        a.cmp(eax, r13d);
        a.je(skip);                                     // ourselves
        a.mov(r8d, eax);                                // the tid (syscalls keep r8)
        a.mov(rdi, __qword_ptr[r12 + Tids]);
        a.mov(ecx, __dword_ptr[r12 + TidCount]);
        a.Label(ref member);
        a.test(ecx, ecx);
        a.jz(send);
        a.cmp(__dword_ptr[rdi], r8d);
        a.je(skip);                                     // signalled in an earlier pass
        a.add(rdi, 4);
        a.dec(ecx);
        a.jmp(member);
        a.Label(ref send);
        a.mov(ecx, __dword_ptr[r12 + TidCount]);
        a.cmp(ecx, __dword_ptr[r12 + TidCapacity]);
        a.jae(failCapacity);
        a.mov(rdi, __qword_ptr[r12 + Tids]);
        a.mov(__dword_ptr[rdi + (rcx * 4)], r8d);       // before the signal: the handler finds its entry by tid
        a.mov(eax, SysRtTgsigqueueinfo);
        a.mov(edi, __dword_ptr[r12 + Pid]);
        a.mov(esi, r8d);
        a.mov(edx, __dword_ptr[r12 + SignalNumber]);
        a.lea(r10, __[r12 + SigInfo]);
        a.syscall();
        a.cmp(eax, -Esrch);
        a.je(skip);                                     // it exited meanwhile
        a.test(eax, eax);
        a.jnz(failSignal);
        a.inc(__dword_ptr[r12 + TidCount]);
        a.inc(r15d);
        a.Label(ref skip);
        a.movzx(eax, __word_ptr[rbx + 16]);             // d_reclen
        a.add(rbx, rax);
        a.jmp(record);
        a.Label(ref closeDir);
        CloseDirectory(a);

        // (2) wait until every signalled thread has arrived or exited.
        a.mov(r14, __qword_ptr[r12 + WaitRounds]);
        a.Label(ref waitLoop);
        a.mov(eax, __dword_ptr[r12 + Arrived]);
        a.cmp(eax, __dword_ptr[r12 + TidCount]);
        a.jae(allArrived);
        a.mov(edx, __dword_ptr[r12 + Arrived]);
        a.mov(eax, SysFutex);
        a.lea(rdi, __[r12 + Arrived]);
        a.mov(esi, FutexWaitPrivate);
        a.lea(r10, __[r12 + TimeoutSpec]);
        a.syscall();
        a.dec(r14);
        a.jz(failStop);
        a.test(r14d, 15);
        a.jnz(noCensus);
        // Every 16 rounds, a census of the threads that have not arrived: one that no longer exists never will; one
        // that blocks the signal (glibc blocks every signal while a thread is created and while it exits, and such a
        // thread may wait for a lock a stopped thread holds) runs no managed code meanwhile — it takes the pending
        // signal the moment it unblocks, before running anything else — so it need not be waited for.
        a.mov(__dword_ptr[r12 + Excused], 0);
        a.xor(ebx, ebx);
        a.Label(ref census);
        a.cmp(ebx, __dword_ptr[r12 + TidCount]);
        a.jae(censusDone);
        a.mov(rax, __qword_ptr[r12 + Arrivals]);
        a.cmp(__byte_ptr[rax + rbx], 0);
        a.jne(excuse);                                  // arrived
        a.mov(rax, __qword_ptr[r12 + Tids]);
        a.mov(ebp, __dword_ptr[rax + (rbx * 4)]);
        a.mov(eax, SysTgkill);
        a.mov(edi, __dword_ptr[r12 + Pid]);
        a.mov(esi, ebp);
        a.xor(edx, edx);                                // signal 0: existence check only
        a.syscall();
        a.cmp(eax, -Esrch);
        a.je(excuse);
        a.mov(edi, ebp);
        a.call(sigBlocked);
        a.test(eax, eax);
        a.jz(censusNext);
        a.Label(ref excuse);
        a.inc(__dword_ptr[r12 + Excused]);
        a.Label(ref censusNext);
        a.inc(ebx);
        a.jmp(census);
        a.Label(ref censusDone);
        a.mov(eax, __dword_ptr[r12 + Excused]);         // arrived or excused, each thread once
        a.cmp(eax, __dword_ptr[r12 + TidCount]);
        a.jae(allArrived);
        a.Label(ref noCensus);
        a.jmp(waitLoop);
        a.Label(ref allArrived);
        a.test(r15d, r15d);
        a.jnz(enumerate);                               // threads were new in this pass: list again

        // (3) make the pages writable, write, restore.
        a.xor(ebx, ebx);
        a.Label(ref protect);
        a.cmp(rbx, __qword_ptr[r12 + PageCount]);
        a.jae(copy);
        ProtectPage(a, protectionField: 8);
        a.test(rax, rax);
        a.jnz(protectFailed);
        a.inc(rbx);
        a.jmp(protect);
        a.Label(ref protectFailed);
        a.neg(rax);
        a.mov(__qword_ptr[r12 + Detail], rax);
        a.mov(__qword_ptr[rsp], ProtectFailed);
        a.Label(ref unprotect);                         // give back what was made writable; write nothing
        a.test(rbx, rbx);
        a.jz(unprotectDone);
        a.dec(rbx);
        ProtectPage(a, protectionField: 16);
        a.jmp(unprotect);
        a.Label(ref unprotectDone);
        a.jmp(release);

        a.Label(ref copy);
        a.mov(r8, __qword_ptr[r12 + Writes]);
        a.mov(r9, __qword_ptr[r12 + WriteCount]);
        var copyLoop = a.CreateLabel();
        a.Label(ref copyLoop);
        a.test(r9, r9);
        a.jz(copyDone);
        a.mov(rdi, __qword_ptr[r8]);
        a.mov(rsi, __qword_ptr[r8 + 8]);
        a.mov(rcx, __qword_ptr[r8 + 16]);
        a.rep.movsb();
        a.add(r8, WriteEntrySize);
        a.dec(r9);
        a.jmp(copyLoop);
        a.Label(ref copyDone);
        a.mfence();

        a.xor(ebx, ebx);
        a.Label(ref restore);
        a.cmp(rbx, __qword_ptr[r12 + PageCount]);
        a.jae(restoreDone);
        ProtectPage(a, protectionField: 16);
        a.test(rax, rax);
        a.jz(restoreNext);
        a.neg(rax);
        a.mov(__qword_ptr[r12 + Detail], rax);
        a.mov(__qword_ptr[rsp], RestoreFailed);
        a.Label(ref restoreNext);
        a.inc(rbx);
        a.jmp(restore);
        a.Label(ref restoreDone);
        a.xor(eax, eax);
        a.cpuid();                                      // serialise the writer's own core

        // (4) release, and wait until every arrived thread has left the handler (the tables stay valid until then).
        a.Label(ref release);
        a.mov(eax, 2);
        a.xchg(__dword_ptr[r12 + Phase], eax);
        a.mov(eax, SysFutex);
        a.lea(rdi, __[r12 + Phase]);
        a.mov(esi, FutexWakePrivate);
        a.mov(edx, int.MaxValue);
        a.syscall();
        a.Label(ref drain);
        a.mov(edx, __dword_ptr[r12 + Left]);
        a.cmp(edx, __dword_ptr[r12 + Arrived]);
        a.jae(drained);
        a.mov(eax, SysFutex);
        a.lea(rdi, __[r12 + Left]);
        a.mov(esi, FutexWaitPrivate);
        a.lea(r10, __[r12 + TimeoutSpec]);
        a.syscall();
        a.jmp(drain);
        a.Label(ref drained);
        a.mov(__dword_ptr[r12 + Phase], 0);
        a.pop(rax);
        a.pop(r15);
        a.pop(r14);
        a.pop(r13);
        a.pop(r12);
        a.pop(rbp);
        a.pop(rbx);
        a.ret();

        a.Label(ref failListClose);
        a.mov(r15, rax);
        CloseDirectory(a);
        a.mov(rax, r15);
        a.Label(ref failList);
        a.neg(rax);
        a.mov(__qword_ptr[r12 + Detail], rax);
        a.mov(__qword_ptr[rsp], ListFailed);
        a.jmp(release);
        a.Label(ref failCapacity);
        CloseDirectory(a);
        a.mov(__qword_ptr[rsp], TooManyThreads);
        a.jmp(release);
        a.Label(ref failSignal);
        a.neg(rax);
        a.mov(__qword_ptr[r12 + Detail], rax);
        CloseDirectory(a);
        a.mov(__qword_ptr[rsp], SignalFailed);
        a.jmp(release);
        a.Label(ref failStop);
        a.mov(eax, __dword_ptr[r12 + TidCount]);
        a.sub(eax, __dword_ptr[r12 + Excused]);
        a.mov(__qword_ptr[r12 + Detail], rax);
        a.mov(__qword_ptr[rsp], NotStopped);
        a.jmp(release);

        EmitSigBlocked(a, ref sigBlocked);
    }

    // int sigBlocked(int tid /*edi*/), r12 = control: 1 when /proc/self/task/<tid>/status says the thread blocks the
    // signal, else 0 (also when the file cannot be read). Clobbers rax, rcx, rdx, rsi, rdi, r8-r11.
    private static void EmitSigBlocked(Assembler a, ref Label sigBlocked)
    {
        var digit = a.CreateLabel();
        var search = a.CreateLabel();
        var searchNext = a.CreateLabel();
        var found = a.CreateLabel();
        var skipBlank = a.CreateLabel();
        var blank = a.CreateLabel();
        var hex = a.CreateLabel();
        var notDecimal = a.CreateLabel();
        var haveNibble = a.CreateLabel();
        var parsed = a.CreateLabel();
        var no = a.CreateLabel();
        a.Label(ref sigBlocked);
        // The path: the prefix is in place; the tid's digits, written backwards at +26, then moved to +16.
        a.lea(r8, __[r12 + StatusPath + 26]);
        a.mov(eax, edi);
        a.mov(ecx, 10);
        a.Label(ref digit);
        a.xor(edx, edx);
        a.div(ecx);
        a.add(dl, (byte)'0');
        a.dec(r8);
        a.mov(__byte_ptr[r8], dl);
        a.test(eax, eax);
        a.jnz(digit);
        a.lea(rdi, __[r12 + StatusPath + 16]);
        a.mov(rsi, r8);
        a.lea(rcx, __[r12 + StatusPath + 26]);
        a.sub(rcx, r8);
        a.rep.movsb();                                  // forward copy to a lower address: safe when overlapping
        a.mov(rax, BitConverter.ToUInt64("/status\0"u8));
        a.mov(__qword_ptr[rdi], rax);
        a.mov(eax, SysOpenat);
        a.mov(edi, AtFdCwd);
        a.lea(rsi, __[r12 + StatusPath]);
        a.mov(edx, 0x80000);                            // O_RDONLY | O_CLOEXEC
        a.xor(r10d, r10d);
        a.syscall();
        a.test(eax, eax);
        a.js(no);
        a.mov(r9d, eax);
        a.mov(eax, 0);                                  // read
        a.mov(edi, r9d);
        a.mov(rsi, __qword_ptr[r12 + DirentBuffer]);
        a.mov(edx, 4096);
        a.syscall();
        a.mov(r10, rax);
        a.mov(eax, SysClose);
        a.mov(edi, r9d);
        a.syscall();
        a.test(r10, r10);
        a.jle(no);
        a.mov(rsi, __qword_ptr[r12 + DirentBuffer]);
        a.lea(r11, __[rsi + r10 - 8]);                  // last position where "SigBlk:" plus one byte fits
        a.Label(ref search);
        a.cmp(rsi, r11);
        a.ja(no);
        a.cmp(__dword_ptr[rsi], 0x42676953);            // "SigB"
        a.jne(searchNext);
        a.cmp(__word_ptr[rsi + 4], 0x6B6C);             // "lk"
        a.jne(searchNext);
        a.cmp(__byte_ptr[rsi + 6], (byte)':');
        a.je(found);
        a.Label(ref searchNext);
        a.inc(rsi);
        a.jmp(search);
        a.Label(ref found);
        a.add(rsi, 7);
        a.Label(ref skipBlank);
        a.movzx(eax, __byte_ptr[rsi]);
        a.cmp(eax, '\t');
        a.je(blank);
        a.cmp(eax, ' ');
        a.jne(hex);
        a.Label(ref blank);
        a.inc(rsi);
        a.jmp(skipBlank);
        a.Label(ref hex);
        a.xor(edx, edx);                                // the mask
        a.mov(ecx, 16);
        var hexLoop = a.CreateLabel();
        a.Label(ref hexLoop);
        a.movzx(eax, __byte_ptr[rsi]);
        a.sub(eax, '0');
        a.cmp(eax, 9);
        a.jbe(haveNibble);
        a.Label(ref notDecimal);
        a.movzx(eax, __byte_ptr[rsi]);
        a.sub(eax, 'a' - 10);
        a.cmp(eax, 15);
        a.ja(no);
        a.Label(ref haveNibble);
        a.shl(rdx, 4);
        a.or(rdx, rax);
        a.inc(rsi);
        a.dec(ecx);
        a.jnz(hexLoop);
        a.Label(ref parsed);
        a.mov(ecx, __dword_ptr[r12 + SignalNumber]);
        a.dec(ecx);
        a.xor(eax, eax);
        a.bt(rdx, rcx);
        a.setc(al);
        a.ret();
        a.Label(ref no);
        a.xor(eax, eax);
        a.ret();
    }

    // mprotect(pages[rbx].page, PageSize, pages[rbx].<field>): field 8 is the writable protection, 16 the original one.
    private static void ProtectPage(Assembler a, int protectionField)
    {
        a.imul(r8, rbx, PageEntrySize);
        a.add(r8, __qword_ptr[r12 + Pages]);
        a.mov(eax, SysMprotect);
        a.mov(rdi, __qword_ptr[r8]);
        a.mov(esi, CodeMemory.PageSize);
        a.mov(rdx, __qword_ptr[r8 + protectionField]);
        a.syscall();
    }

    // close(ebp): the /proc/self/task directory of the current pass.
    private static void CloseDirectory(Assembler a)
    {
        a.mov(eax, SysClose);
        a.mov(edi, ebp);
        a.syscall();
    }

    private static void Syscall(Assembler a, int number)
    {
        a.mov(eax, number);
        a.syscall();
    }

    // futex(word, op, value, no timeout)
    private static void Futex(Assembler a, AssemblerMemoryOperand word, int op, int value)
    {
        a.mov(eax, SysFutex);
        a.lea(rdi, word);
        a.mov(esi, op);
        a.mov(edx, value);
        a.xor(r10d, r10d);
        a.syscall();
    }
}
