using System.Globalization;

namespace StillControl.Soak;

/// <summary>The faults the injector knows, one action each.</summary>
public enum Fault
{
    /// <summary>kill -9 the service, then start it again with <c>--resume</c>.</summary>
    Kill,
    /// <summary>Restart Mosquitto (SIGTERM, as systemd does; a few seconds away).</summary>
    Broker,
    /// <summary>Restart VictoriaMetrics (SIGTERM; a few seconds away).</summary>
    Database,
    /// <summary>Fill the journal's tmpfs: the service must exit 4 journal-full; free it and <c>--resume</c>.</summary>
    DiskFull,
    /// <summary>Hundreds of <c>ack</c> commands at once, each with its own id.</summary>
    Flood,
    /// <summary>Ids sent again: twice at once, and an id answered earlier (perhaps before a kill or a restart).</summary>
    Replay,
    /// <summary>A retained <c>hold</c>: it must be refused at every delivery and never run.</summary>
    Retained,
    /// <summary>Invalid UTF-8, a lone surrogate, a payload far over the limit, not JSON, an array, an empty message, a wrong type.</summary>
    Garbage,
}

/// <summary>How big a soak is. CI runs the defaults; <c>SOAK_BATCHES=50</c> and friends make the larger run.</summary>
public sealed record SoakSettings(int Batches, double Speed, int Seed, int FaultsPerKind, double MinimumGapSeconds, double MaximumGapSeconds, int FloodSize)
{
    public static SoakSettings FromEnvironment()
    {
        var batches = Read("SOAK_BATCHES", 4);
        return new SoakSettings(
            Batches: batches,
            Speed: Read("SOAK_SPEED", 150.0),
            Seed: Read("SOAK_SEED", 20261130),
            // CI: one or two of each per four batches; a larger run keeps about one of each kind every two batches.
            FaultsPerKind: Read("SOAK_FAULTS_PER_KIND", Math.Max(1, (batches + 1) / 2)),
            MinimumGapSeconds: Read("SOAK_MIN_GAP_SECONDS", 1.0),
            MaximumGapSeconds: Read("SOAK_MAX_GAP_SECONDS", 6.0),
            FloodSize: Read("SOAK_FLOOD", 300));
    }

    private static int Read(string name, int fallback)
    {
        var text = Environment.GetEnvironmentVariable(name);
        if (string.IsNullOrWhiteSpace(text)) return fallback;
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : throw new ArgumentException($"{name} = '{text}': a whole number above 0");
    }

    private static double Read(string name, double fallback)
    {
        var text = Environment.GetEnvironmentVariable(name);
        if (string.IsNullOrWhiteSpace(text)) return fallback;
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : throw new ArgumentException($"{name} = '{text}': a number above 0");
    }

    /// <summary>The journal's tmpfs: room for every batch's rows (about 5 MB each) with plenty to spare.</summary>
    public int DiskMegabytes => 32 + 12 * Batches;
}
