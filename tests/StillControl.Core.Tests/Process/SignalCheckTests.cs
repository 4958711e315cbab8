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
}
