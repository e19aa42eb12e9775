using Evergreen.Internal;

namespace Evergreen;

public sealed partial class Hub
{
    // ------------------------------------------------------------------------------------------
    // PCT: probabilistic concurrency testing (Burckhardt, Kothari, Musuvathi, Nagarakatte, ASPLOS 2010), opt-in
    // ------------------------------------------------------------------------------------------
    // Instead of a uniform draw at every pick, each thread of the run gets a random priority (≥ depth) when the picker
    // first sees it, and the runnable thread of highest priority always runs; at depth − 1 change points, steps drawn
    // uniformly from [1, k] at the run's start, the thread making that step drops to a priority below every initial one
    // (depth − 1 − i for the i-th point). A bug that needs d ordering constraints among n threads and k steps is then found
    // with probability at least 1/(n·k^(d−1)) per run, where a random walk's chance can fall exponentially with the steps
    // between the constraints. k is fixed by the caller (not learnt from earlier runs), so a seed still names one schedule.

    private Dictionary<GreenThread, int>? _pctPriority;  // null: random walk
    private int[] _pctChangePoints = [];
    private int _pctDepth;
    private static int s_stepCount;                       // schedule points of the run so far (uncapped, unlike the log)

    private void BeginPct(int depth, int steps)
    {
        _pctDepth = depth;
        if (depth <= 0 || _rng is not { } rng)
        {
            _pctPriority = null;
            return;
        }
        _pctPriority = new Dictionary<GreenThread, int>(ReferenceEqualityComparer.Instance);
        _pctChangePoints = new int[depth - 1];
        for (int i = 0; i < _pctChangePoints.Length; i++) _pctChangePoints[i] = 1 + rng.Next(Math.Max(1, steps));
    }

    private int PctPriority(GreenThread g)
    {
        if (!_pctPriority!.TryGetValue(g, out int p))
        {
            p = _pctDepth + (int)(_rng!.NextUInt64() % 1_000_000_000);
            _pctPriority[g] = p;
        }
        return p;
    }

    /// <summary>The run queue index of the runnable thread of highest priority (the first among equals).</summary>
    private int PctHighest()
    {
        int best = 0, bestPriority = int.MinValue;
        for (int i = 0; i < _runq.Count; i++)
        {
            int p = PctPriority(_runq.PeekAt(i));
            if (p > bestPriority) { best = i; bestPriority = p; }
        }
        return best;
    }

    /// <summary>At schedule point number <paramref name="step"/> of <paramref name="self"/>: a change point lowers its priority.</summary>
    private void PctAtStep(GreenThread self, int step)
    {
        if (_pctPriority == null) return;
        for (int i = 0; i < _pctChangePoints.Length; i++)
            if (_pctChangePoints[i] == step) _pctPriority[self] = _pctDepth - 1 - i;
    }
}
