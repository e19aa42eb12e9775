using Evergreen.Internal;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace Evergreen.HubTests;

/// <summary>The blocking detector names a green thread that holds the hub in a native blocking call.</summary>
public class BlockingDetectorTests
{
    private sealed class Capture(Action<LogEvent> onEvent) : ILogEventSink
    {
        public void Emit(LogEvent logEvent) => onEvent(logEvent);
    }

    [Fact]
    public void A_native_blocking_call_on_a_green_thread_is_reported_with_the_thread_and_its_system_call()
    {
        var released = new ManualResetEventSlim();
        string? message = null;
        var previousLogger = Hub.Logger;
        int previousThreshold = BlockingDetector.ThresholdMs;
        Hub.Logger = new LoggerConfiguration().WriteTo.Sink(new Capture(e =>
        {
            var text = e.RenderMessage();
            if (!text.Contains("has held the hub")) return;
            message ??= text;
            released.Set(); // the report itself ends the native wait: no timing in the test
        })).CreateLogger();
        BlockingDetector.ThresholdMs = 100;
        try
        {
            bool ended = false;
            Hub.Run(() =>
            {
                var offender = Green.Spawn(() =>
                {
                    // Not patched here: a plain native wait that holds the baton (the bound is only a safety net).
                    ended = released.Wait(TimeSpan.FromSeconds(60));
                }, name: "offender");
                offender.Wait();
            });
            Assert.True(ended, "the detector never reported the blocked green thread");
            Assert.Contains("offender", message);
            Assert.Contains("blocked in the kernel", message);
            Assert.Contains("futex", message);
        }
        finally
        {
            BlockingDetector.ThresholdMs = previousThreshold;
            Hub.Logger = previousLogger;
        }
    }

    [Fact]
    public void Green_waits_and_polling_are_not_reported()
    {
        long before = Hub.Instance.Detector.Reports;
        int previousThreshold = BlockingDetector.ThresholdMs;
        BlockingDetector.ThresholdMs = 100;
        try
        {
            Hub.Run(() =>
            {
                var ev = new Event();
                var sleeper = Green.Spawn(() => { Green.Sleep(400); ev.Send(); });
                ev.Wait(); // the hub idles in the poller for 400 ms: not a block
                sleeper.Wait();
            });
        }
        finally
        {
            BlockingDetector.ThresholdMs = previousThreshold;
        }
        Assert.Equal(before, Hub.Instance.Detector.Reports);
    }
}
