using System.Reflection;
using System.Runtime.InteropServices;
using Evergreen.Detours.Linux;
using Evergreen.Detours.Runtime;
using Evergreen.Detours.X64;

namespace Evergreen.Detours;

/// <summary>One body detour of <see cref="BodyDetourEngine"/>. State changes happen under the engine's lock.</summary>
internal sealed class BodyDetour : IDetour
{
    private const int MaxBodyRechecks = 4;

    private readonly nint _entry;
    private readonly nint _body;
    private readonly nint _destination;
    private readonly Trampoline _trampoline;
    private readonly byte[] _original;
    private readonly List<(nint Body, byte[] Original, byte[] Patch)> _patched = new();
    private int _jitSlot = -1;
    private bool _wasNotInline;
    private volatile bool _applied;

    internal BodyDetour(BodyDetourEngine engine, MethodBase target, MethodInfo replacement, bool isFCall,
        nint entry, nint body, nint destination, Trampoline trampoline, byte[] original)
    {
        Engine = engine;
        Target = target;
        Replacement = replacement;
        IsFCall = isFCall;
        _entry = entry;
        _body = body;
        _destination = destination;
        _trampoline = trampoline;
        _original = original;
    }

    internal BodyDetourEngine Engine { get; }

    /// <summary>The target is an FCall whose native body in libcoreclr is patched (no JIT hook, never re-compiled).</summary>
    internal bool IsFCall { get; }

    /// <summary>The body patched first (the one <see cref="Original"/> continues into).</summary>
    internal nint Body => _body;

    /// <summary>Bytes of the body replaced by the jump.</summary>
    internal int PatchLength => _trampoline.PatchLength;

    /// <summary>The trampoline page.</summary>
    internal nint TrampolinePage => _trampoline.Page;

    /// <inheritdoc />
    public MethodBase Target { get; }

    /// <inheritdoc />
    public MethodInfo Replacement { get; }

    /// <inheritdoc />
    public bool IsApplied => _applied;

    /// <inheritdoc />
    public nint Original => _trampoline.Original;

    /// <inheritdoc />
    public void Apply() => Engine.ApplyAll(new IDetour[] { this });

    /// <inheritdoc />
    public void Undo() => Engine.Undo(this);

    /// <inheritdoc />
    public void Dispose() => Undo();

    /// <summary>
    /// First half of applying, before the batch's one world stop: from the JIT registration on every new body is born
    /// patched; from the not-inline mark on no caller compiled later can inline the target and bypass the jump.
    /// Adds the body's write and the fixups of threads stopped inside its prologue.
    /// </summary>
    internal void BeginLocked(List<CodeWrite> writes, List<IpFixup> fixups)
    {
        Engine.TrackApplied(this, applied: true);
        try
        {
            if (!IsFCall)
            {
                _jitSlot = JitHook.Register(Target.MethodHandle.Value, _destination);
                _wasNotInline = MethodDescFlags.SetNotInline(Target.MethodHandle);
            }

            ThrowIfChanged(_body, _original);
        }
        catch
        {
            ForgetLocked();
            throw;
        }

        writes.Add(new CodeWrite(_body, _trampoline.Patch));
        fixups.AddRange(_trampoline.EntryFixups);
    }

    /// <summary>Second half, after the world stop wrote the body: a body tier-up published meanwhile is patched too.</summary>
    internal void CompleteLocked()
    {
        Remember(_body, _original, _trampoline.Patch);
        if (!IsFCall)
        {
            // Tier-up may publish a body between our look at the entry and the moment the JIT hook saw the target
            // (a compile already past its registry check): re-resolve the entry and patch what it leads to.
            for (int i = 0; i < MaxBodyRechecks; i++)
            {
                nint current = StubWalker.FindBody(_entry, Engine.IsOursLocked);
                if (Engine.IsOursLocked(current))
                {
                    break;
                }

                // Its own (unused) trampoline proves it safe to patch and maps threads stopped in its prologue.
                if (!ProcMaps.TryFind(current, out var region))
                {
                    throw new InvalidOperationException($"new body 0x{current:X} is not mapped");
                }

                var check = Trampoline.Build(current, _destination, (int)Math.Min(int.MaxValue, region.End - (ulong)current));
                byte[] saved = new byte[check.PatchLength];
                Marshal.Copy(current, saved, 0, saved.Length);
                ThrowIfChanged(current, saved);
                WorldStop.Write([new CodeWrite(current, check.Patch)], check.EntryFixups);
                Remember(current, saved, check.Patch);
            }
        }

        _applied = true;
    }

    /// <summary>
    /// Adds the writes that restore every body this detour patched (and the JIT hook patched for it), with the fixups
    /// of threads stopped inside a jump; stops the JIT hook from patching more. Finish with <see cref="ForgetLocked"/>
    /// once written, or <see cref="ResumeLocked"/> if the write failed.
    /// </summary>
    internal void CollectRestoreLocked(List<CodeWrite> writes, List<IpFixup> fixups)
    {
        if (_jitSlot >= 0)
        {
            JitHook.Disable(_jitSlot);
            foreach (var (address, saved) in JitHook.GetPatchedBodies(_jitSlot))
            {
                byte[] jump = new byte[JumpCode.AbsoluteLength];
                Marshal.Copy(address, jump, 0, jump.Length);
                writes.Add(new CodeWrite(address, saved.AsSpan(0, JumpCode.AbsoluteLength).ToArray()));
                fixups.AddRange(JumpCode.InteriorFixups(address, jump, _destination));
            }
        }

        foreach (var (body, original, patch) in _patched)
        {
            writes.Add(new CodeWrite(body, original));
            fixups.AddRange(JumpCode.InteriorFixups(body, patch, _destination));
        }
    }

    /// <summary>After the restoring write: forget every patched body and the registration.</summary>
    internal void ForgetLocked()
    {
        if (_jitSlot >= 0)
        {
            JitHook.ForgetBodies(_jitSlot);
            if (!_wasNotInline)
            {
                MethodDescFlags.ClearNotInline(Target.MethodHandle);
            }

            _jitSlot = -1;
        }

        foreach (var (body, _, _) in _patched)
        {
            Engine.TrackBody(body, patched: false);
        }

        _patched.Clear();
        Engine.TrackApplied(this, applied: false);
        _applied = false;
    }

    /// <summary>The restoring write failed (nothing was written): the JIT hook patches new bodies again.</summary>
    internal void ResumeLocked()
    {
        if (_jitSlot >= 0)
        {
            JitHook.Register(Target.MethodHandle.Value, _destination);
        }
    }

    private void Remember(nint body, byte[] original, byte[] patch)
    {
        _patched.Add((body, original, patch));
        Engine.TrackBody(body, patched: true);
    }

    private static void ThrowIfChanged(nint body, byte[] expected)
    {
        // Someone else (another engine, a debugger) changed the bytes since we analysed them: refuse.
        unsafe
        {
            if (!new ReadOnlySpan<byte>((void*)body, expected.Length).SequenceEqual(expected))
            {
                throw new InvalidOperationException($"the body at 0x{body:X} changed since it was analysed");
            }
        }
    }
}
