using StillControl.Recipes;

namespace StillControl.Process;

/// <summary>
/// Operator commands at their edges (each refusal in its words, what an accepted one records) and the alarm life cycle
/// (raise, clear, acknowledge, reopen): written where mutation testing of <c>Commands.cs</c> and <c>Alarming.cs</c> found
/// changes no test noticed.
/// </summary>
public class CommandRuleTests
{
    [Fact]
    public void Start_records_the_batch_its_first_phase_and_arms_the_loading_watchdog()
    {
        var h = new ControllerHarness();
        h.Step(4);
        var result = h.Command(CommandKind.Start, "b-7");
        Assert.True(result.Accepted);
        Assert.Equal("batch b-7 started: loading", result.Reason);
        Assert.Equal("b-7", h.State.BatchId);
        Assert.Equal(Phase.Loading, h.State.Phase);
        var record = Assert.Single(h.State.Phases);
        Assert.Equal(("loading", "start", "distillate", h.Now), (record.Phase, record.Reason, record.CoolingChannel, record.StartedAt));
        Assert.Contains(h.Decisions.Events, e => e.Kind == EventKind.BatchStarted && e.Code == "b-7" && e.Message == "batch b-7 started on recipe strong-aroma-default");
        Assert.Contains(h.Decisions.Events, e => e.Kind == EventKind.PhaseChanged && e.Message == "idle → loading: start");
        Assert.Equal((60 + 15) * 60, h.State.WatchdogHoldAtSeconds);
        // The command is on the record of the batch it started.
        var action = Assert.Single(h.State.Actions);
        Assert.Equal(("start", "tester", "test", "b-7", true), (action.Command, action.Operator, action.Source, action.Argument, action.Accepted));
    }

    [Theory]
    [InlineData(null, "start needs a batch id")]
    [InlineData("", "start needs a batch id")]
    [InlineData("   ", "start needs a batch id")]
    public void Start_without_a_batch_id_is_refused(string? id, string words)
    {
        var h = new ControllerHarness();
        h.Step(4);
        var result = StillController.Apply(new OperatorCommand(CommandKind.Start, "tester", "test", id), h.State, h.Recipe, h.Now, h.Decisions);
        Assert.False(result.Accepted);
        Assert.Equal(words, result.Reason);
        Assert.Equal(Phase.Idle, h.State.Phase);
    }

    [Fact]
    public void A_batch_id_of_64_characters_is_accepted_and_one_of_65_is_not()
    {
        var h = new ControllerHarness();
        h.Step(4);
        Assert.False(h.Command(CommandKind.Start, new string('a', 65)).Accepted);
        Assert.True(h.Command(CommandKind.Start, "A-z_0.9:" + new string('b', 56)).Accepted);
    }

    [Fact]
    public void Start_is_refused_before_the_first_step_and_while_a_batch_runs()
    {
        var h = new ControllerHarness();
        var early = h.Command(CommandKind.Start);
        Assert.False(early.Accepted);
        Assert.Equal("no readings yet: wait for the sensors' first samples", early.Reason);
        h.RunTo(Phase.Hearts);
        var again = h.Command(CommandKind.Start, "b-2");
        Assert.False(again.Accepted);
        Assert.Equal("batch batch-1 is already running (hearts); abort it first", again.Reason);
        Assert.Equal("batch-1", h.State.BatchId);
    }

    [Fact]
    public void Start_is_refused_in_the_words_of_what_blocks_steam()
    {
        var h = new ControllerHarness();
        h.Values[Channel.SteamPressure] = 90;
        h.StepSeconds(3);
        h.Command(CommandKind.Ack);
        var result = h.Command(CommandKind.Start);
        Assert.False(result.Accepted);
        Assert.StartsWith("steam may not open: steam pressure ", result.Reason);
        Assert.Empty(h.State.Actions);
    }

