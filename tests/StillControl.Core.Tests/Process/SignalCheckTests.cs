using StillControl.Recipes;

namespace StillControl.Process;

public class SignalCheckTests
{
    private readonly Recipe recipe = DefaultRecipe.Create();
    private readonly ReadingSnapshot readings = new();
    private readonly SignalMemory[] memory = new SignalMemory[Channels.Count];
    private DateTimeOffset now = new(2026, 11, 28, 8, 0, 0, TimeSpan.Zero);

    private SignalMemory Feed(Channel channel, Reading reading, double advanceSeconds = 0.75)
    {
        now += TimeSpan.FromSeconds(advanceSeconds);
        readings[channel] = reading with { Timestamp = reading.Timestamp == default ? now : reading.Timestamp };
        SignalCheck.Update(readings, memory, recipe, now);
        return memory[(int)channel];
    }

    private SignalMemory Good(Channel channel, double value, double advanceSeconds = 0.75) => Feed(channel, Reading.Good(value, default), advanceSeconds);

    [Fact]
    public void A_good_reading_is_accepted_with_its_value()
    {
        var m = Good(Channel.Distillate, 28.0625);
        Assert.True(m.IsGood);
        Assert.Equal(28.0625, m.Value);
    }

    [Fact]
    public void The_DS18B20_power_on_value_is_rejected_unless_the_process_was_already_there()
    {
        Good(Channel.Distillate, 28);
        var m = Good(Channel.Distillate, SignalCheck.PowerOnCelsius);
        Assert.False(m.IsGood);
        Assert.Equal(FaultReason.PowerOnValue, m.Fault);
        Assert.True(double.IsNaN(m.Value));

        Good(Channel.Vapour, 84.9, 0.1);
        Assert.True(Good(Channel.Vapour, 85.0, 0.1).IsGood);
    }

    [Fact]
    public void A_power_on_value_as_the_very_first_reading_is_rejected()
    {
        Assert.Equal(FaultReason.PowerOnValue, Good(Channel.CoolingOut, 85.0).Fault);
    }

    [Fact]
    public void A_jump_faster_than_the_process_is_a_spike_and_a_later_sane_reading_recovers()
    {
        Good(Channel.Distillate, 28);
        Assert.Equal(FaultReason.Spike, Good(Channel.Distillate, 68).Fault);
        Assert.True(Good(Channel.Distillate, 28.1).IsGood);
    }

    [Fact]
    public void The_identical_value_for_too_long_is_a_stuck_sensor()
    {
        var stuck = recipe.Sensors.Distillate.StuckSeconds!.Value;
        SignalMemory m = default;
        for (var t = 0.0; t < stuck - 1; t += 0.75)
        {
            m = Good(Channel.Distillate, 28.5);
        }
        Assert.True(m.IsGood);
        for (var t = 0.0; t < 3; t += 0.75)
        {
            m = Good(Channel.Distillate, 28.5);
        }
        Assert.Equal(FaultReason.Stuck, m.Fault);
        Assert.True(Good(Channel.Distillate, 28.5625).IsGood);
    }

    [Fact]
    public void A_flow_that_stays_at_zero_is_not_stuck()
    {
        SignalMemory m = default;
        for (var i = 0; i < 400; i++) m = Good(Channel.DistillateFlow, 0, 1);
        Assert.True(m.IsGood);
    }

    [Fact]
    public void A_reading_outside_the_plausible_range_is_rejected()
    {
        Assert.Equal(FaultReason.OutOfRange, Good(Channel.Vapour, -127).Fault);
        Assert.Equal(FaultReason.OutOfRange, Good(Channel.Barometer, 300).Fault);
    }

    [Fact]
    public void The_source_fault_reason_is_kept()
    {
        var m = Feed(Channel.Vapour, Reading.Faulted(FaultReason.ChecksumError, default));
        Assert.Equal(FaultReason.ChecksumError, m.Fault);
    }

    [Fact]
    public void A_reading_older_than_the_stale_limit_is_stale()
    {
        var at = now + TimeSpan.FromSeconds(1);
        Feed(Channel.CoolingOut, Reading.Good(40, at), 1);
        Assert.True(memory[(int)Channel.CoolingOut].IsGood);
        now += TimeSpan.FromSeconds(recipe.Sensors.CoolingOut.StaleSeconds + 0.5);
        SignalCheck.Update(readings, memory, recipe, now);
        Assert.Equal(FaultReason.Stale, memory[(int)Channel.CoolingOut].Fault);
    }

