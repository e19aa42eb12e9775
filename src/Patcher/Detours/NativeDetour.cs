using System.Reflection;
using System.Runtime.InteropServices;
using Evergreen.Detours.Linux;
using Evergreen.Detours.Runtime;
using Evergreen.Detours.X64;

namespace Evergreen.Detours;

/// <summary>One body detour of <see cref="NativeDetourEngine"/>. State changes happen under the engine's lock.</summary>
internal sealed class NativeDetour : IDetour
{
    // Tier-up may publish a new body between our write and the moment the JIT hook is guaranteed to see the target
    // (a compile already past its registry check); re-resolve the entry a few times and patch what it leads to.
    private const int MaxBodyRechecks = 4;

    private readonly nint _entry;
    private readonly nint _body;
    private readonly nint _destination;
    private readonly Trampoline _trampoline;
    private readonly byte[] _original;
    private readonly List<(nint Body, byte[] Original)> _patched = new();
    private int _jitSlot = -1;
    private bool _wasNotInline;
    private volatile bool _applied;

    internal NativeDetour(NativeDetourEngine engine, MethodBase target, MethodInfo replacement, bool isNative,
        nint entry, nint body, nint destination, Trampoline trampoline, byte[] original)
    {
        Engine = engine;
        Target = target;
        Replacement = replacement;
        IsNative = isNative;
        _entry = entry;
        _body = body;
        _destination = destination;
        _trampoline = trampoline;
        _original = original;
    }

    internal NativeDetourEngine Engine { get; }

    /// <summary>The target is an FCall whose native body in libcoreclr is patched (no JIT hook, never re-compiled).</summary>
    internal bool IsNative { get; }

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

    internal void WriteLocked()
    {
        Engine.TrackApplied(this, applied: true);
        try
        {
            if (!IsNative)
            {
                // Order matters: from the registration on, every new body is born patched; from the not-inline mark on,
                // no caller compiled later can inline the target and bypass the jump.
                _jitSlot = JitHook.Register(Target.MethodHandle.Value, _destination);
                _wasNotInline = MethodDescFlags.SetNotInline(Target.MethodHandle);
            }

            PatchBody(_body, _original, _trampoline.Patch);
            if (!IsNative)
            {
                for (int i = 0; i < MaxBodyRechecks; i++)
                {
                    nint current = StubWalker.FindBody(_entry, Engine.IsOursLocked);
                    if (Engine.IsOursLocked(current))
                    {
                        break;
                    }

                    // A body published after we looked. Its own (unused) trampoline proves it safe to patch.
                    if (!ProcMaps.TryFind(current, out var region))
                    {
                        throw new InvalidOperationException($"new body 0x{current:X} is not mapped");
                    }

                    var check = Trampoline.Build(current, _destination, (int)Math.Min(int.MaxValue, region.End - (ulong)current));
                    byte[] saved = new byte[check.PatchLength];
                    Marshal.Copy(current, saved, 0, saved.Length);
                    PatchBody(current, saved, check.Patch);
                }
            }

            _applied = true;
        }
        catch
        {
            RestoreLocked();
            Engine.TrackApplied(this, applied: false);
            throw;
        }
    }

    internal void UndoLocked()
    {
        if (!_applied)
        {
            return;
        }

        RestoreLocked();
        Engine.TrackApplied(this, applied: false);
        _applied = false;
    }

    private void RestoreLocked()
    {
        if (_jitSlot >= 0)
        {
            // Stop the hook first, so no body is patched behind our back while we restore.
            JitHook.Disable(_jitSlot);
            foreach (var (address, saved) in JitHook.GetPatchedBodies(_jitSlot))
            {
                WriteCode(address, saved.AsSpan(0, JumpCode.AbsoluteLength));
            }

            JitHook.ForgetBodies(_jitSlot);
            if (!_wasNotInline)
            {
                MethodDescFlags.ClearNotInline(Target.MethodHandle);
            }

            _jitSlot = -1;
        }

        for (int i = _patched.Count - 1; i >= 0; i--)
        {
            var (body, original) = _patched[i];
            WriteCode(body, original);
            Engine.TrackBody(body, patched: false);
        }

        _patched.Clear();
    }

    private void PatchBody(nint body, byte[] expected, byte[] patch)
    {
        // Someone else (another engine, a debugger) changed the bytes since we analysed them: refuse.
        unsafe
        {
            if (!new ReadOnlySpan<byte>((void*)body, expected.Length).SequenceEqual(expected))
            {
                throw new InvalidOperationException($"the body at 0x{body:X} changed since it was analysed");
            }
        }

        WriteCode(body, patch);
        _patched.Add((body, expected));
        Engine.TrackBody(body, patched: true);
    }

    private static void WriteCode(nint address, ReadOnlySpan<byte> code)
    {
        var pages = CodeMemory.GetPages(address, code.Length);
        byte[] copy = code.ToArray();
        CodeMemory.WithWritable(pages, () => PatchWriter.Write(address, copy));
    }
}
