namespace StillControl.Control;

public class PidTests
{
    [Fact]
    public void Output_stays_within_its_limits()
    {
        var pid = new Pid();
        for (var i = 0; i < 100; i++)
        {
            var output = pid.Update(error: 50, deltaSeconds: 1, proportionalGain: 5, integralSeconds: 10, outputMinimum: 10, outputMaximum: 100, initialOutput: 30);
            Assert.InRange(output, 10, 100);
        }
    }

    [Fact]
    public void The_integral_does_not_wind_up_while_the_output_is_pinned()
    {
        var pid = new Pid();
        for (var i = 0; i < 600; i++) pid.Update(10, 1, 5, 10, 0, 100, 30);
        Assert.True(pid.Integral <= 100);
        // The error turns: with anti-windup the output leaves the limit at once instead of after minutes of unwinding.
        var output = pid.Update(-2, 1, 5, 10, 0, 100, 30);
        Assert.True(output < 100, $"output {output}");
    }

    [Fact]
    public void A_steady_error_is_integrated_away_on_a_simple_plant()
    {
        var pid = new Pid();
        var temperature = 40.0;
        for (var i = 0; i < 2000; i++)
        {
            var valve = pid.Update(temperature - 30, 0.25, 6, 40, 0, 100, 30);
            // More valve, more cooling: the temperature settles where heat in equals heat out.
            temperature += (60 - 0.4 * valve - temperature) * 0.25 / 20;
        }
        Assert.Equal(30, temperature, 1);
    }

    [Fact]
    public void Opening_is_rate_limited_and_closing_is_not()
    {
        Assert.Equal(12, RateLimit.OpeningLimited(10, 50, 8, 0.25));
        Assert.Equal(0, RateLimit.OpeningLimited(50, 0, 8, 0.25));
    }
    /// <summary>Bumpless start: the first update begins from the opening the valve already has (kept within the limits).</summary>
    [Theory]
    [InlineData(30, 30)]
    [InlineData(5, 10)]
    [InlineData(120, 100)]
    public void The_first_update_starts_from_the_initial_output_within_the_limits(double initial, double expected)
    {
        var pid = new Pid();
        Assert.Equal(expected, pid.Update(error: 0, deltaSeconds: 0.25, proportionalGain: 6, integralSeconds: 40, outputMinimum: 10, outputMaximum: 100, initialOutput: initial));
    }

    [Fact]
    public void Reset_starts_the_loop_afresh_from_the_initial_output()
    {
        var pid = new Pid();
        for (var i = 0; i < 20; i++) pid.Update(5, 1, 6, 40, 0, 100, 30);
        pid.Reset();
        Assert.Equal(30, pid.Update(0, 0.25, 6, 40, 0, 100, 30));
    }

    /// <summary>Anti-windup from the moment the output reaches its limit, not only once it is past it.</summary>
    [Fact]
    public void The_integral_stops_growing_as_soon_as_the_output_reaches_its_limit()
    {
        var pid = new Pid();
        // 90 from the integral plus 5 x 2 proportional: exactly at the maximum.
        Assert.Equal(100, pid.Update(2, 1, 5, 10, 0, 100, 90));
        Assert.Equal(90, pid.Update(0, 1, 5, 10, 0, 100, 90));
        var low = new Pid();
        Assert.Equal(0, low.Update(-2, 1, 5, 10, 0, 100, 10));
        Assert.Equal(10, low.Update(0, 1, 5, 10, 0, 100, 10));
    }

    /// <summary>However fast the integral grows in one step, it never holds more than the output's range: the output leaves the limit as soon as the error turns.</summary>
    [Fact]
    public void The_integral_never_holds_more_than_the_output_range()
    {
        var pid = new Pid();
        Assert.Equal(100, pid.Update(10, 1, 1, 0.1, 0, 100, 30));
        var output = pid.Update(-5, 0.001, 1, 0.1, 0, 100, 30);
        Assert.True(output < 100, $"output {output}");
        var low = new Pid();
        Assert.Equal(0, low.Update(-10, 1, 1, 0.1, 0, 100, 70));
        output = low.Update(5, 0.001, 1, 0.1, 0, 100, 70);
        Assert.True(output > 0, $"output {output}");
    }

    /// <summary>An integral time of zero (or less) is a proportional-only loop: nothing is integrated, nothing divides by zero.</summary>
    [Fact]
    public void An_integral_time_of_zero_is_a_proportional_only_loop()
    {
        var pid = new Pid();
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(50 + 6 * 2, pid.Update(2, 1, 6, 0, 0, 100, 50));
        }
    }
    /// <summary>The integral grows with elapsed time, not with the number of steps: one step of 2 s integrates what two of 1 s do.</summary>
    [Fact]
    public void The_integral_depends_on_elapsed_time_not_on_how_it_is_split_into_steps()
    {
        var once = new Pid();
        once.Update(1, 2, 6, 40, 0, 100, 30);
        var twice = new Pid();
        twice.Update(1, 1, 6, 40, 0, 100, 30);
        twice.Update(1, 1, 6, 40, 0, 100, 30);
        Assert.Equal(30 + 6 * 1 * 2 / 40.0, once.Update(0, 0, 6, 40, 0, 100, 30), 9);
        Assert.Equal(30 + 6 * 1 * 2 / 40.0, twice.Update(0, 0, 6, 40, 0, 100, 30), 9);
    }
}
