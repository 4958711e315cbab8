using System.Text.Json;

namespace StillControl.Process;

/// <summary>
/// The process vocabulary the rest of the service speaks in (channel, phase, command, fault and event names; alarm slots;
/// readings; printable text) and the batch state's stored form: written where mutation testing of the small files of
/// <c>Process/</c> found changes no unit test noticed.
/// </summary>
public class ProcessTypesTests
{
    [Fact]
    public void Every_channel_has_a_name_that_parses_back_and_a_unit()
    {
        Assert.Equal(Channels.Count, Channels.All.Length);
        Assert.Equal(Channels.Count, Channels.Names.Count);
        foreach (var channel in Channels.All)
        {
            Assert.True(Channels.TryParse(channel.Name(), out var parsed));
            Assert.Equal(channel, parsed);
        }
        Assert.Equal("distillate-flow", Channel.DistillateFlow.Name());
        Assert.Equal("L/min", Channel.DistillateFlow.Unit());
        Assert.Equal("kPa", Channel.SteamPressure.Unit());
        Assert.Equal("°C", Channel.DistillateCheck.Unit());
        Assert.Equal("%", Channel.SteamValvePosition.Unit());
        Assert.Equal(["steam", "vapour", "bed-surface", "cooling-in", "cooling-out", "distillate", "distillate-check"],
            Channels.All.Where(c => c.IsTemperature()).Select(c => c.Name()).ToArray());
    }

