using StillControl.Recipes;

namespace StillControl.Process;

/// <summary>The manual output test at its edges: the limits themselves accepted, what the page reads of a running test, the receivers offered.</summary>
public class OutputTestEdgeTests
{
    private static (ControllerHarness H, OutputTest Test) Settled(bool isolationFitted = false)
    {
        var h = new ControllerHarness();
        h.Step(8);
        return (h, new OutputTest { SteamIsolationFitted = isolationFitted });
    }

    private static CommandResult Start(ControllerHarness h, OutputTest test, TestOutput output, double percent = 40, string? receiver = null, double seconds = 30) =>
        test.Handle(new OutputTestRequest(OutputTestAction.Start, "zhang", "panel", "t1", output, percent, receiver, TimeSpan.FromSeconds(seconds)), h.State, h.Recipe, h.Now, new Decisions());

    [Theory]
    [InlineData(1.0, true)]
    [InlineData(300.0, true)]
    [InlineData(0.9, false)]
    [InlineData(300.5, false)]
    public void A_test_runs_one_second_to_five_minutes(double seconds, bool accepted)
    {
        var (h, test) = Settled();
        var result = Start(h, test, TestOutput.CoolingValve, 50, seconds: seconds);
        Assert.Equal(accepted, result.Accepted);
        if (!accepted) Assert.Equal($"test time {seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)} s: 1 to 300 s", result.Reason);
    }

    [Theory]
    [InlineData(0.0, true)]
    [InlineData(100.0, true)]
    [InlineData(-0.1, false)]
    [InlineData(100.1, false)]
    [InlineData(double.PositiveInfinity, false)]
    public void A_valve_opens_zero_to_one_hundred_percent(double percent, bool accepted)
    {
        var (h, test) = Settled();
        Assert.Equal(accepted, Start(h, test, TestOutput.CoolingValve, percent).Accepted);
    }

    /// <summary>A steam valve held shut by hand opens nothing: it needs no steam permit, and a steam interlock does not end it.</summary>
    [Fact]
    public void A_steam_valve_held_shut_needs_no_steam_permit()
    {
        var (h, test) = Settled();
        h.Values[Channel.CoolingFlow] = 0;
        h.StepSeconds(1);
        h.Command(CommandKind.Ack);
        Assert.Contains("cooling-water flow", Start(h, test, TestOutput.SteamValve, 10).Reason);
        var shut = Start(h, test, TestOutput.SteamValve, 0);
        Assert.True(shut.Accepted, shut.Reason);
        h.Step();
        test.Apply(h.State, h.Recipe, h.Now, h.Decisions);
        Assert.True(test.Active);
        Assert.Equal(0, h.Decisions.SteamValvePercent);
    }

    [Fact]
    public void The_page_reads_what_runs_by_whom_and_until_when()
    {
        var (h, test) = Settled();
        Assert.Equal(OutputTestStatus.Idle, test.Status);
        Assert.True(Start(h, test, TestOutput.SteamValve, 35, seconds: 20).Accepted);
        var status = test.Status;
        Assert.Equal(new OutputTestStatus(true, "steam-valve", 35, null, "zhang", h.Now, h.Now + TimeSpan.FromSeconds(20), "t1", null), status);

        var stop = test.Handle(new OutputTestRequest(OutputTestAction.Stop, "li", "panel", "other"), h.State, h.Recipe, h.Now, new Decisions());
        Assert.Equal("output test stopped: steam-valve at 35 % back to safe", stop.Reason);
        Assert.False(test.Status.Active);
        Assert.Equal("output-test of steam-valve at 35 % stopped by li (panel): outputs back to safe", test.Status.LastOutcome);

        var again = test.Handle(new OutputTestRequest(OutputTestAction.Stop, "li", "panel", "other"), h.State, h.Recipe, h.Now, new Decisions());
        Assert.True(again.Accepted);
        Assert.Equal("no output test is running: the outputs are safe", again.Reason);
        var keep = test.Handle(new OutputTestRequest(OutputTestAction.KeepAlive, "zhang", "panel", "t1"), h.State, h.Recipe, h.Now, new Decisions());
        Assert.False(keep.Accepted);
    }

    [Fact]
    public void A_diverter_test_shows_its_receiver_and_no_opening()
    {
        var (h, test) = Settled();
        Assert.True(Start(h, test, TestOutput.Diverter, 70, receiver: "tails").Accepted);
        var status = test.Status;
        Assert.Equal(("diverter", (double?)null, "tails"), (status.Output, status.Percent, status.Receiver));
        h.Step();
        test.Apply(h.State, h.Recipe, h.Now, h.Decisions);
        Assert.Equal("tails", h.Decisions.Receiver);
        Assert.Equal(0, h.Decisions.SteamValvePercent);
        Assert.Equal(100, h.Decisions.CoolingValvePercent);
        Assert.Equal(0, h.State.SteamValvePercent);
    }

    [Fact]
    public void The_receivers_offered_are_the_recipe_s_each_once()
    {
        var recipe = DefaultRecipe.Create();
        Assert.Equal(["heads", "tails", "drain", "hearts-1", "hearts-2"], OutputTest.Receivers(recipe));
        recipe.Tails.Receiver = "heads";
        recipe.Hearts.Grades[1].Receiver = "";
        Assert.Equal(["heads", "drain", "hearts-1"], OutputTest.Receivers(recipe));
    }

