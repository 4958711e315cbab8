using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StillControl.Cli;
using StillControl.Hosting;
using StillControl.Journal;
using StillControl.Process;
using StillControl.Telemetry;

namespace StillControl.Archive;

/// <summary>Helpers for the archive tests: simulated stills with their own names, their journals' counts, a plant's ingest.</summary>
public static class ArchiveRig
{
    public const string Site = "works-1";

    /// <summary>One batch on a simulated still named <paramref name="still"/>, flat out, through the real host; returns the batch id.</summary>
    public static async Task<string> RunBatch(string journal, string still, DateTimeOffset start, int seed, IDictionary<string, string?>? extra = null)
    {
        var overrides = new Dictionary<string, string?>
        {
            ["Journal:Path"] = journal,
            ["Still:Name"] = still,
            ["Still:Site"] = Site,
            ["Mqtt:Enabled"] = "false",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>()) overrides[key] = value;
        var setup = new SimulationSetup(Files.LoadScenario(null), seed, null, Resume: false, start, null, TimeSpan.FromHours(1), RealTime: false);
        using var host = StillHost.Build([], overrides, Files.LoadRecipe(null), setup, LogLevel.Warning);
        await host.StartAsync();
        await host.WaitForShutdownAsync();
        Assert.Null(host.Services.GetRequiredService<ServiceOutcome>().Failure);
        var state = host.Services.GetRequiredService<ControlCycle>().State;
        Assert.NotNull(state.EndedAt);
        return state.BatchId!;
    }

    /// <summary>Overrides that turn the still's archive forwarder on, through the broker on <paramref name="port"/>.</summary>
    public static Dictionary<string, string?> Archiving(int port, int drainSeconds) => new()
    {
        ["Mqtt:Enabled"] = "true",
        ["Mqtt:Host"] = "127.0.0.1",
        ["Mqtt:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Mqtt:HomeAssistantDiscovery"] = "false",
        ["Archive:Enabled"] = "true",
        ["Archive:AckTimeoutSeconds"] = "2",
        ["Archive:RetryMaximumSeconds"] = "1",
        ["Archive:PollMilliseconds"] = "100",
        ["Archive:DrainOnStopSeconds"] = drainSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>Samples and events per batch in a still's journal: what the archive must hold, no more, no less.</summary>
    public static Dictionary<string, (long Samples, long Events)> JournalCounts(string journal)
    {
        using var connection = new SqliteConnection($"Data Source={journal};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT b.id, (SELECT count(*) FROM samples s WHERE s.batch_id = b.id), (SELECT count(*) FROM events e WHERE e.batch_id = b.id) FROM batches b
            """;
        using var reader = command.ExecuteReader();
        var result = new Dictionary<string, (long, long)>();
        while (reader.Read()) result[reader.GetString(0)] = (reader.GetInt64(1), reader.GetInt64(2));
        return result;
    }

    /// <summary>The archive forwarder's cursor in a journal's cursor file (0, 0 before anything was confirmed).</summary>
    public static ForwarderCursor Cursor(string journal)
    {
        using var reader = new JournalReader(journal);
        return reader.LoadCursor(ArchiveForwarder.CursorName);
    }

    /// <summary>Whether the archive holds exactly the journal's batches of <paramref name="still"/>: headers ended, every sample and event.</summary>
    public static bool Matches(string archive, string still, string journal, out string difference)
    {
        using var store = ArchiveStore.Open(archive);
        var listed = store.List(new Reports.BatchFilter(Still: still));
        foreach (var (id, (samples, events)) in JournalCounts(journal))
        {
            var listing = listed.Where(b => b.Id == id).ToList();
            if (listing.Count != 1)
            {
                difference = $"{still}: batch {id} listed {listing.Count} times";
                return false;
            }
            if (listing[0].EndedAt is null)
            {
                difference = $"{still}: batch {id} not ended in the archive yet";
                return false;
            }
            var held = store.Count(still, id);
            if (held != (samples, events))
            {
                difference = $"{still}: batch {id}: archive {held.Samples} samples, {held.Events} events; journal {samples}, {events}";
                return false;
            }
        }
        difference = "";
        return true;
    }

    public static async Task WaitUntil(Func<(bool Done, string State)> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        var state = "";
        while (DateTime.UtcNow < deadline)
        {
            bool done;
            (done, state) = condition();
            if (done) return;
            await Task.Delay(200);
        }
        Assert.Fail($"{what} not within {timeout.TotalSeconds} s: {state}");
    }

    public static async Task<ArchiveIngest> StartIngest(int port, string archive, string root = "stillcontrol")
    {
        var ingest = new ArchiveIngest(new MqttOptions { Host = "127.0.0.1", Port = port, TopicRoot = root }, archive, NullLogger<ArchiveIngest>.Instance);
        await ingest.StartAsync(CancellationToken.None);
        var ready = await Task.WhenAny(ingest.Ready, Task.Delay(TimeSpan.FromSeconds(30)));
        Assert.True(ready == ingest.Ready, $"the ingest did not start: {ingest.LastError}");
        return ingest;
    }

    /// <summary>A still's archive forwarder on its own, as the still's service runs it, over an existing journal.</summary>
    public static async Task<ArchiveForwarder> StartForwarder(int port, string journal, string still, List<ControllerEvent>? audit = null, string root = "stillcontrol")
    {
        var forwarder = new ArchiveForwarder(new ArchiveOptions { Enabled = true, AckTimeoutSeconds = 2, RetryMaximumSeconds = 1, PollMilliseconds = 100, DrainOnStopSeconds = 0 },
            new MqttOptions { Enabled = true, Host = "127.0.0.1", Port = port, TopicRoot = root }, e => { if (audit is not null) lock (audit) audit.Add(e); },
            journal, Site, still, NullLogger<ArchiveForwarder>.Instance);
        await forwarder.StartAsync(CancellationToken.None);
        return forwarder;
    }

    /// <summary>
    /// The HTML report without the line that says when it was written, and with each chart reduced to a placeholder: the
    /// chart library numbers its clip paths per process and measures fonts once per process, so the same data drawn twice in
    /// one process differs in those. The data the charts are drawn from is compared separately (the samples exported as CSV).
    /// </summary>
    public static string Comparable(string report) =>
        System.Text.RegularExpressions.Regex.Replace(
            System.Text.RegularExpressions.Regex.Replace(report, "StillControl report, written [^<]*", "StillControl report"),
            "<svg.*?</svg>", "<svg/>", System.Text.RegularExpressions.RegexOptions.Singleline);
}
