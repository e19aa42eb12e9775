using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Evergreen.Detours.Linux;
using Evergreen.Detours.X64;

namespace Evergreen.Detours.Runtime;

/// <summary>Arguments of <c>ICorJitInfo::allocMem</c> (.NET 10 <c>AllocMemArgs</c>).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct AllocMemArgs
{
    internal uint HotCodeSize;
    internal uint ColdCodeSize;
    internal uint RoDataSize;
    internal uint XcptnsCount;
    internal int Flag;
    internal nint HotCodeBlock;     // +24: where the code will run (RX)
    internal nint HotCodeBlockRW;   // +32: where the JIT writes it (a heap buffer under W^X)
    internal nint ColdCodeBlock;
    internal nint ColdCodeBlockRW;
    internal nint RoDataBlock;
    internal nint RoDataBlockRW;
}

/// <summary>
/// Keeps detours on managed methods alive across tiering (tier-0 → instrumented → tier-1, OSR, R2R rejit): every
/// body the JIT compiles for a detoured method gets the jump to the replacement before the runtime publishes it.
/// </summary>
/// <remarks>
/// <para>Mechanism (probe jithook, 0 of 2.5 M calls leaked): <c>ICorJitCompiler::compileMethod</c> (vtable slot 0 of the
/// object <c>getJit()</c> returns) is replaced by <see cref="CompileMethodHook"/>, and <c>ICorJitInfo::allocMem</c>
/// (slot 0xA0 of the CEEJitInfo vtable) by <see cref="AllocMemHook"/>. Under W^X the JIT writes into an RW buffer that
/// the runtime copies to the executable address only after compileMethod returns, so a jump written at
/// <c>*nativeEntry</c> would be overwritten; the hook writes it into the RW buffer instead. allocMem raises the hot code
/// size of a target to at least 16 bytes so the 12-byte jump always fits.</para>
/// <para>Rules for the hooks (each learnt from a failure): they are warmed (run once through their pointers, touching
/// the same thread statics and helpers) before they are installed, or the first compile recursed into a stack overflow;
/// a thread-static depth guard passes nested compiles straight through; no allocation, lock or console output inside;
/// OSR bodies are never patched (entered mid-loop, a jump at their start would run the replacement with a garbage
/// frame); registry arrays are preallocated and append-only.</para>
/// </remarks>
internal static unsafe partial class JitHook
{
    /// <summary>JIT-EE interface version of .NET 10 (getVersionIdentifier). Any other value: refuse to install.</summary>
    internal static readonly Guid ExpectedJitEeGuid = new("7a8cbc56-9e19-4321-80b9-a0d2c578c945");

    private const int SlotCompileMethod = 0;
    private const int SlotGetVersionIdentifier = 2;
    private const int SlotGetOsrInfo = 0x1E;
    private const int SlotAllocMem = 0xA0;
    private const uint MinimumHotCodeSize = 16;

    internal const int MaxTargets = 512;
    internal const int MaxBodies = 8192;
    internal const int SavedBytes = 16;

    private static delegate* unmanaged<nint, nint, nint, uint, byte**, uint*, int> s_originalCompile;
    private static delegate* unmanaged<nint, AllocMemArgs*, void> s_originalAllocMem;
    private static nint s_jit, s_jitVtable, s_jitInfoVtable, s_capturedJitInfoVtable;


    private static long s_patched, s_skippedOsr, s_failed;

    // Self-test capture.
    private static nint s_selfTestMethod, s_selfTestExec, s_selfTestAllocExec, s_selfTestAllocRW;
    private static uint s_selfTestAllocSize, s_selfTestSize;

    [ThreadStatic] private static int t_depth;
    [ThreadStatic] private static int t_slot;
    [ThreadStatic] private static nint t_allocExec;
    [ThreadStatic] private static nint t_allocRW;
    [ThreadStatic] private static uint t_allocSize;

    internal static bool IsInstalled { get; private set; }

    /// <summary>Bodies patched by the hook since start-up.</summary>
    internal static long PatchedCount => Interlocked.Read(ref s_patched);

    /// <summary>OSR bodies of targets left alone.</summary>
    internal static long SkippedOsrCount => Interlocked.Read(ref s_skippedOsr);

    /// <summary>Bodies of targets the hook could not patch (no RW buffer, too small, registry full).</summary>
    internal static long FailedCount => Interlocked.Read(ref s_failed);

    /// <summary>Reads the JIT-EE GUID without writing anything.</summary>
    internal static Guid ReadJitEeGuid()
    {
        if (s_jit == 0)
        {
            s_jit = Interop.ClrJit.GetJit();
            s_jitVtable = *(nint*)s_jit;
        }

        Guid guid;
        ((delegate* unmanaged<nint, Guid*, void>)((nint*)s_jitVtable)[SlotGetVersionIdentifier])(s_jit, &guid);
        return guid;
    }