    /// <summary>A cooling-valve test drives the valve the position check compares with: what the outputs were told is what the state keeps.</summary>
    [Fact]
    public void The_state_keeps_what_the_test_told_the_outputs()
    {
        var (h, test) = Settled();
        Assert.True(Start(h, test, TestOutput.CoolingValve, 45).Accepted);
        h.Step();
        test.Apply(h.State, h.Recipe, h.Now, h.Decisions);
        Assert.Equal(45, h.State.CoolingValvePercent);
        Assert.Equal(45, h.Decisions.CoolingValvePercent);
        Assert.True(h.Decisions.Beacon);
    }

    [Fact]
    public void A_test_goes_back_to_safe_while_the_sensors_settle_after_a_restart()
    {
        var (h, test) = Settled();
        Assert.True(Start(h, test, TestOutput.CoolingValve, 45).Accepted);
        var decisions = new Decisions { Settling = true };
        test.Apply(h.State, h.Recipe, h.Now, decisions);
        Assert.False(test.Active);
        Assert.Contains("the sensors are settling after a restart", test.LastOutcome);
    }

    [Fact]
    public void A_start_needs_no_trip_active_and_says_which()
    {
        var (h, test) = Settled();
        h.Values[Channel.SteamPressure] = 90;
        h.StepSeconds(3);
        var refused = Start(h, test, TestOutput.CoolingValve, 45);
        Assert.False(refused.Accepted);
        Assert.StartsWith("alarm trip holds: steam-overpressure (steam pressure ", refused.Reason);
        Assert.EndsWith("; the outputs stay safe until it clears", refused.Reason);
    }

    [Theory]
    [InlineData("steam-valve", TestOutput.SteamValve)]
    [InlineData("cooling-valve", TestOutput.CoolingValve)]
    [InlineData("diverter", TestOutput.Diverter)]
    public void Each_output_is_named_as_the_page_sends_it(string name, TestOutput expected)
    {
        Assert.True(TestOutputs.TryParse(name, out var output));
        Assert.Equal(expected, output);
        Assert.Equal(name, output.Name());
    }

    [Theory]
    [InlineData("Steam-Valve")]
    [InlineData("heater")]
    [InlineData("")]
    [InlineData(null)]
    public void Any_other_name_is_no_output(string? name)
    {
        Assert.False(TestOutputs.TryParse(name, out var output));
        Assert.Equal(default, output);
    }

    /// <summary>A refused start is on the record with what was asked and why; a keep-alive of a test that has ended is not.</summary>
    [Fact]
    public void A_refused_start_is_journaled_and_a_late_keep_alive_is_not()
    {
        var (h, test) = Settled();
        var decisions = new Decisions();
        var refused = test.Handle(new OutputTestRequest(OutputTestAction.Start, "zhang", "panel", "t1", TestOutput.Diverter, 0, "nowhere", TimeSpan.FromSeconds(30)),
            h.State, h.Recipe, h.Now, decisions);
        Assert.False(refused.Accepted);
        Assert.StartsWith("receiver 'nowhere': one of ", refused.Reason);
        var e = Assert.Single(decisions.Events);
        Assert.Equal(EventKind.CommandRefused, e.Kind);
        Assert.Equal($"output-test diverter to receiver nowhere by zhang (panel): {refused.Reason}", e.Message);

        var late = new Decisions();
        Assert.False(test.Handle(new OutputTestRequest(OutputTestAction.KeepAlive, "zhang", "panel", "t1"), h.State, h.Recipe, h.Now, late).Accepted);
        Assert.Empty(late.Events);

        var accepted = new Decisions();
        Assert.True(test.Handle(new OutputTestRequest(OutputTestAction.Start, "zhang", "panel", "t2", TestOutput.Diverter, 0, h.Recipe.Hearts.Grades[0].Receiver, TimeSpan.FromSeconds(30)),
            h.State, h.Recipe, h.Now, accepted).Accepted);
        Assert.DoesNotContain(accepted.Events, x => x.Kind == EventKind.CommandRefused);
        Assert.Contains($"diverter to receiver {h.Recipe.Hearts.Grades[0].Receiver}", test.Refusal(CommandKind.Start));
    }

    /// <summary>Readings that have arrived are not enough while the sensors still settle after a restart.</summary>
    [Fact]
    public void No_test_starts_before_the_sensors_have_settled()
    {
        var (h, test) = Settled();
        h.State.SettledAt = null;
        var result = Start(h, test, TestOutput.CoolingValve, 50);
        Assert.False(result.Accepted);
        Assert.Equal("no readings yet: wait for the sensors' first samples", result.Reason);
    }

    /// <summary>A test ends in the very step its time is up, and in the very step the page's lease runs out.</summary>
    [Theory]
    [InlineData(5.0, 5.0, "its time is up (5 s)")]
    [InlineData(300.0, 10.0, "the page that started it stopped answering (nothing for 10 s)")]
    public void A_test_ends_exactly_when_its_time_or_its_lease_runs_out(double seconds, double endsAfter, string reason)
    {
        var (h, test) = Settled();
        Assert.True(Start(h, test, TestOutput.CoolingValve, 50, seconds: seconds).Accepted);
        var started = h.Now;
        test.Apply(h.State, h.Recipe, started + TimeSpan.FromSeconds(endsAfter) - TimeSpan.FromMilliseconds(1), new Decisions());
        Assert.True(test.Active);
        test.Apply(h.State, h.Recipe, started + TimeSpan.FromSeconds(endsAfter), new Decisions());
        Assert.False(test.Active);
        Assert.EndsWith(reason, test.Status.LastOutcome);
    }
}
