using StillControl.Reports;

namespace StillControl.Simulation;

/// <summary>
/// The crafted scenarios of a safety review, each run closed loop through <c>simulate</c>: every one ends held with a named
/// reason (or completes with the deviation a person accepted on the record), and steam is shut at the still.
/// </summary>
public class SafetyScenarioTests
{
    private static JsonElementList Reactions(Simulate run) => new(run.Result.GetProperty("faultReactions").EnumerateArray().ToList());

    private sealed record JsonElementList(List<System.Text.Json.JsonElement> Items);

    private static void AssertHeldBy(Simulate run, string code)
    {
        Assert.Equal("held", run.Outcome);
        Assert.Contains($"held ({code})", run.Result.GetProperty("endReason").GetString());
        Assert.Equal("trip", run.Alarm(code).GetProperty("severity").GetString());
        foreach (var reaction in Reactions(run).Items)
        {
            Assert.NotEqual("steam never shut: the still stayed under steam with the fault", reaction.GetProperty("verdict").GetString());
        }
        var at = run.Alarm(code).GetProperty("raisedAt").GetDouble();
        Assert.All(run.Samples().Where(s => s.Seconds > at + 0.3), s => Assert.Equal(0, s.Steam));
    }

    [Fact]
    public async Task A_dead_distillate_flow_meter_from_sealing_on_is_caught_by_the_hot_still_head_instead_of_waiting_twelve_hours()
    {
        using var run = await Simulate.RunAsync("""{ "faults": [ { "kind": "sensor-stuck", "channel": "distillate-flow", "phase": "sealed", "afterSeconds": 0 } ] }""");
        AssertHeldBy(run, "vapour-without-distillate");
        var sealedAt = run.Phase("sealed").GetProperty("start").GetDouble();
        Assert.InRange(run.Alarm("vapour-without-distillate").GetProperty("raisedAt").GetDouble() - sealedAt, 90, 600);
        Assert.DoesNotContain(run.Phases, p => p.GetProperty("phase").GetString() is "hearts" or "tails");
    }

    [Fact]
    public async Task A_pulse_meter_that_stops_counting_in_hearts_holds_the_batch()
    {
        using var run = await Simulate.RunAsync("""{ "faults": [ { "kind": "sensor-dead", "channel": "distillate-flow", "phase": "hearts", "afterSeconds": 60 } ] }""");
        AssertHeldBy(run, "vapour-without-distillate");
        var hearts = run.Phase("hearts").GetProperty("start").GetDouble();
        // The vapour is at the still head all along: the confirm time plus a meter's window.
        Assert.InRange(run.Alarm("vapour-without-distillate").GetProperty("raisedAt").GetDouble() - hearts, 60 + 90, 60 + 90 + 15);
    }

    [Theory]
    [InlineData(29)]
    [InlineData(31)]
    [InlineData(33)]
    public async Task Cooling_water_too_warm_for_the_hearts_is_said_before_the_spirit_runs_and_holds(double inlet)
    {
        using var run = await Simulate.RunAsync($$"""{ "faults": [ { "kind": "cooling-water-hot", "valueCelsius": {{inlet}}, "atSeconds": 0 } ] }""");
        AssertHeldBy(run, "cooling-limit-unreachable");
        Assert.DoesNotContain(run.Phases, p => p.GetProperty("phase").GetString() == "heads");
        Assert.Contains("resume with argument 'accept-deviation'", run.Alarm("cooling-limit-unreachable").GetProperty("detail").GetString());
        // Nobody collected heads above their maximum, and steam never sat at nothing unheld.
        Assert.DoesNotContain(run.Alarms, a => a.GetProperty("code").GetString() == "cooling-over-maximum");
    }

    [Fact]
    public async Task With_the_deviation_accepted_the_batch_completes_and_the_record_says_who_accepted_what()
    {
        using var run = await Simulate.RunAsync("""
            { "faults": [ { "kind": "cooling-water-hot", "valueCelsius": 31, "atSeconds": 0 } ],
              "operator": [ { "command": "resume", "phase": "sealed", "afterSeconds": 120, "argument": "accept-deviation", "operator": "wang" } ] }
            """);
        Assert.Equal("completed", run.Outcome);
        using var query = new JournalQuery(run.Journal);
        var (state, _, _, _) = query.Load(run.Result.GetProperty("batchId").GetString()!)!.Value;
        Assert.Contains(state.Deviations, d => d.Phase == "hearts" && d.Operator == "wang" && d.Code == "cooling-limit-unreachable");
        Assert.Contains(run.Result.GetProperty("operatorActions").EnumerateArray(),
            a => a.GetProperty("command").GetString() == "resume" && a.GetProperty("accepted").GetBoolean() && a.GetProperty("reason").GetString()!.Contains("deviation accepted by wang"));
    }

