namespace StillControl.Physics;

public class EthanolWaterTests
{
    [Theory]
    [InlineData(78.74, 90.2)]
    [InlineData(84.1, 77.1)]
    [InlineData(89.0, 67.4)]
    [InlineData(95.5, 39.9)]
    [InlineData(98.0, 20.7)]
    public void Vapour_temperature_gives_the_tabulated_strength_at_standard_pressure(double celsius, double strength) =>
        Assert.Equal(strength, EthanolWater.StrengthFromVapourTemperature(celsius), 6);

    [Fact]
    public void Between_table_points_the_strength_is_interpolated_and_falls_as_the_head_warms()
    {
        var previous = double.MaxValue;
        for (var t = 78.8; t <= 100; t += 0.1)
        {
            var s = EthanolWater.StrengthFromVapourTemperature(t);
            Assert.True(s <= previous, $"{t:0.0} °C");
            previous = s;
        }
        Assert.Equal((67.4 + 66.5) / 2, EthanolWater.StrengthFromVapourTemperature(89.5), 6);
    }

    [Fact]
    public void Low_air_pressure_lowers_the_boiling_point_and_the_estimate_corrects_for_it()
    {
        // Water boils at about 98.2 °C at 950 hPa.
        var shift = (1013.25 - 950) * EthanolWater.BoilingShiftCelsiusPerHectopascal(0);
        Assert.InRange(100 - shift, 98.1, 98.3);
        var head = EthanolWater.VapourTemperatureFromStrength(60, 950);
        Assert.True(head < EthanolWater.VapourTemperatureFromStrength(60));
        Assert.Equal(60, EthanolWater.StrengthFromVapourTemperature(head, 950), 1);
    }

    [Theory]
    [InlineData(20)]
    [InlineData(45.5)]
    [InlineData(72)]
    public void Strength_and_vapour_temperature_are_inverse(double strength) =>
        Assert.Equal(strength, EthanolWater.StrengthFromVapourTemperature(EthanolWater.VapourTemperatureFromStrength(strength)), 6);

    [Fact]
    public void Mass_fraction_and_strength_convert_both_ways()
    {
        Assert.Equal(0, EthanolWater.MassFractionFromStrength(0));
        Assert.Equal(1, EthanolWater.MassFractionFromStrength(100), 6);
        // 40 % vol is about 33.4 % by mass.
        Assert.InRange(EthanolWater.MassFractionFromStrength(40), 0.33, 0.34);
        Assert.Equal(55.3, EthanolWater.StrengthFromMassFraction(EthanolWater.MassFractionFromStrength(55.3)), 1);
    }

    [Fact]
    public void Equilibrium_vapour_is_richer_in_ethanol_than_the_liquid_below_the_azeotrope()
    {
        foreach (var x in new[] { 0.01, 0.05, 0.2, 0.5, 0.8 })
        {
            Assert.True(EthanolWater.EquilibriumVapourMoleFraction(x) > x, $"x = {x}");
        }
    }

    [Fact]
    public void Nothing_below_the_azeotrope_boiling_point_is_vapour_at_the_still_head()
    {
        Assert.False(EthanolWater.IsVapourAtStillHead(40));
        Assert.True(EthanolWater.IsVapourAtStillHead(85));
    }
}
