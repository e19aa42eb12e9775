using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Evergreen.Detours.Linux;
using Evergreen.Detours.Platform;
using Evergreen.Detours.Runtime;
using Evergreen.Detours.X64;

namespace Evergreen.Detours;

/// <summary>
/// The built-in engine: patches the code body a method's entry point leads to (JIT'd, R2R, or the native body of an
/// FCall in libcoreclr) with a jump to the replacement, and keeps managed targets patched across tiering with
/// <see cref="JitHook"/>.
/// </summary>
internal sealed class BodyDetourEngine : IDetourEngine
{
    private readonly EngineLock _lock = new();
    private readonly Dictionary<nint, BodyDetour> _appliedByMethod = new();
    private readonly HashSet<nint> _patchedBodies = new();

    private BodyDetourEngine()
    {
    }

    /// <summary>Runs every start-up check in order; the first failure throws before anything of a target is written.</summary>
    internal static BodyDetourEngine Create()
    {
        PlatformGuard.ThrowIfUnsupported(PlatformGuard.Current);
        if (!MethodDescFlags.Verify())
        {
            throw new PlatformNotSupportedException(
                $"MethodDesc layout check failed: m_wFlags at +{MethodDescFlags.FlagsOffset} does not carry mdfNotInline 0x{MethodDescFlags.NotInline:X} as on .NET 10");
        }

        WorldStop.EnsureInitialized();
        JitHook.Install();
        return new BodyDetourEngine();
    }

    /// <inheritdoc />
    public IDetour Prepare(MethodBase target, MethodInfo replacement)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(replacement);
        ThrowIfUnsupportedTarget(target);
        if (replacement.GetType().Name is "DynamicMethod" or "RTDynamicMethod")
        {
            throw new NotSupportedException($"replacement {DetourException.Describe(replacement)} must be a compiled method (not a DynamicMethod)");
        }

        SignatureMatcher.ThrowIfMismatch(target, replacement);

        bool isFCall = (target.MethodImplementationFlags & MethodImplAttributes.InternalCall) != 0;
        PrepareCode(target);
        RuntimeHelpers.PrepareMethod(replacement.MethodHandle);
        nint destination = replacement.MethodHandle.GetFunctionPointer();