    [Fact]
    public async Task A_distillate_probe_knocked_30_degrees_low_cannot_be_resumed_on()
    {
        using var run = await Simulate.RunAsync("""
            { "faults": [ { "kind": "sensor-offset", "channel": "distillate", "value": -30, "phase": "hearts", "afterSeconds": 60 } ],
              "operator": [ { "command": "ack", "phase": "hearts", "afterSeconds": 100 }, { "command": "resume", "phase": "hearts", "afterSeconds": 120 } ] }
            """);
        Assert.Equal("held", run.Outcome);
        var resume = Assert.Single(run.Result.GetProperty("operatorActions").EnumerateArray(), a => a.GetProperty("command").GetString() == "resume");
        Assert.False(resume.GetProperty("accepted").GetBoolean());
        Assert.Contains("colder than the cooling water", resume.GetProperty("reason").GetString());
        Assert.Contains(run.Alarms, a => a.GetProperty("code").GetString() == "distillate-below-cooling-water");
    }

    [Fact]
    public async Task Cooling_lost_with_stuck_readings_never_opens_steam_as_the_condensate_stops()
    {
        using var run = await Simulate.RunAsync("""
            { "faults": [ { "kind": "cooling-water-loss", "phase": "hearts", "afterSeconds": 60 },
                          { "kind": "sensor-stuck", "channel": "distillate", "phase": "hearts", "afterSeconds": 60 },
                          { "kind": "sensor-stuck", "channel": "cooling-flow", "phase": "hearts", "afterSeconds": 60 },
                          { "kind": "sensor-stuck", "channel": "cooling-out", "phase": "hearts", "afterSeconds": 60 } ] }
            """);
        Assert.Equal("held", run.Outcome);
        var hearts = run.Phase("hearts").GetProperty("start").GetDouble();
        var samples = run.Samples();
        // The flow meter reports once a second: until its first reading after the loss the trim still sees the old flow.
        var atOnset = samples.Where(s => s.Seconds > hearts + 59 && s.Seconds <= hearts + 62).Max(s => s.Steam);
        var afterwards = samples.Where(s => s.Seconds > hearts + 62).ToList();
        Assert.NotEmpty(afterwards);
        Assert.All(afterwards, s => Assert.True(s.Steam <= atOnset + 1e-9, $"steam {s.Steam:0.##} % at {s.Seconds:0.#} s, above {atOnset:0.##} % as the loss began"));
    }

    [Fact]
    public async Task An_emergency_stop_pressed_for_a_fraction_of_a_period_between_two_steps_trips()
    {
        // Hearts begin on a step boundary; the press starts 50 ms after one step and ends 100 ms before the next.
        using var run = await Simulate.RunAsync("""{ "faults": [ { "kind": "emergency-stop", "phase": "hearts", "afterSeconds": 100.05, "forSeconds": 0.1 } ] }""");
        AssertHeldBy(run, "emergency-stop");
        var reaction = Assert.Single(Reactions(run).Items);
        Assert.InRange(reaction.GetProperty("closedMs").GetDouble(), 0, 250);
    }

