using Evergreen.Internal;

namespace Evergreen.HubTests;

/// <summary>The OS-thread ceiling fails with a typed, actionable exception (tested through limits, not by exhausting threads).</summary>
public class ThreadCeilingTests
{
    [Fact]
    public void Too_few_memory_mappings_refuses_with_advice_about_vm_max_map_count()
    {
        var ceiling = new ThreadCeiling(maxMaps: 100, pidMax: 1_000_000, threadsMax: 1_000_000);
        var ex = Assert.Throws<GreenThreadLimitException>(() => ceiling.BeforeCreate(10));
        Assert.IsAssignableFrom<InvalidOperationException>(ex);
        Assert.Contains("vm.max_map_count", ex.Message);
        Assert.Contains("sysctl -w vm.max_map_count", ex.Message);
        Assert.Equal(10, ex.Alive);
    }

    [Fact]
    public void Too_few_pids_refuses_naming_pid_max()
    {
        var ceiling = new ThreadCeiling(maxMaps: 1_000_000, pidMax: 600, threadsMax: 1_000_000);
        var ex = Assert.Throws<GreenThreadLimitException>(() => ceiling.BeforeCreate(100));
        Assert.Contains("kernel.pid_max", ex.Message);
        Assert.Contains("vm.max_map_count", ex.Message);
    }

    [Fact]
    public void Within_the_limits_creation_is_allowed()
    {
        var ceiling = new ThreadCeiling(maxMaps: 10_000_000, pidMax: 1_000_000, threadsMax: 1_000_000);
        for (int i = 0; i < 100; i++) ceiling.BeforeCreate(i);
    }

    [Fact]
    public void The_real_limits_are_the_kernels_and_allow_a_thread()
    {
        var ceiling = new ThreadCeiling();
        Assert.Null(Record.Exception(() => ceiling.BeforeCreate(1)));
        long pidMax = long.Parse(File.ReadAllText("/proc/sys/kernel/pid_max").Trim());
        long threadsMax = long.Parse(File.ReadAllText("/proc/sys/kernel/threads-max").Trim());
        int atTheCap = (int)Math.Min(Math.Min(pidMax, threadsMax), int.MaxValue - 1);
        var ex = Assert.Throws<GreenThreadLimitException>(() => ceiling.BeforeCreate(atTheCap));
        Assert.Contains($"pid_max {pidMax}, threads-max {threadsMax}", ex.Message);
    }
}
