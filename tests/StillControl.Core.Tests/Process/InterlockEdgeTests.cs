namespace StillControl.Process;

/// <summary>
/// Interlock rules at their edges, where a hand pass of mutations over the controller found no test failing: the lid check from
/// the moment the still is sealed, "what blocks a resume" naming every trip, and a stall between steps.
/// </summary>
public class InterlockEdgeTests
{
    /// <summary>Sealed is when the lid goes on: from then on steam must not reach a still whose lid is lifted, first distillate or not.</summary>
    [Fact]
    public void A_lid_lifted_while_sealed_trips_before_any_distillate()
    {
        var h = new ControllerHarness();
        h.Values[Channel.LidClosed] = 1;
        h.RunTo(Phase.Sealed);
        h.StepSeconds(5);
        Assert.Equal(Phase.Sealed, h.State.Phase);
        Assert.True(h.Decisions.SteamValvePercent > 0);
        h.Values[Channel.LidClosed] = 0;
        Assert.Equal(0, h.StepUntilHeld(1));
        Assert.Equal("lid-open", h.State.HoldCause);
        Assert.Equal(Phase.Sealed, h.State.Phase);
        Assert.False(h.Decisions.SteamIsolationOpen);
    }

    /// <summary>
    /// A resume is judged by the same rules as the step: while a trip's condition still holds (acknowledged or not) the resume is
    /// refused in that rule's words and the batch stays held.
    /// </summary>
    [Theory]
    [InlineData(Channel.CoolingFlow, 1.0, "cooling-water flow 1 L/min below")]
    [InlineData(Channel.SteamPressure, 90.0, "steam pressure 90 kPa above")]
    [InlineData(Channel.EmergencyStop, 1.0, "emergency stop pressed")]
    [InlineData(Channel.CoolingOut, 80.0, "cooling-water outlet 80 °C above")]
    [InlineData(Channel.Distillate, 60.0, "vapour is leaving the condenser")]
    public void A_resume_is_refused_in_the_trip_s_words_while_its_condition_holds(Channel channel, double value, string words)
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        h.Values[channel] = value;
        h.StepUntilHeld(10);
        h.StepSeconds(2);
        Assert.True(h.Command(CommandKind.Ack).Accepted);
        var resume = h.Command(CommandKind.Resume);
        Assert.False(resume.Accepted);
        Assert.Contains(words, resume.Reason);
        Assert.True(h.State.Held);
        h.Step();
        Assert.Equal(0, h.Decisions.SteamValvePercent);
    }

    /// <summary>
    /// A control loop that stalls (a long garbage collection, a suspended machine) is not running time: the gap counts for at
    /// most a few seconds toward the phase's time and its watchdogs.
    /// </summary>
    [Fact]
    public void A_stall_between_steps_counts_as_a_few_seconds_of_running_time_at_most()
    {
        var h = new ControllerHarness();
        h.RunTo(Phase.Hearts);
        var before = h.State.PhaseRunningSeconds;
        var later = h.Now + TimeSpan.FromSeconds(30);
        foreach (var channel in Channels.All)
        {
            if (h.Readings[channel].Quality != ReadingQuality.NotConfigured) h.Readings[channel] = h.Readings[channel] with { Timestamp = later };
        }
        h.Decisions.Clear(later);
        StillController.Step(h.Readings, h.State, h.Recipe, later, h.Decisions);
        Assert.False(h.State.Held, StillController.Describe(h.State));
        var counted = h.State.PhaseRunningSeconds - before;
        Assert.InRange(counted, 1, 5);
    }
}
