namespace StillControl.Process;

/// <summary>The manual output test (commissioning): one output by hand, refused when it may not run, back to safe on any doubt.</summary>
public class OutputTestTests
{
    private static readonly TimeSpan Thirty = TimeSpan.FromSeconds(30);

    /// <summary>The controller's step, then the test's, as the control loop runs them; every event of the step is kept.</summary>
    private sealed class Rig
    {
        public ControllerHarness H { get; } = new();
        public OutputTest Test { get; }
        public List<ControllerEvent> Events { get; } = [];

        public Rig(bool isolationFitted = false)
        {
            Test = new OutputTest { SteamIsolationFitted = isolationFitted };
            Step(8);
        }

        public void Step(int count = 1)
        {
            for (var i = 0; i < count; i++)
            {
                H.Step();
                Test.Apply(H.State, H.Recipe, H.Now, H.Decisions);
                Events.AddRange(H.Decisions.Events.Where(e => e.Kind == EventKind.OutputTest));
            }
        }

        public void StepSeconds(double seconds) => Step((int)Math.Ceiling(seconds / ControllerHarness.Period.TotalSeconds));

        /// <summary>Steps until the test has ended; returns how long that took.</summary>
        public double SecondsUntilEnded(double maximumSeconds)
        {
            var steps = 0;
            while (Test.Active)
            {
                Step();
                steps++;
                if (steps * ControllerHarness.Period.TotalSeconds > maximumSeconds) throw new Xunit.Sdk.XunitException($"the test still runs after {maximumSeconds} s");
            }
            return steps * ControllerHarness.Period.TotalSeconds;
        }

        public CommandResult Ask(OutputTestAction action, TestOutput output = TestOutput.SteamValve, double percent = 40, string? receiver = null, TimeSpan? duration = null,
            string id = "t1")
        {
            var decisions = new Decisions();
            var result = Test.Handle(new OutputTestRequest(action, "zhang", "panel", id, output, percent, receiver, duration ?? Thirty), H.State, H.Recipe, H.Now, decisions);
            Events.AddRange(decisions.Events);
            return result;
        }

        /// <summary>Keeps the test's lease for <paramref name="seconds"/>, renewing it every two seconds as the page does.</summary>
        public void KeepFor(double seconds)
        {
            for (var t = 0.0; t < seconds && Test.Active; t += 2)
            {
                Ask(OutputTestAction.KeepAlive);
                StepSeconds(2);
            }
        }
    }

    [Fact]
    public void A_steam_valve_test_drives_only_the_steam_valve_and_goes_back_to_safe_when_its_time_is_up()
    {
        var rig = new Rig();
        Assert.NotNull(rig.H.State.SettledAt);
        var started = rig.Ask(OutputTestAction.Start, TestOutput.SteamValve, 40, duration: TimeSpan.FromSeconds(6));
        Assert.True(started.Accepted, started.Reason);
        rig.Step();
        Assert.Equal(40, rig.H.Decisions.SteamValvePercent);
        Assert.Equal(100, rig.H.Decisions.CoolingValvePercent);
        Assert.Null(rig.H.Decisions.Receiver);
        Assert.False(rig.H.Decisions.SteamIsolationOpen);
        Assert.True(rig.H.Decisions.Beacon);

        var took = rig.SecondsUntilEnded(20);
        Assert.InRange(took, 5, 6.5);
        Assert.Equal(0, rig.H.Decisions.SteamValvePercent);
        Assert.Equal(100, rig.H.Decisions.CoolingValvePercent);
        var revert = Assert.Single(rig.Events, e => e.Code == "revert");
        Assert.Contains("by zhang", revert.Message);
        Assert.Contains("time is up", revert.Message);
        Assert.Contains(rig.Events, e => e.Code == "start" && e.Message.Contains("zhang") && e.Message.Contains("steam-valve at 40 %"));
        rig.Step(8);
        Assert.Equal(0, rig.H.Decisions.SteamValvePercent);
    }