    [Fact]
    public void An_unconfigured_channel_stays_not_configured()
    {
        readings[Channel.Strength] = Reading.NotConfigured;
        SignalCheck.Update(readings, memory, recipe, now);
        Assert.False(memory[(int)Channel.Strength].IsConfigured);
    }
    [Fact]
    public void A_faulted_reading_that_gives_no_reason_is_a_source_error()
    {
        var m = Feed(Channel.Vapour, new Reading(double.NaN, ReadingQuality.Faulted, FaultReason.None, default));
        Assert.False(m.IsGood);
        Assert.Equal(FaultReason.SourceError, m.Fault);
        Assert.True(double.IsNaN(m.Value));
    }

    [Fact]
    public void A_reading_at_the_edges_of_its_plausible_range_is_accepted_and_not_a_number_is_not()
    {
        Assert.True(Good(Channel.Distillate, recipe.Sensors.Distillate.MinimumValue).IsGood);
        Assert.True(Good(Channel.CoolingOut, recipe.Sensors.CoolingOut.MaximumValue).IsGood);
        Assert.Equal(FaultReason.OutOfRange, Good(Channel.Vapour, double.NaN).Fault);
    }

    [Fact]
    public void A_strength_of_85_percent_is_a_real_reading_not_a_thermometer_power_on_value()
    {
        var m = Good(Channel.Strength, SignalCheck.PowerOnCelsius);
        Assert.True(m.IsGood);
        Assert.Equal(85.0, m.Value);
    }

    /// <summary>The still head climbing steadily through 85 °C really reads 85.0 on the way: its own trend leads there.</summary>
    [Fact]
    public void A_real_85_after_a_steady_climb_is_accepted()
    {
        for (var v = 80.0; v < 85; v += 0.5) Assert.True(Good(Channel.Vapour, v, 1).IsGood);
        var m = Good(Channel.Vapour, 85.0, 1);
        Assert.True(m.IsGood, m.Fault.Name());
        Assert.Equal(85.0, m.Value);
    }

    /// <summary>The trend is in degrees per second, whatever the poll interval: a climb of 2 °C/s polled every half second leads to 85.</summary>
    [Fact]
    public void A_real_85_after_a_fast_climb_polled_every_half_second_is_accepted()
    {
        for (var v = 75.0; v < 85; v += 1) Assert.True(Good(Channel.Vapour, v, 0.5).IsGood);
        var m = Good(Channel.Vapour, 85.0, 0.5);
        Assert.True(m.IsGood, m.Fault.Name());
    }

    /// <summary>A DS18B20 that resets while the vapour sits near 85 °C reads 85.0: believed only within half a degree of the trend.</summary>
    [Theory]
    [InlineData(84.4, false)]
    [InlineData(84.5, true)]
    [InlineData(84.6, true)]
    public void An_85_next_to_a_steady_reading_is_believed_only_within_half_a_degree(double steady, bool believed)
    {
        for (var i = 0; i < 10; i++) Good(Channel.Vapour, steady, 1);
        var m = Good(Channel.Vapour, 85.0, 1);
        Assert.Equal(believed, m.IsGood);
        if (!believed) Assert.Equal(FaultReason.PowerOnValue, m.Fault);
    }

    /// <summary>Real readings near 85 °C move by a resolution step within seconds; an exact 85.0 for seconds is a thermometer resetting.</summary>
    [Fact]
    public void An_exact_85_repeated_for_seconds_is_a_thermometer_resetting()
    {
        for (var v = 80.0; v < 85; v += 0.5) Good(Channel.Vapour, v, 1);
        for (var t = 0; t < SignalCheck.PowerOnRepeatSeconds; t++)
        {
            Assert.True(Good(Channel.Vapour, 85.0, 1).IsGood, $"after {t} s");
        }
        Assert.Equal(FaultReason.PowerOnValue, Good(Channel.Vapour, 85.0, 1).Fault);
    }

