using System.Buffers;
using System.Text;
using StillControl.Cli;
using StillControl.Journal;
using StillControl.Process;

namespace StillControl.Telemetry;

/// <summary>A second service under the same still name is seen on the state topic and raised on both, never a takeover storm.</summary>
public sealed class DuplicateStillTests : IDisposable
{
    private readonly Mosquitto broker = new();
    private readonly TestFiles files = new();

    public void Dispose()
    {
        broker.Dispose();
        files.Dispose();
    }

    private static ReadOnlySequence<byte> State(string instance) =>
        new(Encoding.UTF8.GetBytes($$"""{ "phase": "heads", "instance": "{{instance}}" }"""));

    [Fact]
    public void The_watch_raises_once_per_episode_ignores_itself_and_retained_copies_and_clears_after_quiet()
    {
        var events = new List<ControllerEvent>();
        var watch = new DuplicateStillWatch("me", "plant/still-1", TimeSpan.FromSeconds(30), events.Add);
        var t0 = DateTimeOffset.UnixEpoch;
        watch.Seen(State("me"), retained: false, t0);
        watch.Seen(State("earlier-run"), retained: true, t0);
        watch.Seen(new ReadOnlySequence<byte>("not json"u8.ToArray()), retained: false, t0);
        Assert.Empty(events);
        watch.Seen(State("other"), retained: false, t0);
        watch.Seen(State("other"), retained: false, t0.AddSeconds(10));
        var raised = Assert.Single(events);
        Assert.Equal(EventKind.AlarmRaised, raised.Kind);
        Assert.Equal("duplicate-still", raised.Code);
        Assert.Contains("other", raised.Message);
        Assert.Contains("plant/still-1", raised.Message);
        watch.Check(t0.AddSeconds(39));
        Assert.True(watch.Raised);
        watch.Check(t0.AddSeconds(41));
        Assert.False(watch.Raised);
        Assert.Equal(EventKind.AlarmCleared, events[^1].Kind);
        watch.Seen(State("other"), retained: false, t0.AddSeconds(50));
        Assert.Equal(3, events.Count);
        Assert.Equal(EventKind.AlarmRaised, events[^1].Kind);
    }

    [Fact]
    public async Task Two_services_under_one_still_name_each_raise_duplicate_still_and_both_stay_connected()
    {
        var config = files.Write("config.json", $$"""{ "Mqtt": { "Enabled": true, "Host": "127.0.0.1", "Port": {{broker.AnonymousPort}}, "StatePeriodSeconds": 1 } }""");
        using var first = StillControlProcess.Start(files.Folder, "run", "--config", config, "--journal", files.PathOf("a.db"));
        using var second = StillControlProcess.Start(files.Folder, "run", "--config", config, "--journal", files.PathOf("b.db"));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline && !(first.Error.Contains(Seen) && second.Error.Contains(Seen))) await Task.Delay(100);
        Assert.Contains(Seen, first.Error);
        Assert.Contains(Seen, second.Error);
        // Unique client ids: neither session is taken over, so neither keeps reconnecting.
        Assert.Equal(1, Count(first.Error, "MQTT connected"));
        Assert.Equal(1, Count(second.Error, "MQTT connected"));
        first.Terminate();
        second.Terminate();
        Assert.Equal(0, await first.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(0, await second.WaitAsync(TimeSpan.FromSeconds(30)));
        foreach (var journal in new[] { "a.db", "b.db" })
        {
            using var reader = new BatchJournal(files.PathOf(journal), TimeProvider.System, TimeSpan.FromSeconds(1));
            Assert.Contains(reader.Events(null), e => e.Code == "duplicate-still" && e.Kind == "alarm-raised");
        }
    }

    private const string Seen = "alarm-raised: another stillcontrol service";

    private static int Count(string text, string what) => (text.Length - text.Replace(what, "", StringComparison.Ordinal).Length) / what.Length;
}