        _lock.Enter();
        try
        {
            nint entry = target.MethodHandle.GetFunctionPointer();
            nint body = StubWalker.FindBody(entry, IsOursLocked);
            if (IsOursLocked(body))
            {
                throw new DetourException(target, "already detoured by this engine; undo the existing detour first");
            }

            var region = CheckBody(target, body, isFCall);
            Trampoline trampoline;
            try
            {
                trampoline = Trampoline.Build(body, destination, (int)Math.Min(int.MaxValue, region.End - (ulong)body));
            }
            catch (InvalidOperationException e)
            {
                throw new DetourException(target, $"cannot patch the body at 0x{body:X} ({region.Path}): {e.Message}", e);
            }

            byte[] original = new byte[trampoline.PatchLength];
            Marshal.Copy(body, original, 0, original.Length);
            return new BodyDetour(this, target, replacement, isFCall, entry, body, destination, trampoline, original);
        }
        finally
        {
            _lock.Exit();
        }
    }

    /// <inheritdoc />
    public IDetour Apply(MethodBase target, MethodInfo replacement)
    {
        var detour = Prepare(target, replacement);
        ApplyAll(new[] { detour });
        return detour;
    }

    /// <inheritdoc />
    public IReadOnlyList<IDetour> ApplyAll(IReadOnlyList<(MethodBase Target, MethodInfo Replacement)> batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var prepared = new IDetour[batch.Count];
        for (int i = 0; i < batch.Count; i++)
        {
            try
            {
                prepared[i] = Prepare(batch[i].Target, batch[i].Replacement);
            }
            catch (DetourException)
            {
                throw;
            }
            catch (Exception e) when (e is not ArgumentException && batch[i].Target is not null)
            {
                throw new DetourException(batch[i].Target, e.Message, e);
            }
        }

        ApplyAll(prepared);
        return prepared;
    }

    /// <inheritdoc />
    public void ApplyAll(IReadOnlyList<IDetour> prepared)
    {
        ArgumentNullException.ThrowIfNull(prepared);
        var detours = new BodyDetour[prepared.Count];
        for (int i = 0; i < prepared.Count; i++)
        {
            detours[i] = prepared[i] as BodyDetour ?? throw new ArgumentException($"element {i} is not a detour of this engine", nameof(prepared));
            if (!ReferenceEquals(detours[i].Engine, this))
            {
                throw new ArgumentException($"element {i} belongs to another engine", nameof(prepared));
            }
        }

        _lock.Enter();
        try
        {
            // One world stop writes every body of the batch; all or nothing.
            var begun = new List<BodyDetour>(detours.Length);
            var writes = new List<CodeWrite>();
            var fixups = new List<IpFixup>();
            BodyDetour? current = null;
            try
            {
                foreach (var detour in detours)
                {
                    if (!detour.IsApplied && !begun.Contains(detour))
                    {
                        current = detour;
                        detour.BeginLocked(writes, fixups);
                        begun.Add(detour);
                    }
                }

                current = null;
                WorldStop.Write(writes, fixups);
            }
            catch (Exception e)
            {
                // Nothing of the batch is written: take back the registrations.
                begun.ForEach(d => d.ForgetLocked());
                throw Wrap(e, current ?? begun.FirstOrDefault() ?? detours[0]);
            }

            foreach (var detour in begun)
            {
                try
                {
                    detour.CompleteLocked();
                }
                catch (Exception e)
                {
                    RestoreLocked(begun);
                    throw Wrap(e, detour);
                }
            }
        }
        finally
        {
            _lock.Exit();
        }
    }

    private static DetourException Wrap(Exception e, BodyDetour detour)
        => e as DetourException ?? new DetourException(detour.Target, e.Message, e);

    internal void Undo(BodyDetour detour)
    {
        _lock.Enter();
        try
        {
            if (detour.IsApplied)
            {
                RestoreLocked([detour]);
            }
        }
        finally
        {
            _lock.Exit();
        }
    }

    /// <summary>Restores every body of <paramref name="detours"/> in one world stop.</summary>
    private static void RestoreLocked(IReadOnlyList<BodyDetour> detours)
    {
        var writes = new List<CodeWrite>();
        var fixups = new List<IpFixup>();
        foreach (var detour in detours)
        {
            detour.CollectRestoreLocked(writes, fixups);
        }

        try
        {
            WorldStop.Write(writes, fixups);
        }
        catch (Exception e)
        {
            foreach (var detour in detours)
            {
                detour.ResumeLocked();
            }

            throw Wrap(e, detours[0]);
        }

        foreach (var detour in detours)
        {
            detour.ForgetLocked();
        }
    }

    internal bool IsOursLocked(nint address) => _patchedBodies.Contains(address) || JitHook.IsPatchedBody(address);

    internal void TrackBody(nint body, bool patched)
    {
        if (patched)
        {
            _patchedBodies.Add(body);
        }
        else
        {
            _patchedBodies.Remove(body);
        }
    }

    internal void TrackApplied(BodyDetour detour, bool applied)
    {
        nint key = detour.Target.MethodHandle.Value;
        if (applied)
        {
            if (_appliedByMethod.TryGetValue(key, out var other) && !ReferenceEquals(other, detour))
            {
                throw new DetourException(detour.Target, "already detoured by this engine; undo the existing detour first");
            }

            _appliedByMethod[key] = detour;
        }
        else
        {
            _appliedByMethod.Remove(key);
        }
    }

    private static void ThrowIfUnsupportedTarget(MethodBase target)
    {
        if (target.ContainsGenericParameters)
        {
            throw new NotSupportedException($"{DetourException.Describe(target)} is an open generic; detour a closed instantiation");
        }

        if (target.IsAbstract)
        {
            throw new NotSupportedException($"{DetourException.Describe(target)} is abstract and has no body");
        }

        if ((target.Attributes & MethodAttributes.PinvokeImpl) != 0)
        {
            throw new NotSupportedException($"{DetourException.Describe(target)} is a P/Invoke; detour the managed method that calls it");
        }

        if (target.GetType().Name is "DynamicMethod" or "RTDynamicMethod")
        {
            throw new NotSupportedException("dynamic methods cannot be detoured");
        }

        // Reference-type instantiations share one canonical (__Canon) body: patching it would redirect every
        // reference instantiation at once, and the JIT reports the canonical method, not ours.
        var typeArgs = (target.DeclaringType?.IsGenericType == true ? target.DeclaringType.GetGenericArguments() : Type.EmptyTypes)
            .Concat(target.IsGenericMethod ? target.GetGenericArguments() : Type.EmptyTypes);
        if (typeArgs.Any(t => !t.IsValueType))
        {
            throw new NotSupportedException(
                $"{DetourException.Describe(target)} is a generic instantiation over a reference type, whose code is shared with every other reference instantiation; only value-type instantiations (own code) can be detoured");
        }
    }

    private static void PrepareCode(MethodBase target)
    {
        var declaring = target.DeclaringType;
        if (declaring is { IsGenericType: true })
        {
            RuntimeHelpers.PrepareMethod(target.MethodHandle, declaring.GetGenericArguments().Select(t => t.TypeHandle).ToArray());
        }
        else
        {
            RuntimeHelpers.PrepareMethod(target.MethodHandle);
        }
    }

    private static MemoryRegion CheckBody(MethodBase target, nint body, bool isFCall)
    {
        if (!ProcMaps.TryFind(body, out var region) || (region.Protection & Interop.Libc.ProtExec) == 0)
        {
            throw new DetourException(target, $"the body found at 0x{body:X} is not executable memory");
        }

        if (isFCall && !region.Path.EndsWith("libcoreclr.so", StringComparison.Ordinal))
        {
            throw new DetourException(target, $"the FCall's body at 0x{body:X} is not in libcoreclr ({region.Path})");
        }

        // A FixupPrecode that was never fixed up continues with 'mov r10, [rip+x]' into the prestub: no code yet.
        unsafe
        {
            byte* p = (byte*)body;
            if (p[0] == 0x4C && p[1] == 0x8B && p[2] == 0x15)
            {
                throw new DetourException(target, "the method has no code body yet (entry still leads to the prestub)");
            }
        }

        return region;
    }
}
