using System.Diagnostics;
using Serilog;

namespace ServiceExample;

/// <summary>
/// A background thread that writes the current UTC time to a file every second (oslo.service's
/// period_heartbeat_file): a watchdog reading the file sees the service is alive. The write is a temp file and a
/// rename, so a reader never sees half a timestamp.
/// </summary>
internal sealed class Heartbeat(string path)
{
    private readonly ILogger _log = Log.ForContext("SourceContext", "Heartbeat");
    private long _written;
    private long _maxGapTicks;

    public string Path { get; } = path;
    public long Written => Interlocked.Read(ref _written);

    /// <summary>The longest time between two writes: about 1000 ms unless something held the hub.</summary>
    public double MaxGapMs => TimeSpan.FromTicks(Interlocked.Read(ref _maxGapTicks)).TotalMilliseconds;

    public void Start() => new Thread(Run) { IsBackground = true, Name = "heartbeat" }.Start();

    private void Run()
    {
        string temp = Path + ".tmp";
        long last = 0;
        bool warned = false;
        while (true)
        {
            try
            {
                File.WriteAllText(temp, DateTime.UtcNow.ToString("O") + "\n");
                File.Move(temp, Path, overwrite: true);
                long now = Stopwatch.GetTimestamp();
                if (last != 0)
                {
                    long gap = Stopwatch.GetElapsedTime(last, now).Ticks;
                    if (gap > Interlocked.Read(ref _maxGapTicks)) Interlocked.Exchange(ref _maxGapTicks, gap);
                }
                last = now;
                Interlocked.Increment(ref _written);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                if (!warned) _log.Warning("Cannot write the heartbeat file {File}: {Reason}", Path, e.Message);
                warned = true;
            }
            Thread.Sleep(1000);
        }
    }
}