    [Theory]
    [InlineData("Steam")]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("steam ")]
    public void A_name_that_is_no_channel_is_refused(string? text)
    {
        Assert.False(Channels.TryParse(text, out var channel));
        Assert.Equal(default, channel);
    }

    [Fact]
    public void Phases_have_names_and_know_whether_they_run_and_collect()
    {
        Assert.Equal(["idle", "loading", "sealed", "heads", "hearts", "tails", "steaming", "complete", "aborted"], Enum.GetValues<Phase>().Select(p => p.Name()).ToArray());
        foreach (var phase in Enum.GetValues<Phase>())
        {
            Assert.True(Phases.TryParse(phase.Name(), out var parsed));
            Assert.Equal(phase, parsed);
        }
        Assert.False(Phases.TryParse("held", out var none));
        Assert.Equal(Phase.Idle, none);
        Assert.Equal([Phase.Loading, Phase.Sealed, Phase.Heads, Phase.Hearts, Phase.Tails, Phase.Steaming], Enum.GetValues<Phase>().Where(p => p.IsActive()).ToArray());
        Assert.Equal([Phase.Heads, Phase.Hearts, Phase.Tails], Enum.GetValues<Phase>().Where(p => p.IsCollecting()).ToArray());
        Assert.Equal([Phase.Complete, Phase.Aborted], Enum.GetValues<Phase>().Where(p => p.IsFinished()).ToArray());
    }

    [Fact]
    public void Commands_faults_and_events_have_the_names_the_journal_and_the_panel_use()
    {
        Assert.Equal(["start", "seal", "hold", "resume", "abort", "cut", "ack"], CommandKinds.Names);
        foreach (var kind in Enum.GetValues<CommandKind>())
        {
            Assert.True(CommandKinds.TryParse(kind.Name(), out var parsed));
            Assert.Equal(kind, parsed);
        }
        Assert.False(CommandKinds.TryParse("stop", out var unknown));
        Assert.Equal(default, unknown);
        Assert.Equal(["none", "disconnected", "checksum-error", "power-on-value", "out-of-range", "spike", "stuck", "stale", "source-error"],
            Enum.GetValues<FaultReason>().Select(f => f.Name()).ToArray());
        Assert.Equal("alarm-acknowledged", EventKind.AlarmAcknowledged.Name());
        Assert.Equal("output-test", EventKind.OutputTest.Name());
        Assert.Equal(Enum.GetValues<EventKind>().Length, Enum.GetValues<EventKind>().Select(e => e.Name()).Distinct().Count());
    }

    [Fact]
    public void Alarm_slots_are_the_fixed_codes_then_one_sensor_fault_per_channel()
    {
        Assert.Equal((int)AlarmCode.SensorFault + Channels.Count, Alarms.SlotCount);
        Assert.Equal("emergency-stop", Alarms.Code(Alarms.Slot(AlarmCode.EmergencyStop)));
        Assert.Equal("steam-starved", Alarms.Code(Alarms.Slot(AlarmCode.SteamStarved)));
        Assert.Equal("sensor-fault:steam", Alarms.Code(Alarms.SensorSlot(Channel.Steam)));
        Assert.Equal("sensor-fault:steam-valve-position", Alarms.Code(Alarms.SlotCount - 1));
        for (var slot = 0; slot < Alarms.SlotCount; slot++)
        {
            Assert.Equal(slot, Alarms.SlotOf(Alarms.Code(slot)));
        }
        Assert.Null(Alarms.ChannelOf(Alarms.Slot(AlarmCode.SteamStarved)));
        Assert.Equal(Channel.Steam, Alarms.ChannelOf(Alarms.SensorSlot(Channel.Steam)));
        Assert.Equal(Channel.LidClosed, Alarms.ChannelOf(Alarms.SensorSlot(Channel.LidClosed)));
        Assert.Equal(-1, Alarms.SlotOf("sensor-fault"));
    }

    [Fact]
    public void Readings_carry_their_quality_and_a_faulted_one_no_number()
    {
        var at = DateTimeOffset.UnixEpoch;
        var good = Reading.Good(1.5, at);
        Assert.True(good.IsGood);
        Assert.Equal((1.5, FaultReason.None, at, false), (good.Value, good.Fault, good.Timestamp, good.Counted));
        var pulses = Reading.FromPulses(2, at);
        Assert.True(pulses.IsGood);
        Assert.True(pulses.Counted);
        var faulted = Reading.Faulted(FaultReason.Spike, at);
        Assert.False(faulted.IsGood);
        Assert.Equal(ReadingQuality.Faulted, faulted.Quality);
        Assert.True(double.IsNaN(faulted.Value));
        Assert.False(Reading.NotConfigured.IsGood);
        Assert.Equal(ReadingQuality.NotConfigured, Reading.NotConfigured.Quality);
    }

    [Fact]
    public void A_snapshot_copies_every_reading_and_the_output_report()
    {
        var a = new ReadingSnapshot { OutputFault = "steam valve: no reply" };
        a[Channel.Vapour] = Reading.Good(90, DateTimeOffset.UnixEpoch);
        a[Channel.SteamValvePosition] = Reading.Good(12, DateTimeOffset.UnixEpoch);
        var b = new ReadingSnapshot();
        b[Channel.Steam] = Reading.Good(1, DateTimeOffset.UnixEpoch);
        b.CopyFrom(a);
        Assert.Equal(90, b[Channel.Vapour].Value);
        Assert.Equal(12, b[Channel.SteamValvePosition].Value);
        Assert.Equal(ReadingQuality.NotConfigured, b[Channel.Steam].Quality);
        Assert.Equal("steam valve: no reply", b.OutputFault);
    }

    [Theory]
    [InlineData("plain text 普通", "plain text 普通")]
    [InlineData("a\nb", "a\u2424b")]
    [InlineData("a\rb\tc", "a\uFFFDb\uFFFDc")]
    [InlineData("x\uD83D\uDE00y", "x\uD83D\uDE00y")]
    [InlineData("\n\uD83D\uDE00\u0007", "\u2424\uD83D\uDE00\uFFFD")]
    public void Text_from_outside_is_made_printable_on_one_line(string text, string printable)
    {
        Assert.Equal(printable, PrintableText.Of(text));
    }

    /// <summary>Built in code: a lone surrogate does not survive a test case's own serialisation.</summary>
    [Fact]
    public void A_lone_surrogate_becomes_the_replacement_character()
    {
        Assert.Equal("x\uFFFDy", PrintableText.Of(string.Concat("x", ((char)0xD83D).ToString(), "y")));
        Assert.Equal("x\uFFFD", PrintableText.Of(string.Concat("x", ((char)0xDE00).ToString())));
        Assert.Equal("\uFFFD", PrintableText.Of(((char)0xD83D).ToString()));
        Assert.Equal("\uFFFD\uFFFD", PrintableText.Of(string.Concat(((char)0xDE00).ToString(), ((char)0xD83D).ToString())));
    }

    [Fact]
    public void Clean_text_is_returned_as_it_is()
    {
        var text = "zhang (panel)";
        Assert.Same(text, PrintableText.Of(text));
    }

    [Theory]
    [InlineData("b-1", true)]
    [InlineData("2026-11-30T08:00_a.b", true)]
    [InlineData("", false)]
    [InlineData(null, false)]
    [InlineData("a b", false)]
    [InlineData("a/b", false)]
    [InlineData("批次", false)]
    public void A_batch_id_is_letters_digits_and_four_marks(string? id, bool valid)
    {
        Assert.Equal(valid, PrintableText.IsBatchId(id));
    }

    [Fact]
    public void A_batch_id_is_at_most_64_characters()
    {
        Assert.True(PrintableText.IsBatchId(new string('a', 64)));
        Assert.False(PrintableText.IsBatchId(new string('a', 65)));
        Assert.True(PrintableText.IsBatchId("a"));
    }

    [Fact]
    public void Decisions_start_each_cycle_undecided_and_go_safe_on_demand()
    {
        var d = new Decisions
        {
            Receiver = "heads", Horn = true, Beacon = true, SteamInhibited = true, CoverLayerAdvised = true, SteamIsolationOpen = true, Settling = true,
            StrengthPercentVolume = 60, DistillateKilogramsPerMinute = 2, SteamValvePercent = 30, CoolingValvePercent = 40,
        };
        d.Events.Add(new ControllerEvent(EventKind.Advisory, DateTimeOffset.UnixEpoch, Phase.Loading, "x", "y"));
        var at = DateTimeOffset.UnixEpoch.AddHours(1);
        d.Clear(at);
        Assert.Empty(d.Events);
        Assert.Equal(at, d.At);
        Assert.Null(d.Receiver);
        Assert.False(d.Horn || d.Beacon || d.SteamInhibited || d.CoverLayerAdvised || d.SteamIsolationOpen || d.Settling);
        Assert.Null(d.StrengthPercentVolume);
        Assert.Null(d.DistillateKilogramsPerMinute);
        d.SteamIsolationOpen = true;
        d.SetSafe();
        Assert.Equal((0.0, 100.0, false, true, true), (d.SteamValvePercent, d.CoolingValvePercent, d.SteamIsolationOpen, d.Horn, d.Beacon));
    }

    [Fact]
    public void Stored_alarms_are_the_active_or_unacknowledged_slots_and_restore_into_them()
    {
        var state = new BatchState();
        state.AlarmLog.Add(new AlarmRecord { Code = "emergency-stop" });
        var estop = Alarms.Slot(AlarmCode.EmergencyStop);
        var lid = Alarms.Slot(AlarmCode.LidOpen);
        var steam = Alarms.SensorSlot(Channel.Steam);
        state.AlarmSlots[estop] = new AlarmSlot { Active = true, Unacknowledged = true, Trip = true, LogIndex = 0, Detail = "emergency stop pressed" };
        state.AlarmSlots[lid] = new AlarmSlot { Active = false, Unacknowledged = true, LogIndex = -1, Detail = "lid" };
        state.AlarmSlots[steam] = new AlarmSlot { Active = true, Unacknowledged = false, LogIndex = -1, Detail = "steam" };
        state.AlarmSlots[Alarms.Slot(AlarmCode.PowerLoss)] = new AlarmSlot { Active = false, Unacknowledged = false, LogIndex = -1, Detail = "gone" };
        var stored = state.StoredAlarms;
        Assert.Equal(["emergency-stop", "lid-open", "sensor-fault:steam"], stored.Select(s => s.Code).ToArray());
        Assert.Equal((true, true, true, 0, "emergency stop pressed"), (stored[0].Active, stored[0].Unacknowledged, stored[0].Trip, stored[0].LogIndex, stored[0].Detail));

        var restored = JsonSerializer.Deserialize<BatchState>(JsonSerializer.Serialize(state))!;
        Assert.Equal(state.AlarmSlots[estop].Detail, restored.AlarmSlots[estop].Detail);
        Assert.Equal(0, restored.AlarmSlots[estop].LogIndex);
        Assert.True(restored.AlarmSlots[estop].Trip);
        Assert.True(restored.AlarmSlots[lid].Unacknowledged);
        Assert.False(restored.AlarmSlots[lid].Active);
        Assert.True(restored.AlarmSlots[steam].Active);
        Assert.False(restored.AlarmSlots[steam].Unacknowledged);
        Assert.True(restored.AnyActiveTrip());
    }

    [Fact]
    public void Stored_alarms_of_unknown_codes_or_past_the_log_are_restored_safely()
    {
        var state = new BatchState();
        state.StoredAlarms =
        [
            new StoredAlarm { Code = "no-such-alarm", Active = true, Trip = true },
            new StoredAlarm { Code = "lid-open", Active = true, Unacknowledged = true, Trip = true, LogIndex = 3, Detail = null! },
        ];
        var lid = state.AlarmSlots[Alarms.Slot(AlarmCode.LidOpen)];
        Assert.Equal(-1, lid.LogIndex);
        Assert.Equal("", lid.Detail);
        Assert.True(lid.Active && lid.Unacknowledged && lid.Trip);
        Assert.Single(state.StoredAlarms);
        state.StoredAlarms = null!;
        Assert.Single(state.StoredAlarms);
    }

    [Fact]
    public void Any_active_trip_unacknowledged_or_active_alarm_is_told_apart()
    {
        var state = new BatchState();
        Assert.False(state.AnyActiveTrip() || state.AnyUnacknowledged() || state.AnyActive());
        state.AlarmSlots[Alarms.Slot(AlarmCode.CoolingOutHigh)].Active = true;
        Assert.True(state.AnyActive());
        Assert.False(state.AnyActiveTrip());
        state.AlarmSlots[Alarms.Slot(AlarmCode.CoolingOutHigh)].Trip = true;
        Assert.True(state.AnyActiveTrip());
        Assert.False(state.AnyUnacknowledged());
        state.AlarmSlots[Alarms.SlotCount - 1].Unacknowledged = true;
        Assert.True(state.AnyUnacknowledged());
        state.AlarmSlots[Alarms.Slot(AlarmCode.CoolingOutHigh)].Active = false;
        Assert.False(state.AnyActiveTrip());
        Assert.False(state.AnyActive());
    }

    [Fact]
    public void A_new_batch_starts_with_an_empty_record_and_keeps_live_alarms()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.Values[Channel.Steam] = null;
        h.StepSeconds(1);
        Assert.True(h.Command(CommandKind.Abort).Accepted);
        h.Command(CommandKind.Ack);
        h.Values[Channel.Steam] = 104;
        var s = h.State;
        var steam = Alarms.SensorSlot(Channel.Steam);
        Assert.True(s.AlarmSlots[steam].Active);
        Assert.True(s.AlarmSlots[steam].LogIndex >= 0);
        s.Deviations.Add(new DeviationRecord { Phase = "hearts" });
        s.CoverAdvised = true;
        s.CoverAdvisories = 3;
        s.VapourWithoutDistillateSeconds = s.DistillateBelowCoolingInSeconds = s.DistillateProbesDisagreeSeconds = s.CondenserUnbalancedSeconds = s.SteamStarvedSeconds = 7;
        s.PressureTrimPercent = s.SteamCutbackPercent = s.OverMaximumSeconds = s.BelowEndSeconds = 5;
        s.HeartsGrade = 1;
        Assert.True(h.Command(CommandKind.Start, "b-2").Accepted);
        Assert.Equal(("b-2", Phase.Loading, h.Now, (DateTimeOffset?)null), (s.BatchId, s.Phase, s.StartedAt, s.EndedAt));
        Assert.Equal((0.0, 0, false), (s.PhaseRunningSeconds, s.HeartsGrade, s.Held));
        Assert.Empty(s.Deviations);
        Assert.Empty(s.Fractions);
        Assert.Empty(s.AlarmLog);
        Assert.Single(s.Actions);
        Assert.Single(s.Phases);
        Assert.Equal(-1, s.CurrentFraction);
        Assert.Null(s.Current);
        Assert.False(s.CoverAdvised);
        Assert.Equal(0, s.CoverAdvisories);
        Assert.Equal(0, s.VapourWithoutDistillateSeconds + s.DistillateBelowCoolingInSeconds + s.DistillateProbesDisagreeSeconds + s.CondenserUnbalancedSeconds + s.SteamStarvedSeconds);
        Assert.Equal(0, s.PressureTrimPercent + s.SteamCutbackPercent + s.OverMaximumSeconds + s.BelowEndSeconds);
        Assert.Null(s.FilteredStrengthPercentVolume);
        Assert.Null(s.DistillateFlowTrendKilogramsPerMinute);
        // The live alarm carries over; its record stayed with the old batch.
        Assert.True(s.AlarmSlots[steam].Active);
        Assert.Equal(-1, s.AlarmSlots[steam].LogIndex);
    }

    [Fact]
    public void A_fraction_s_strength_counts_only_assayed_litres_and_a_phase_s_mean_steam_only_running_time()
    {
        Assert.Null(new Fraction().AbvPercent);
        Assert.Null(new Fraction { VolumeLitres = 2, UnassayedLitres = 2 }.AbvPercent);
        Assert.Equal(60, new Fraction { VolumeLitres = 3, UnassayedLitres = 1, EthanolLitres = 1.2 }.AbvPercent!.Value, 9);
        Assert.Null(new PhaseRecord().SteamMeanPercent);
        Assert.Equal(25, new PhaseRecord { SteamPercentSeconds = 500, RunningSeconds = 20 }.SteamMeanPercent!.Value, 9);
    }

    [Fact]
    public void The_current_fraction_and_phase_record_are_none_out_of_range()
    {
        var state = new BatchState();
        Assert.Null(state.Current);
        Assert.Null(state.CurrentPhaseRecord);
        state.Fractions.Add(new Fraction { Receiver = "heads" });
        state.CurrentFraction = 1;
        Assert.Null(state.Current);
        state.CurrentFraction = 0;
        Assert.Equal("heads", state.Current!.Receiver);
        state.Phases.Add(new PhaseRecord { Phase = "loading" });
        state.Phases.Add(new PhaseRecord { Phase = "sealed" });
        Assert.Equal("sealed", state.CurrentPhaseRecord!.Phase);
    }

    [Fact]
    public void A_deviation_is_accepted_for_the_phase_it_names_only()
    {
        var state = new BatchState();
        Assert.False(state.DeviationAccepted(Phase.Hearts));
        state.Deviations.Add(new DeviationRecord { Phase = "heads" });
        Assert.False(state.DeviationAccepted(Phase.Hearts));
        Assert.True(state.DeviationAccepted(Phase.Heads));
        state.Deviations.Add(new DeviationRecord { Phase = "hearts" });
        Assert.True(state.DeviationAccepted(Phase.Hearts));
    }

    [Fact]
    public void A_command_result_says_accepted_or_refused_with_its_reason()
    {
        Assert.Equal(new CommandResult(true, "ok"), CommandResult.Accept("ok"));
        Assert.Equal(new CommandResult(false, "no"), CommandResult.Refuse("no"));
        var alarm = new AlarmRecord();
        Assert.False(alarm.IsTrip);
        alarm.Severity = "trip";
        Assert.True(alarm.IsTrip);
    }
}