    [Fact]
    public async Task A_stuck_steam_valve_with_cooling_lost_is_shut_by_the_isolation_valve_and_without_one_the_figures_say_so()
    {
        const string faults = """
            "faults": [ { "kind": "steam-valve-stuck-open", "phase": "hearts", "afterSeconds": 60 },
                        { "kind": "cooling-water-loss", "phase": "hearts", "afterSeconds": 90 } ]
            """;
        using var fitted = await Simulate.RunAsync("{" + faults + "}");
        Assert.Equal("held", fitted.Outcome);
        var loss = Reactions(fitted).Items.Single(r => r.GetProperty("kind").GetString() == "cooling-water-loss");
        Assert.Equal("steam shut", loss.GetProperty("verdict").GetString());
        Assert.InRange(loss.GetProperty("closedMs").GetDouble(), 0, 250 + 1000);

        using var without = await Simulate.RunAsync("""{ "isolationValve": false, """ + faults + "}");
        var open = Reactions(without).Items.Single(r => r.GetProperty("kind").GetString() == "cooling-water-loss");
        Assert.Equal("steam never shut: the still stayed under steam with the fault", open.GetProperty("verdict").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, without.Result.GetProperty("interlockLatencyMs").ValueKind);
        // The vapour the condenser could not take went out of the vent: far more without the second shut-off.
        Assert.True(without.Result.GetProperty("ventedEthanolKilograms").GetDouble() > 10 * fitted.Result.GetProperty("ventedEthanolKilograms").GetDouble());
    }

    [Fact]
    public async Task A_power_on_85_on_the_still_head_probe_near_85_degrees_is_not_believed_for_long()
    {
        using var run = await Simulate.RunAsync("""{ "faults": [ { "kind": "sensor-power-on-reading", "channel": "vapour", "phase": "hearts", "afterSeconds": 400 } ] }""");
        AssertHeldBy(run, "sensor-fault:vapour");
        var reaction = Assert.Single(Reactions(run).Items);
        Assert.InRange(reaction.GetProperty("closedMs").GetDouble(), 0, Process.SignalCheck.PowerOnRepeatSeconds * 1000 + 250 + 100);
    }

    [Fact]
    public async Task A_probe_drifting_low_in_hearts_ends_held_with_the_cross_check_named()
    {
        using var run = await Simulate.RunAsync("""{ "faults": [ { "kind": "sensor-drift", "channel": "distillate", "ratePerSecond": -0.02, "phase": "hearts", "afterSeconds": 30 } ] }""");
        AssertHeldBy(run, "distillate-below-cooling-water");
    }

    [Fact]
    public async Task With_a_check_probe_fitted_a_drifting_distillate_probe_is_caught_before_the_spirit_runs_hot()
    {
        using var run = await Simulate.RunAsync("""
            { "distillateCheckProbe": true,
              "faults": [ { "kind": "sensor-drift", "channel": "distillate", "ratePerSecond": -0.02, "phase": "hearts", "afterSeconds": 30 } ] }
            """);
        AssertHeldBy(run, "distillate-probes-disagree");
        var hearts = run.Phase("hearts").GetProperty("start").GetDouble();
        // 2 °C of drift at 0.02 °C/s, plus the confirm time: the spirit was never more than a few degrees off.
        Assert.InRange(run.Alarm("distillate-probes-disagree").GetProperty("raisedAt").GetDouble() - hearts, 30 + 100, 30 + 100 + 30);
    }

    [Fact]
    public async Task A_cooling_water_outlet_probe_drifting_low_breaks_the_condenser_heat_balance_and_holds()
    {
        using var run = await Simulate.RunAsync("""{ "faults": [ { "kind": "sensor-drift", "channel": "cooling-out", "ratePerSecond": -0.05, "phase": "hearts", "afterSeconds": 60 } ] }""");
        AssertHeldBy(run, "condenser-heat-unbalanced");
    }

    [Fact]
    public async Task With_position_feedback_a_steam_valve_stuck_in_hearts_is_caught_when_it_fails_to_follow()
    {
        using var run = await Simulate.RunAsync("""
            { "valvePositionFeedback": true, "faults": [ { "kind": "steam-valve-stuck-open", "phase": "hearts", "afterSeconds": 60 } ] }
            """);
        AssertHeldBy(run, "steam-valve-not-following");
        Assert.Contains("the steam valve stands at", run.Alarm("steam-valve-not-following").GetProperty("detail").GetString());
    }

    [Fact]
    public async Task The_last_operator_command_of_a_scenario_runs_even_when_the_run_would_end_in_the_same_step()
    {
        // The batch is held by an operator hold; the scenario's abort comes long after, as its very last action.
        using var run = await Simulate.RunAsync("""
            { "operator": [ { "command": "hold", "phase": "hearts", "afterSeconds": 30 }, { "command": "abort", "phase": "hearts", "afterSeconds": 630.25 } ] }
            """);
        Assert.Equal("aborted", run.Outcome);
    }
}
