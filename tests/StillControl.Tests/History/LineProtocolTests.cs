using StillControl.Journal;

namespace StillControl.History;

public class LineProtocolTests
{
    private static readonly DateTimeOffset At = DateTimeOffset.FromUnixTimeMilliseconds(1795907000250);

    [Fact]
    public void A_sample_is_one_point_with_unit_named_fields_and_the_journal_time()
    {
        var sample = new JournalSample(5, "still-1-x", At, "hearts", false, 22.5, 40, "hearts-1", 71.25,
            """{"vapour":{"value":84.25,"quality":"good"},"distillate":{"quality":"faulted","fault":"stuck"},"cooling-flow":{"value":40.1,"quality":"good"}}""");
        Assert.Equal(
            "stillcontrol_sample,site=plant,still=still-1,batch=still-1-x,phase=hearts vapour_celsius=84.25,cooling_flow_litres_per_minute=40.1,steam_valve_percent=22.5,cooling_valve_percent=40,held=0,strength_percent_volume=71.25 1795907000250000000",
            LineProtocol.Sample(sample, "plant", "still-1"));
    }

    [Fact]
    public void Tag_and_string_values_are_escaped()
    {
        var e = new JournalEvent(9, null, At, "command-refused", "remote", "idle", "say \"no\", twice", null);
        Assert.Equal(
            """stillcontrol_event,site=north\ plant,still=a\,b,batch=none,phase=idle,kind=command-refused,code=remote seq=9i,count=1i,message="say \"no\", twice" 1795907000250000009""",
            LineProtocol.Event(e, "north plant", "a,b"));
    }

    [Fact]
    public void A_line_end_from_a_sender_never_splits_a_point_in_two()
    {
        // An operator name with a newline, as a remote command could carry it, in an event message and in a tag.
        var e = new JournalEvent(10, "b\nx", At, "command-accepted", "hold", "hearts", "hold by wang\nstillcontrol_event,site=forged x=1 1 (mqtt)", null);
        var line = LineProtocol.Event(e, "plant", "still-1");
        Assert.DoesNotContain("\n", line);
        Assert.DoesNotContain("\r", line);
        Assert.Contains("hold by wang\u2424stillcontrol_event", line);
        Assert.Contains("batch=b\u2424x", line);
    }

    [Fact]
    public void Events_of_one_kind_and_code_in_the_same_millisecond_are_different_points()
    {
        // Found by the soak: a flood's "busy" refusals share batch, phase, kind, code and millisecond; InfluxDB (and a
        // VictoriaMetrics deduplicating per millisecond) kept one point of each such group and lost the rest (73 of 166 events).
        var events = Enumerable.Range(20, 50).Select(seq => new JournalEvent(seq, "b", At, "command-refused", "remote", "hearts", $"busy {seq}", null)).ToList();
        var identities = events.Select(e =>
        {
            var line = LineProtocol.Event(e, "plant", "still-1");
            var firstSpace = line.IndexOf(' ');
            return (Series: line[..firstSpace], Time: line[(line.LastIndexOf(' ') + 1)..]);
        }).ToList();
        Assert.Single(identities.Select(i => i.Series).Distinct());
        Assert.Equal(events.Count, identities.Select(i => i.Time).Distinct().Count());
        // Still the journal's millisecond, and the same point when written again.
        Assert.All(identities, i => Assert.Equal(At.ToUnixTimeMilliseconds(), long.Parse(i.Time, System.Globalization.CultureInfo.InvariantCulture) / 1_000_000));
        Assert.Equal(LineProtocol.Event(events[3], "plant", "still-1"), LineProtocol.Event(events[3], "plant", "still-1"));
    }
}