    [Fact]
    public void Without_keep_alives_the_test_goes_back_to_safe_after_the_lease_and_with_them_it_holds()
    {
        var rig = new Rig();
        Assert.True(rig.Ask(OutputTestAction.Start, TestOutput.CoolingValve, 20).Accepted);
        var took = rig.SecondsUntilEnded(30);
        Assert.InRange(took, OutputTest.Lease.TotalSeconds - 0.5, OutputTest.Lease.TotalSeconds + 0.5);
        Assert.Contains(rig.Events, e => e.Code == "revert" && e.Message.Contains("stopped answering"));
        Assert.Equal(100, rig.H.Decisions.CoolingValvePercent);

        // The page renewing it: held past the lease, until its own time.
        Assert.True(rig.Ask(OutputTestAction.Start, TestOutput.CoolingValve, 20, duration: TimeSpan.FromSeconds(20)).Accepted);
        rig.KeepFor(16);
        Assert.True(rig.Test.Active);
        Assert.Equal(20, rig.H.Decisions.CoolingValvePercent);
        // A keep-alive naming another test does not hold this one.
        Assert.False(rig.Ask(OutputTestAction.KeepAlive, id: "someone-else").Accepted);
    }

    [Fact]
    public void A_test_is_refused_while_a_batch_runs_and_a_start_is_refused_while_a_test_runs()
    {
        var rig = new Rig();
        Assert.True(rig.Ask(OutputTestAction.Start, TestOutput.CoolingValve, 30).Accepted);
        var refusal = rig.Test.Refusal(CommandKind.Start);
        Assert.NotNull(refusal);
        Assert.Contains("output test is running", refusal);
        Assert.Null(rig.Test.Refusal(CommandKind.Ack));
        Assert.True(rig.Ask(OutputTestAction.Stop).Accepted);
        Assert.Contains(rig.Events, e => e.Code == "stop" && e.Message.Contains("stopped by zhang"));
        Assert.Null(rig.Test.Refusal(CommandKind.Start));

        Assert.True(rig.H.Command(CommandKind.Start).Accepted);
        rig.Step(4);
        var during = rig.Ask(OutputTestAction.Start, TestOutput.Diverter, receiver: rig.H.Recipe.Heads.Receiver);
        Assert.False(during.Accepted);
        Assert.Contains("batch-1 is running", during.Reason);
        Assert.False(rig.Test.Active);
        Assert.Contains(rig.Events, e => e.Kind == EventKind.CommandRefused && e.Code == OutputTest.CommandName && e.Message.Contains("zhang"));
    }

    [Fact]
    public void One_output_at_a_time()
    {
        var rig = new Rig();
        Assert.True(rig.Ask(OutputTestAction.Start, TestOutput.CoolingValve, 30).Accepted);
        var second = rig.Ask(OutputTestAction.Start, TestOutput.SteamValve, 10, id: "t2");
        Assert.False(second.Accepted);
        Assert.Contains("one output at a time", second.Reason);
        rig.Step();
        Assert.Equal(0, rig.H.Decisions.SteamValvePercent);
        Assert.Equal(30, rig.H.Decisions.CoolingValvePercent);
    }

    [Fact]
    public void An_emergency_stop_refuses_a_test_and_reverts_a_running_one_at_once()
    {
        var rig = new Rig();
        Assert.True(rig.Ask(OutputTestAction.Start, TestOutput.Diverter, receiver: rig.H.Recipe.Heads.Receiver).Accepted);
        rig.Step();
        Assert.Equal(rig.H.Recipe.Heads.Receiver, rig.H.Decisions.Receiver);
        rig.H.Values[Channel.EmergencyStop] = 1;
        rig.StepSeconds(0.5);
        Assert.False(rig.Test.Active);
        Assert.Null(rig.H.Decisions.Receiver);
        Assert.Contains(rig.Events, e => e.Code == "revert" && e.Message.Contains("emergency-stop"));

        var refused = rig.Ask(OutputTestAction.Start, TestOutput.CoolingValve, 50);
        Assert.False(refused.Accepted);
        Assert.Contains("alarm trip holds: emergency-stop", refused.Reason);
    }