    /// <summary>Installs the hooks, fail closed.</summary>
    /// <exception cref="PlatformNotSupportedException">GUID mismatch or failed self-test (hooks removed again).</exception>
    internal static void Install()
    {
        if (IsInstalled)
        {
            return;
        }

        Guid guid = ReadJitEeGuid();
        if (guid != ExpectedJitEeGuid)
        {
            throw new PlatformNotSupportedException($"JIT-EE interface {guid} is not the verified {ExpectedJitEeGuid}; refusing to hook the JIT");
        }

        s_originalCompile = (delegate* unmanaged<nint, nint, nint, uint, byte**, uint*, int>)((nint*)s_jitVtable)[SlotCompileMethod];

        // 1. Warm: JIT the hooks and every helper they reach now, while they cannot yet be re-entered by the JIT.
        var capture = (delegate* unmanaged<nint, nint, nint, uint, byte**, uint*, int>)&CaptureHook;
        var compile = (delegate* unmanaged<nint, nint, nint, uint, byte**, uint*, int>)&CompileMethodHook;
        var allocMem = (delegate* unmanaged<nint, AllocMemArgs*, void>)&AllocMemHook;
        capture(0, 0, 0, 0, null, null);
        compile(0, 0, 0, 0, null, null);
        allocMem(0, null);

        // 2. Find the CEEJitInfo vtable: compile a throwaway method with a hook that only records comp's vtable.
        WriteSlot(s_jitVtable + (SlotCompileMethod * sizeof(nint)), (nint)capture);
        try
        {
            RuntimeHelpers.PrepareMethod(Method(nameof(Throwaway)).MethodHandle);
        }
        finally
        {
            WriteSlot(s_jitVtable + (SlotCompileMethod * sizeof(nint)), (nint)s_originalCompile);
        }

        s_jitInfoVtable = s_capturedJitInfoVtable;
        if (s_jitInfoVtable == 0)
        {
            throw new PlatformNotSupportedException("could not find the JIT-EE (CEEJitInfo) vtable");
        }

        s_originalAllocMem = (delegate* unmanaged<nint, AllocMemArgs*, void>)((nint*)s_jitInfoVtable)[SlotAllocMem];

        // 3. allocMem first, so every compile that enters the new compileMethod already has its allocMem hooked.
        WriteSlot(s_jitInfoVtable + (SlotAllocMem * sizeof(nint)), (nint)allocMem);
        WriteSlot(s_jitVtable + (SlotCompileMethod * sizeof(nint)), (nint)compile);
        IsInstalled = true;

        // 4. Self-test: a fresh compile must show allocMem's hot block == the published entry, and an RW buffer.
        var selfTest = Method(nameof(SelfTestTarget));
        Volatile.Write(ref s_selfTestMethod, selfTest.MethodHandle.Value);
        RuntimeHelpers.PrepareMethod(selfTest.MethodHandle);
        bool ok = s_selfTestExec != 0 && s_selfTestAllocExec == s_selfTestExec && s_selfTestAllocRW != 0 && s_selfTestAllocSize >= s_selfTestSize;
        if (!ok)
        {
            Uninstall();
            throw new PlatformNotSupportedException(
                $"JIT hook self-test failed (exec 0x{s_selfTestExec:X}, allocMem hot 0x{s_selfTestAllocExec:X}, RW 0x{s_selfTestAllocRW:X}); hooks removed");
        }
    }

    private static void Uninstall()
    {
        WriteSlot(s_jitVtable + (SlotCompileMethod * sizeof(nint)), (nint)s_originalCompile);
        WriteSlot(s_jitInfoVtable + (SlotAllocMem * sizeof(nint)), (nint)s_originalAllocMem);
        IsInstalled = false;
    }