    [Fact]
    public void Seal_is_refused_on_a_held_batch_and_with_an_unreadable_lid_switch()
    {
        var h = new ControllerHarness();
        h.Values[Channel.LidClosed] = null;
        h.Faults[Channel.LidClosed] = FaultReason.Stale;
        h.Step(4);
        // Not needed while loading: a warning, acknowledged.
        Assert.True(h.Command(CommandKind.Ack).Accepted);
        Assert.True(h.Command(CommandKind.Start).Accepted);
        h.Step(4);
        var unreadable = h.Command(CommandKind.Seal);
        Assert.False(unreadable.Accepted);
        Assert.Equal("the lid switch is unreadable (stale)", unreadable.Reason);

        h.Values[Channel.LidClosed] = 1;
        h.Step(2);
        Assert.True(h.Command(CommandKind.Hold).Accepted);
        var held = h.Command(CommandKind.Seal);
        Assert.False(held.Accepted);
        Assert.Equal("seal is for a loading batch that is not held; now loading, held (operator-hold)", held.Reason);
        Assert.Equal(Phase.Loading, h.State.Phase);
    }

    [Fact]
    public void Hold_is_refused_on_a_held_batch_and_cut_on_a_held_or_uncollecting_one()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Sealed);
        var sealedCut = h.Command(CommandKind.Cut);
        Assert.False(sealedCut.Accepted);
        Assert.Equal("cut ends heads, a hearts grade or tails of a running batch; now sealed", sealedCut.Reason);
        h.Distilling(82);
        h.StepSeconds(5);
        Assert.Equal(Phase.Heads, h.State.Phase);
        var hold = h.Command(CommandKind.Hold);
        Assert.True(hold.Accepted);
        Assert.Equal("held in heads: steam closed, cooling open", hold.Reason);
        Assert.Equal(h.Now, h.State.HeldSince);
        var twice = h.Command(CommandKind.Hold);
        Assert.False(twice.Accepted);
        Assert.Equal("hold is for a running batch; now heads, held (operator-hold)", twice.Reason);
        var cut = h.Command(CommandKind.Cut);
        Assert.False(cut.Accepted);
        Assert.Equal(Phase.Heads, h.State.Phase);
    }

    [Fact]
    public void Resume_takes_no_argument_but_accept_deviation()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        Assert.True(h.Command(CommandKind.Hold).Accepted);
        var odd = h.Command(CommandKind.Resume, "now");
        Assert.False(odd.Accepted);
        Assert.Equal("resume takes no argument, or 'accept-deviation' to run on past a cooling limit the cooling water cannot reach; got 'now'", odd.Reason);
        Assert.True(h.State.Held);
        var plain = h.Command(CommandKind.Resume);
        Assert.True(plain.Accepted);
        Assert.Equal("resumed hearts", plain.Reason);
        Assert.Contains(h.Decisions.Events, e => e.Kind == EventKind.Resumed && e.Message == "resumed hearts after operator-hold");
        Assert.False(h.State.Held);
        Assert.Null(h.State.HoldCause);
        Assert.Null(h.State.HeldSince);
    }

    /// <summary>A deviation accepted while something else still blocks is taken back: nothing is recorded for a refused resume.</summary>
    [Fact]
    public void An_accepted_deviation_is_taken_back_when_the_resume_is_refused_for_another_cause()
    {
        var h = new ControllerHarness();
        h.Values[Channel.CoolingIn] = 29;
        h.Values[Channel.Distillate] = 31;
        h.RunTo(Phase.Loading);
        Assert.True(h.Command(CommandKind.Seal).Accepted);
        h.Step();
        Assert.Equal("cooling-limit-unreachable", h.State.HoldCause);
        h.Command(CommandKind.Ack);
        h.Values[Channel.CoolingFlow] = 1;
        h.StepSeconds(1);
        h.Command(CommandKind.Ack);
        var blocked = h.Command(CommandKind.Resume, StillController.AcceptDeviation);
        Assert.False(blocked.Accepted);
        Assert.StartsWith("the cause has not cleared: cooling-water flow", blocked.Reason);
        Assert.Empty(h.State.Deviations);

        // Cooling water back, but a warning raised since is not acknowledged: refused again, again nothing kept.
        h.Values[Channel.CoolingFlow] = 40;
        h.Values[Channel.Steam] = null;
        h.StepSeconds(1);
        Assert.True(h.State.AnyUnacknowledged());
        var unacknowledged = h.Command(CommandKind.Resume, StillController.AcceptDeviation);
        Assert.False(unacknowledged.Accepted);
        Assert.StartsWith("acknowledge the alarms first: ", unacknowledged.Reason);
        Assert.Empty(h.State.Deviations);
        Assert.True(h.State.Held);

        h.Command(CommandKind.Ack);
        var accepted = h.Command(CommandKind.Resume, StillController.AcceptDeviation);
        Assert.True(accepted.Accepted, accepted.Reason);
        Assert.Equal("resumed sealed; deviation accepted by tester: hearts cooling limit", accepted.Reason);
        var deviation = Assert.Single(h.State.Deviations);
        Assert.Equal(("hearts", "cooling-limit-unreachable", h.Now), (deviation.Phase, deviation.Code, deviation.At));
        Assert.Contains("cannot hold the hearts maximum of 30 °C", deviation.Detail);
    }

    [Fact]
    public void Abort_is_refused_with_no_batch_and_says_what_it_ended()
    {
        var h = new ControllerHarness();
        h.Step(4);
        var none = h.Command(CommandKind.Abort);
        Assert.Equal("no batch to abort; now idle", none.Reason);
        h.RunTo(Phase.Sealed);
        var abort = h.Command(CommandKind.Abort);
        Assert.True(abort.Accepted);
        Assert.Equal("batch batch-1 aborted: steam closed, cooling open", abort.Reason);
    }

    /// <summary>Commands are kept on the record of the batch they concern: the one that ends it too, none after it.</summary>
    [Fact]
    public void The_record_keeps_the_batch_s_commands_and_none_after_it_ended()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        Assert.False(h.Command(CommandKind.Seal).Accepted);
        Assert.True(h.Command(CommandKind.Abort).Accepted);
        Assert.False(h.Command(CommandKind.Resume).Accepted);
        Assert.False(h.Command(CommandKind.Abort).Accepted);
        Assert.Equal(["start", "seal", "seal", "abort"], h.State.Actions.Select(a => a.Command).ToArray());
        var refused = h.State.Actions[^2];
        Assert.False(refused.Accepted);
        Assert.StartsWith("seal is for a loading batch", refused.Reason);
        Assert.True(h.State.Actions[^1].Accepted);
    }

    [Fact]
    public void The_event_of_a_command_names_its_operator_source_and_id()
    {
        var h = new ControllerHarness();
        h.Step(4);
        StillController.Apply(new OperatorCommand(CommandKind.Hold, "li", "panel", null, "c-42"), h.State, h.Recipe, h.Now, h.Decisions);
        var refused = Assert.Single(h.Decisions.Events);
        Assert.Equal(EventKind.CommandRefused, refused.Kind);
        Assert.Equal("hold", refused.Code);
        Assert.Equal("hold by li (panel, id c-42): hold is for a running batch; now idle", refused.Message);
        h.Decisions.Clear(h.Now);
        StillController.Apply(new OperatorCommand(CommandKind.Start, "li", "mqtt", "b-1"), h.State, h.Recipe, h.Now, h.Decisions);
        Assert.Contains(h.Decisions.Events, e => e.Kind == EventKind.CommandAccepted && e.Message == "start by li (mqtt): batch b-1 started: loading");
    }

    [Fact]
    public void Ack_takes_one_code_or_all_and_refuses_codes_that_do_not_exist_or_do_not_wait()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.Values[Channel.Steam] = null;
        h.Values[Channel.CoolingOut] = 72;
        h.StepSeconds(10);
        Assert.True(h.State.AlarmSlots[Alarms.SensorSlot(Channel.Steam)].Unacknowledged);

        var unknown = h.Command(CommandKind.Ack, "no-such-alarm");
        Assert.Equal((false, "no alarm code 'no-such-alarm'; acknowledge all by sending ack without an argument"), (unknown.Accepted, unknown.Reason));
        var quiet = h.Command(CommandKind.Ack, "emergency-stop");
        Assert.Equal((false, "alarm emergency-stop is not waiting for acknowledgement"), (quiet.Accepted, quiet.Reason));

        var one = h.Command(CommandKind.Ack, "sensor-fault:steam");
        Assert.Equal((true, "1 alarm(s) acknowledged"), (one.Accepted, one.Reason));
        Assert.False(h.State.AlarmSlots[Alarms.SensorSlot(Channel.Steam)].Unacknowledged);
        Assert.True(h.State.AlarmSlots[Alarms.Slot(AlarmCode.CoolingOutHigh)].Unacknowledged);
        Assert.Equal(h.Now, h.State.AlarmLog.Single(a => a.Code == "sensor-fault:steam").AcknowledgedAt);
        Assert.Null(h.State.AlarmLog.Single(a => a.Code == "cooling-water-outlet-high").AcknowledgedAt);
        Assert.Contains(h.Decisions.Events, e => e.Kind == EventKind.AlarmAcknowledged && e.Code == "sensor-fault:steam"
            && e.Message == "sensor-fault:steam acknowledged by tester" && e.Channel == Channel.Steam);

        var rest = h.Command(CommandKind.Ack);
        Assert.Equal((true, "1 alarm(s) acknowledged"), (rest.Accepted, rest.Reason));
        var nothing = h.Command(CommandKind.Ack);
        Assert.Equal((false, "no alarm waits for acknowledgement"), (nothing.Accepted, nothing.Reason));
    }

    [Fact]
    public void Unacknowledged_alarms_are_named_when_a_start_is_refused()
    {
        var h = new ControllerHarness();
        h.Step(4);
        h.Values[Channel.EmergencyStop] = 1;
        h.Values[Channel.CoolingOut] = 72;
        h.StepSeconds(10);
        h.Values[Channel.EmergencyStop] = 0;
        h.Values[Channel.CoolingOut] = 22;
        h.StepSeconds(StillController.WarningClearSeconds + 10);
        var refused = h.Command(CommandKind.Start);
        Assert.Equal("acknowledge the alarms first: emergency-stop, cooling-water-outlet-high", refused.Reason);
    }

    [Fact]
    public void A_restart_holds_a_running_batch_and_waits_for_readings_before_a_resume()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.StepSeconds(30);
        Assert.True(h.State.SteamValvePercent > 0);
        var phaseStarted = h.State.Phases[^1].StartedAt;
        var decisions = new Decisions();
        var later = h.Now + TimeSpan.FromMinutes(2);
        StillController.RestoreAfterPowerLoss(h.State, later, decisions);
        Assert.Null(h.State.LastStepAt);
        Assert.Equal(0, h.State.SteamValvePercent);
        Assert.Equal(100, h.State.CoolingValvePercent);
        Assert.Equal(0, h.State.PressureTrimPercent);
        Assert.Null(h.State.DistillateFlowTrendKilogramsPerMinute);
        Assert.True(h.State.Held);
        Assert.Equal(later, h.State.HeldSince);
        Assert.True(decisions.Horn);
        Assert.False(decisions.SteamIsolationOpen);
        var alarm = h.State.AlarmLog.Single(a => a.Code == "power-loss");
        Assert.Equal("warning", alarm.Severity);
        Assert.Equal($"service restarted with batch batch-1 unfinished in hearts (phase began {phaseStarted:O})", alarm.Detail);
        Assert.NotNull(alarm.ClearedAt);
        Assert.False(h.State.AlarmSlots[Alarms.Slot(AlarmCode.PowerLoss)].Active);
        Assert.True(h.State.AlarmSlots[Alarms.Slot(AlarmCode.PowerLoss)].Unacknowledged);
        Assert.Contains(decisions.Events, e => e.Kind == EventKind.Held && e.Code == "power-loss");

        h.Command(CommandKind.Ack);
        var early = h.Command(CommandKind.Resume);
        Assert.False(early.Accepted);
        Assert.Equal("no readings since restart yet: wait for the sensors' first samples", early.Reason);
    }

    [Fact]
    public void A_restart_leaves_an_operator_hold_s_cause_and_an_idle_still_alone()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        Assert.True(h.Command(CommandKind.Hold).Accepted);
        var heldSince = h.State.HeldSince;
        StillController.RestoreAfterPowerLoss(h.State, h.Now + TimeSpan.FromMinutes(1), new Decisions());
        Assert.Equal("operator-hold", h.State.HoldCause);
        Assert.Equal(heldSince, h.State.HeldSince);
        Assert.Contains(h.State.AlarmLog, a => a.Code == "power-loss");

        var idle = new ControllerHarness();
        idle.Step(4);
        var decisions = new Decisions();
        StillController.RestoreAfterPowerLoss(idle.State, idle.Now, decisions);
        Assert.Empty(decisions.Events);
        Assert.False(idle.State.Held);
        Assert.NotNull(idle.State.LastStepAt);
        Assert.False(idle.State.AnyUnacknowledged());
    }

    /// <summary>A trip clears as soon as its condition goes; a warning only after its condition has stayed away the clear time.</summary>
    [Fact]
    public void A_trip_clears_at_once_and_a_warning_only_after_the_clear_time()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.Values[Channel.CoolingFlow] = 1;
        h.Values[Channel.Steam] = null;
        h.StepSeconds(2);
        h.Values[Channel.CoolingFlow] = 40;
        h.Values[Channel.Steam] = 104;
        h.Step();
        var trip = h.State.AlarmLog.Single(a => a.Code == "cooling-water-loss");
        Assert.Equal(h.Now, trip.ClearedAt);
        Assert.Contains(h.Decisions.Events, e => e.Kind == EventKind.AlarmCleared && e.Code == "cooling-water-loss" && e.Message == "cooling-water-loss cleared");
        var warning = h.State.AlarmLog.Single(a => a.Code == "sensor-fault:steam");
        Assert.Null(warning.ClearedAt);
        h.StepSeconds(StillController.WarningClearSeconds - 1);
        Assert.Null(warning.ClearedAt);
        Assert.True(h.State.AlarmSlots[Alarms.SensorSlot(Channel.Steam)].Active);
        h.StepSeconds(2);
        Assert.NotNull(warning.ClearedAt);
        Assert.False(h.State.AlarmSlots[Alarms.SensorSlot(Channel.Steam)].Active);
        // Held by the trip: the beacon stays lit though no condition holds.
        Assert.True(h.Decisions.Beacon);
        Assert.False(h.State.AnyActive());
    }

    /// <summary>A warning back after the reopen time, or in another phase, is a new alarm; within it and in the same phase, the same one counted.</summary>
    [Fact]
    public void A_warning_back_after_the_reopen_time_is_a_new_alarm()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.Values[Channel.Steam] = null;
        h.StepSeconds(2);
        h.Values[Channel.Steam] = 104;
        h.StepSeconds(StillController.WarningClearSeconds + 2);
        var first = h.State.AlarmLog.Single(a => a.Code == "sensor-fault:steam");
        Assert.NotNull(first.ClearedAt);
        h.StepSeconds(StillController.WarningReopenSeconds - 5);
        h.Values[Channel.Steam] = null;
        h.StepSeconds(2);
        Assert.Single(h.State.AlarmLog, a => a.Code == "sensor-fault:steam");
        Assert.Equal(2, first.Occurrences);
        Assert.Null(first.AcknowledgedAt);

        h.Values[Channel.Steam] = 104;
        h.StepSeconds(StillController.WarningClearSeconds + 2);
        h.StepSeconds(StillController.WarningReopenSeconds + 5);
        h.Values[Channel.Steam] = null;
        h.StepSeconds(2);
        Assert.Equal(2, h.State.AlarmLog.Count(a => a.Code == "sensor-fault:steam"));
        Assert.Equal(1, h.State.AlarmLog[^1].Occurrences);
    }

    [Fact]
    public void A_warning_back_in_the_next_phase_is_a_new_alarm_of_that_phase()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.Values[Channel.Steam] = null;
        h.StepSeconds(2);
        h.Values[Channel.Steam] = 104;
        h.StepSeconds(StillController.WarningClearSeconds + 2);
        Assert.True(h.Command(CommandKind.Cut).Accepted);
        Assert.True(h.Command(CommandKind.Cut).Accepted);
        h.Values[Channel.Steam] = null;
        h.StepSeconds(2);
        Assert.Equal(["hearts", "tails"], h.State.AlarmLog.Where(a => a.Code == "sensor-fault:steam").Select(a => a.Phase).ToArray());
    }

    /// <summary>A trip that comes back is always a new record: every trip is on the record on its own.</summary>
    [Fact]
    public void A_trip_that_comes_back_is_a_new_record()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        for (var i = 0; i < 2; i++)
        {
            h.Values[Channel.CoolingFlow] = 1;
            h.StepUntilHeld(2);
            h.Values[Channel.CoolingFlow] = 40;
            h.StepSeconds(2);
            h.Command(CommandKind.Ack);
            Assert.True(h.Command(CommandKind.Resume).Accepted);
            h.StepSeconds(2);
        }
        Assert.Equal(2, h.State.AlarmLog.Count(a => a.Code == "cooling-water-loss"));
        Assert.All(h.State.AlarmLog.Where(a => a.Code == "cooling-water-loss"), a => Assert.Equal(1, a.Occurrences));
    }

    /// <summary>An acknowledged alarm that has cleared lets go of its record, so the next one starts afresh; one still waiting keeps it.</summary>
    [Fact]
    public void A_cleared_and_acknowledged_alarm_lets_go_of_its_record()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.Values[Channel.CoolingFlow] = 1;
        h.StepUntilHeld(2);
        var slot = Alarms.Slot(AlarmCode.CoolingWaterLoss);
        var index = h.State.AlarmSlots[slot].LogIndex;
        Assert.Equal("cooling-water-loss", h.State.AlarmLog[index].Code);
        h.Command(CommandKind.Ack);
        Assert.Equal(index, h.State.AlarmSlots[slot].LogIndex);
        h.Values[Channel.CoolingFlow] = 40;
        h.StepSeconds(1);
        Assert.Equal(-1, h.State.AlarmSlots[slot].LogIndex);

        h.Values[Channel.CoolingFlow] = 1;
        h.StepSeconds(1);
        h.Values[Channel.CoolingFlow] = 40;
        h.StepSeconds(1);
        // Cleared but not acknowledged: the slot keeps its record, for the acknowledgement to be written on it.
        var second = h.State.AlarmSlots[slot].LogIndex;
        Assert.True(second > index);
        h.Command(CommandKind.Ack);
        Assert.Equal(h.Now, h.State.AlarmLog[second].AcknowledgedAt);
        Assert.Equal(-1, h.State.AlarmSlots[slot].LogIndex);
    }

    [Fact]
    public void Alarms_outside_a_batch_sound_but_are_not_written_on_any_batch()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        Assert.True(h.Command(CommandKind.Abort).Accepted);
        var logged = h.State.AlarmLog.Count;
        h.Values[Channel.EmergencyStop] = 1;
        h.StepSeconds(1);
        Assert.Equal(logged, h.State.AlarmLog.Count);
        Assert.Equal(-1, h.State.AlarmSlots[Alarms.Slot(AlarmCode.EmergencyStop)].LogIndex);
        Assert.True(h.Decisions.Horn);
        Assert.Contains(h.Events, e => e.Kind == EventKind.AlarmRaised && e.Code == "emergency-stop" && e.Phase == Phase.Aborted);
    }
    /// <summary>
    /// A warning acknowledged and cleared, back within the reopen time in the same phase, is found again on the record (its slot
    /// had let go of it), counted, with its new words, and waits for a new acknowledgement.
    /// </summary>
    [Fact]
    public void An_acknowledged_warning_back_soon_reopens_its_record_and_waits_again()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.Values[Channel.Steam] = null;
        h.StepSeconds(2);
        Assert.True(h.Command(CommandKind.Ack, "sensor-fault:steam").Accepted);
        h.Values[Channel.Steam] = 104;
        h.StepSeconds(StillController.WarningClearSeconds + 2);
        var slot = Alarms.SensorSlot(Channel.Steam);
        Assert.Equal(-1, h.State.AlarmSlots[slot].LogIndex);
        var record = h.State.AlarmLog.Single(a => a.Code == "sensor-fault:steam");
        Assert.NotNull(record.AcknowledgedAt);
        // Another warning in between, so the steam record is not the last one on the log.
        h.Values[Channel.CoolingOut] = 72;
        h.StepSeconds(5);
        h.Values[Channel.Steam] = null;
        h.Faults[Channel.Steam] = FaultReason.ChecksumError;
        h.StepSeconds(2);
        Assert.Same(record, Assert.Single(h.State.AlarmLog, a => a.Code == "sensor-fault:steam"));
        Assert.Equal(2, record.Occurrences);
        Assert.Null(record.AcknowledgedAt);
        Assert.Null(record.ClearedAt);
        Assert.Equal("steam reading rejected: checksum-error", record.Detail);
        Assert.Equal(h.State.AlarmLog.IndexOf(record), h.State.AlarmSlots[slot].LogIndex);
        Assert.True(h.State.AlarmSlots[slot].Unacknowledged);
    }
    [Fact]
    public void Start_is_refused_in_plain_words_while_the_first_readings_are_still_arriving()
    {
        var h = new ControllerHarness();
        h.Values.Clear();
        h.Step(4);
        Assert.True(h.Decisions.Settling);
        var start = h.Command(CommandKind.Start);
        Assert.Equal("no readings yet: wait for the sensors' first samples", start.Reason);
    }

    [Fact]
    public void A_lid_switch_at_half_scale_reads_closed_for_sealing()
    {
        var h = new ControllerHarness();
        h.Values[Channel.LidClosed] = 0.5;
        h.RunTo(Phase.Loading);
        Assert.True(h.Command(CommandKind.Seal).Accepted);
    }

    /// <summary>A warning's condition gone: it clears exactly the clear time later.</summary>
    [Fact]
    public void A_warning_clears_exactly_its_clear_time_after_its_condition_went()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.Values[Channel.Steam] = null;
        h.StepSeconds(2);
        h.Values[Channel.Steam] = 104;
        h.Step();
        var gone = h.Now;
        var warning = h.State.AlarmLog.Single(a => a.Code == "sensor-fault:steam");
        while (warning.ClearedAt is null) h.Step();
        Assert.Equal(TimeSpan.FromSeconds(StillController.WarningClearSeconds), warning.ClearedAt - gone);
    }

    /// <summary>A power loss is an event: raised and cleared at once, one record and one clearing, waiting for acknowledgement.</summary>
    [Fact]
    public void A_power_loss_is_raised_and_cleared_once()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        var decisions = new Decisions();
        StillController.RestoreAfterPowerLoss(h.State, h.Now, decisions);
        Assert.Equal([EventKind.Held, EventKind.AlarmRaised, EventKind.AlarmCleared], decisions.Events.Select(e => e.Kind).ToArray());
        Assert.All(decisions.Events.Skip(1), e => Assert.Equal("power-loss", e.Code));
    }
}