    /// <summary>
    /// A source polled faster than it converts repeats its value, then steps: the step counts over the time since that value
    /// appeared (up to a second), so a real rise is not a spike.
    /// </summary>
    [Fact]
    public void A_source_that_holds_its_value_between_conversions_may_then_step_by_a_second_s_worth()
    {
        Good(Channel.Distillate, 28, 0.25);
        for (var i = 0; i < 3; i++) Good(Channel.Distillate, 28, 0.25);
        // 8 °C in the second since 28 first appeared: within the 10 °C/s limit, though it came 0.25 s after the last poll.
        var m = Good(Channel.Distillate, 36, 0.25);
        Assert.True(m.IsGood, m.Fault.Name());
    }

    /// <summary>After a long steady spell, a jump is still judged over at most one second: a probe coming loose is a spike.</summary>
    [Fact]
    public void A_jump_after_a_long_steady_spell_is_still_a_spike()
    {
        // One identical value for a minute (well inside the stuck limit), as a source that converts rarely gives.
        for (var i = 0; i < 80; i++) Good(Channel.Distillate, 28, 0.75);
        Assert.Equal(FaultReason.Spike, Good(Channel.Distillate, 68, 0.25).Fault);
    }

    /// <summary>A flow counted from pulses cannot freeze at a value (a dead meter reads zero): a steady count is a steady flow.</summary>
    [Fact]
    public void A_pulse_counted_flow_that_repeats_its_count_is_not_stuck_but_an_analogue_one_is()
    {
        var stuck = recipe.Sensors.DistillateFlow.StuckSeconds!.Value;
        SignalMemory counted = default, analogue = default;
        for (var t = 0.0; t < stuck + 5; t += 1)
        {
            counted = Feed(Channel.DistillateFlow, Reading.FromPulses(2.5, default), 0.5);
            analogue = Feed(Channel.CoolingFlow, Reading.Good(40, default), 0.5);
        }
        Assert.True(counted.IsGood);
        Assert.Equal(FaultReason.Stuck, analogue.Fault);
    }

    [Fact]
    public void A_reading_exactly_as_old_as_its_stale_limit_is_still_fresh()
    {
        var at = now + TimeSpan.FromSeconds(1);
        Feed(Channel.CoolingOut, Reading.Good(40, at), 1);
        now = at + TimeSpan.FromSeconds(recipe.Sensors.CoolingOut.StaleSeconds);
        SignalCheck.Update(readings, memory, recipe, now);
        Assert.True(memory[(int)Channel.CoolingOut].IsGood);
    }

    /// <summary>A channel whose source goes away forgets its history: its next reading is judged as a first one.</summary>
    [Fact]
    public void A_channel_that_loses_its_source_forgets_its_history()
    {
        for (var v = 80.0; v < 85; v += 0.5) Good(Channel.Vapour, v, 1);
        Feed(Channel.Vapour, Reading.NotConfigured);
        Assert.False(memory[(int)Channel.Vapour].IsConfigured);
        Assert.Equal(FaultReason.PowerOnValue, Good(Channel.Vapour, 85.0, 1).Fault);
    }
    /// <summary>A reading that moves on every poll is judged over the poll interval: 5 °C in a quarter of a second is a spike.</summary>
    [Fact]
    public void A_reading_that_moves_every_poll_is_judged_over_the_poll_interval()
    {
        for (var v = 28.0; v < 30; v += 0.25) Assert.True(Good(Channel.Distillate, v, 0.25).IsGood);
        Assert.Equal(FaultReason.Spike, Good(Channel.Distillate, 35, 0.25).Fault);
    }

    /// <summary>The distillate may move 10 °C/s: exactly that is accepted, faster is a spike.</summary>
    [Fact]
    public void A_change_at_the_rate_limit_is_accepted_and_a_faster_one_is_a_spike()
    {
        Good(Channel.Distillate, 28, 0.5);
        Good(Channel.Distillate, 28.0625, 0.5);
        Assert.True(Good(Channel.Distillate, 33.0625, 0.5).IsGood);
        Assert.Equal(FaultReason.Spike, Good(Channel.Distillate, 38.5625, 0.5).Fault);
    }

    /// <summary>The stuck limit is how long one value may last: at exactly that long it is stuck.</summary>
    [Fact]
    public void The_identical_value_for_exactly_the_stuck_time_is_stuck()
    {
        var stuck = recipe.Sensors.Distillate.StuckSeconds!.Value;
        for (var t = 0; t < stuck; t++) Assert.True(Good(Channel.Distillate, 28.5, 1).IsGood, $"at {t} s");
        Assert.Equal(FaultReason.Stuck, Good(Channel.Distillate, 28.5, 1).Fault);
    }
}