    [Fact]
    public void Steam_by_hand_needs_a_fitted_lid_switch_to_read_closed_and_goes_back_to_safe_when_the_lid_opens()
    {
        // Outside a batch the lid interlock is not judged, but the still may be open for unloading: no steam by hand then.
        var rig = new Rig();
        rig.H.Values[Channel.LidClosed] = 0;
        rig.Step(2);
        var refused = rig.Ask(OutputTestAction.Start, TestOutput.SteamValve, 30);
        Assert.False(refused.Accepted);
        Assert.Contains("lid is open", refused.Reason);
        Assert.True(rig.Ask(OutputTestAction.Start, TestOutput.CoolingValve, 60).Accepted);
        rig.Ask(OutputTestAction.Stop);

        rig.H.Values[Channel.LidClosed] = 1;
        rig.Step(2);
        Assert.True(rig.Ask(OutputTestAction.Start, TestOutput.SteamValve, 30).Accepted);
        rig.KeepFor(4);
        Assert.Equal(30, rig.H.Decisions.SteamValvePercent);
        rig.H.Values[Channel.LidClosed] = 0;
        rig.StepSeconds(1);
        Assert.False(rig.Test.Active);
        Assert.Equal(0, rig.H.Decisions.SteamValvePercent);
        Assert.Contains(rig.Events, e => e.Code == "revert" && e.Message.Contains("lid is open"));

        // An unreadable switch is no proof either.
        rig.H.Values[Channel.LidClosed] = null;
        rig.Step(2);
        Assert.Contains("lid switch is unreadable", rig.Ask(OutputTestAction.Start, TestOutput.SteamValve, 30).Reason);

        // With an isolation valve fitted (shut throughout the test) no steam passes: the valve's travel may be checked lid off.
        var isolated = new Rig(isolationFitted: true);
        isolated.H.Values[Channel.LidClosed] = 0;
        isolated.Step(2);
        Assert.True(isolated.Ask(OutputTestAction.Start, TestOutput.SteamValve, 30).Accepted);
        isolated.KeepFor(4);
        Assert.Equal(30, isolated.H.Decisions.SteamValvePercent);
        Assert.False(isolated.H.Decisions.SteamIsolationOpen);
    }

    [Fact]
    public void Steam_needs_proven_cooling_water_to_start_and_to_stay_open()
    {
        var rig = new Rig();
        Assert.True(rig.Ask(OutputTestAction.Start, TestOutput.SteamValve, 25).Accepted);
        rig.KeepFor(4);
        Assert.Equal(25, rig.H.Decisions.SteamValvePercent);
        rig.H.Jump(Channel.CoolingFlow, 1);
        rig.StepSeconds(1);
        Assert.False(rig.Test.Active);
        Assert.Equal(0, rig.H.Decisions.SteamValvePercent);
        Assert.Contains(rig.Events, e => e.Code == "revert" && e.Message.Contains("steam interlock") && e.Message.Contains("cooling-water flow"));

        var steam = rig.Ask(OutputTestAction.Start, TestOutput.SteamValve, 25);
        Assert.False(steam.Accepted);
        Assert.Contains("steam may not open: cooling-water flow", steam.Reason);
        // Testing the cooling valve itself needs no flow: it is how a person finds out why there is none.
        Assert.True(rig.Ask(OutputTestAction.Start, TestOutput.CoolingValve, 60).Accepted);
    }

    [Fact]
    public void Values_out_of_range_and_unknown_receivers_are_refused_with_what_is_accepted()
    {
        var rig = new Rig();
        var high = rig.Ask(OutputTestAction.Start, TestOutput.CoolingValve, 140);
        Assert.False(high.Accepted);
        Assert.Contains("0 to 100", high.Reason);
        var nan = rig.Ask(OutputTestAction.Start, TestOutput.SteamValve, double.NaN);
        Assert.False(nan.Accepted);
        var receiver = rig.Ask(OutputTestAction.Start, TestOutput.Diverter, receiver: "bucket-9");
        Assert.False(receiver.Accepted);
        Assert.Contains(rig.H.Recipe.Heads.Receiver, receiver.Reason);
        var longTest = rig.Ask(OutputTestAction.Start, TestOutput.CoolingValve, 50, duration: TimeSpan.FromHours(1));
        Assert.False(longTest.Accepted);
        Assert.Contains("1 to 300 s", longTest.Reason);
        Assert.False(rig.Test.Active);
    }

    [Fact]
    public void No_test_before_the_sensors_have_settled()
    {
        var h = new ControllerHarness();
        var test = new OutputTest();
        var result = test.Handle(new OutputTestRequest(OutputTestAction.Start, "zhang", "panel", "t", TestOutput.CoolingValve, 50, null, Thirty), h.State, h.Recipe, h.Now, new Decisions());
        Assert.False(result.Accepted);
        Assert.Contains("no readings yet", result.Reason);
    }
}