    [UnmanagedCallersOnly]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int CompileMethodHook(nint jit, nint comp, nint info, uint flags, byte** nativeEntry, uint* nativeSize)
    {
        if (jit == 0)
        {
            // Warm-up: the same thread statics, interlocked helpers and last-error plumbing as the real path
            // (with DOTNET_ReadyToRun=0 the TLS helper is not precompiled; unwarmed, the first compile recursed forever).
            t_depth++;
            t_slot = -1;
            t_allocExec = 0;
            t_allocRW = 0;
            t_allocSize = 0;
            t_depth--;
            Marshal.SetLastPInvokeError(Marshal.GetLastPInvokeError());
            Interlocked.Increment(ref s_inFlight[0]);
            Interlocked.Decrement(ref s_inFlight[0]);
            return Volatile.Read(ref s_targetCount) - s_targetCount;
        }

        int lastError = Marshal.GetLastPInvokeError();
        int depth = ++t_depth;
        try
        {
            if (depth > 1)
            {
                return s_originalCompile(jit, comp, info, flags, nativeEntry, nativeSize);
            }

            nint method = *(nint*)info; // CORINFO_METHOD_INFO.ftn == RuntimeMethodHandle.Value
            int slot = -1;
            int count = Volatile.Read(ref s_targetCount);
            for (int i = 0; i < count; i++)
            {
                if (s_targetMethod[i] == method && Volatile.Read(ref s_destination[i]) != 0)
                {
                    slot = i;
                    break;
                }
            }

            t_slot = slot;
            t_allocExec = 0;
            t_allocRW = 0;
            t_allocSize = 0;
            if (slot < 0)
            {
                int r = s_originalCompile(jit, comp, info, flags, nativeEntry, nativeSize);
                if (method == s_selfTestMethod && r == 0)
                {
                    s_selfTestExec = (nint)(*nativeEntry);
                    s_selfTestSize = *nativeSize;
                    s_selfTestAllocExec = t_allocExec;
                    s_selfTestAllocRW = t_allocRW;
                    s_selfTestAllocSize = t_allocSize;
                }

                return r;
            }

            Interlocked.Increment(ref s_inFlight[slot]);
            try
            {
                int result = s_originalCompile(jit, comp, info, flags, nativeEntry, nativeSize);
                nint destination = Volatile.Read(ref s_destination[slot]);
                if (result != 0 || destination == 0)
                {
                    return result;
                }

                uint ilOffset;
                nint* vtable = *(nint**)comp;
                if (((delegate* unmanaged<nint, uint*, nint>)vtable[SlotGetOsrInfo])(comp, &ilOffset) != 0)
                {
                    Interlocked.Increment(ref s_skippedOsr);
                    return result;
                }

                if (t_allocRW == 0 || t_allocExec != (nint)(*nativeEntry) || t_allocSize < JumpCode.AbsoluteLength)
                {
                    Interlocked.Increment(ref s_failed);
                    return result;
                }

                int index = Interlocked.Increment(ref s_bodyCount) - 1;
                if (index >= MaxBodies)
                {
                    Interlocked.Increment(ref s_failed);
                    return result;
                }

                byte* rw = (byte*)t_allocRW;
                uint keep = Math.Min(t_allocSize, SavedBytes);
                for (int i = 0; i < SavedBytes; i++)
                {
                    s_bodySaved[(index * SavedBytes) + i] = i < keep ? rw[i] : (byte)0xCC;
                }

                s_bodyAddress[index] = t_allocExec;
                s_bodySlot[index] = slot;
                // mov rax, imm64; jmp rax (written inline: nothing un-warmed may run in here)
                rw[0] = 0x48;
                rw[1] = 0xB8;
                *(long*)(rw + 2) = destination;
                rw[10] = 0xFF;
                rw[11] = 0xE0;
                Volatile.Write(ref s_bodyReady[index], 1);
                Interlocked.Increment(ref s_patched);
                return result;
            }
            finally
            {
                Interlocked.Decrement(ref s_inFlight[slot]);
            }
        }
        finally
        {
            t_depth--;
            Marshal.SetLastPInvokeError(lastError);
        }
    }

    [UnmanagedCallersOnly]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AllocMemHook(nint self, AllocMemArgs* args)
    {
        if (self == 0)
        {
            _ = t_depth + t_slot;
            t_allocExec = 0;
            t_allocRW = 0;
            t_allocSize = 0;
            return;
        }

        bool target = t_depth == 1 && t_slot >= 0;
        if (target && args->HotCodeSize < MinimumHotCodeSize)
        {
            // The JIT treats hotCodeSize as capacity: a tiny body gets room for the 12-byte jump.
            args->HotCodeSize = MinimumHotCodeSize;
        }

        s_originalAllocMem(self, args);
        if (t_depth == 1)
        {
            t_allocExec = args->HotCodeBlock;
            t_allocRW = args->HotCodeBlockRW;
            t_allocSize = args->HotCodeSize;
        }
    }

    [UnmanagedCallersOnly]
    private static int CaptureHook(nint jit, nint comp, nint info, uint flags, byte** nativeEntry, uint* nativeSize)
    {
        if (jit == 0)
        {
            return 0;
        }

        if (s_capturedJitInfoVtable == 0)
        {
            s_capturedJitInfoVtable = *(nint*)comp;
        }

        return s_originalCompile(jit, comp, info, flags, nativeEntry, nativeSize);
    }

    private static void WriteSlot(nint slot, nint value)
    {
        // Vtables live in RELRO (r--): make the page writable for one atomic store, then restore what it was.
        var pages = CodeMemory.GetPages(slot, sizeof(nint));
        CodeMemory.WithWritable(pages, () => Interlocked.Exchange(ref *(nint*)slot, value));
    }

    private static MethodInfo Method(string name)
        => typeof(JitHook).GetMethod(name, BindingFlags.NonPublic | BindingFlags.Static)!;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int Throwaway(int x) => (x * 3) + 1;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int SelfTestTarget(int a, int b)
    {
        int sum = 0;
        for (int i = a; i < b; i++)
        {
            sum += i * a;
        }

        return sum;
    }
}
