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
}
