namespace Evergreen.Detours.Runtime;

/// <summary>
/// The JIT hook's registry: which methods are targets (and where their bodies must jump), and which bodies the hook
/// patched, with the bytes each had. Written under the engine's lock, read lock-free by the hook: entries are filled
/// before a count is published.
/// </summary>
internal static unsafe partial class JitHook
{
    // Targets: the method, where its bodies jump (0: slot disabled), compiles patching a body right now.
    private static readonly nint[] s_targetMethod = new nint[MaxTargets];
    private static readonly nint[] s_destination = new nint[MaxTargets];   // 0: slot disabled
    private static readonly int[] s_inFlight = new int[MaxTargets];
    private static int s_targetCount;

    // Bodies the hook patched: exec address, owning slot, the 16 bytes it overwrote (for Undo).
    private static readonly nint[] s_bodyAddress = new nint[MaxBodies];
    private static readonly int[] s_bodySlot = new int[MaxBodies];
    private static readonly byte[] s_bodySaved = new byte[MaxBodies * SavedBytes];
    private static readonly int[] s_bodyReady = new int[MaxBodies];
    private static int s_bodyCount;

    /// <summary>From now on every body compiled for <paramref name="method"/> jumps to <paramref name="destination"/>.</summary>
    /// <returns>The registry slot.</returns>
    internal static int Register(nint method, nint destination)
    {
        int count = s_targetCount;
        for (int i = 0; i < count; i++)
        {
            if (s_targetMethod[i] == method && Volatile.Read(ref s_destination[i]) == 0)
            {
                Volatile.Write(ref s_destination[i], destination);
                return i;
            }
        }

        if (count == MaxTargets)
        {
            throw new InvalidOperationException($"more than {MaxTargets} managed targets");
        }

        s_targetMethod[count] = method;
        s_destination[count] = destination;
        Volatile.Write(ref s_targetCount, count + 1);
        return count;
    }

    /// <summary>Stops patching new bodies of a slot and waits until no compile is patching one.</summary>
    internal static void Disable(int slot)
    {
        Volatile.Write(ref s_destination[slot], 0);
        while (Volatile.Read(ref s_inFlight[slot]) != 0)
        {
            Thread.SpinWait(64);
        }
    }

    /// <summary>Bodies the hook patched for a slot, with the bytes they had.</summary>
    internal static List<(nint Address, byte[] Saved)> GetPatchedBodies(int slot)
    {
        var result = new List<(nint, byte[])>();
        int count = Math.Min(Volatile.Read(ref s_bodyCount), MaxBodies);
        for (int i = 0; i < count; i++)
        {
            if (Volatile.Read(ref s_bodyReady[i]) == 1 && s_bodySlot[i] == slot)
            {
                result.Add((s_bodyAddress[i], s_bodySaved.AsSpan(i * SavedBytes, SavedBytes).ToArray()));
            }
        }

        return result;
    }

    /// <summary>Marks recorded bodies of a slot as restored so a later re-apply does not restore them twice.</summary>
    internal static void ForgetBodies(int slot)
    {
        int count = Math.Min(Volatile.Read(ref s_bodyCount), MaxBodies);
        for (int i = 0; i < count; i++)
        {
            if (s_bodySlot[i] == slot)
            {
                Volatile.Write(ref s_bodyReady[i], 2);
            }
        }
    }

    /// <summary>Whether <paramref name="address"/> is a body the hook patched (and has not been restored).</summary>
    internal static bool IsPatchedBody(nint address)
    {
        int count = Math.Min(Volatile.Read(ref s_bodyCount), MaxBodies);
        for (int i = 0; i < count; i++)
        {
            if (s_bodyAddress[i] == address && Volatile.Read(ref s_bodyReady[i]) == 1)
            {
                return true;
            }
        }

        return false;
    }
}
