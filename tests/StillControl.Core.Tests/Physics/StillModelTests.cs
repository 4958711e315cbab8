namespace StillControl.Physics;

public class StillModelTests
{
    private static readonly StillDisturbances None = new() { SteamSurgeFactor = 1 };

    private static StillModel FullSealedStill(double steamPercent = 25)
    {
        var model = new StillModel(new StillModelParameters());
        for (var i = 0; i < model.Parameters.LayerCount; i++) model.AddLayer();
        model.Seal();
        // Heat through: no vapour leaves until the front has reached the top.
        for (var t = 0; t < 4 * 3600 * 4 && model.State.VapourKilogramsPerSecond == 0; t++) model.Step(0.25, steamPercent, 30, None);
        return model;
    }

    [Fact]
    public void The_bed_heats_from_below_and_the_surface_warms_only_when_the_front_nears_it()
    {
        var model = new StillModel(new StillModelParameters());
        model.AddLayer();
        model.AddLayer();
        model.AddLayer();
        for (var i = 0; i < 4 * 120; i++) model.Step(0.25, 25, 30, None);
        var layers = model.State.Layers;
        Assert.True(layers[0].TemperatureCelsius > layers[2].TemperatureCelsius + 20);
        Assert.True(model.State.BedSurfaceProbeCelsius < 40);
        Assert.Equal(0, model.State.VapourKilogramsPerSecond);
    }

    [Fact]
    public void Distillate_starts_strong_and_weakens_as_the_bed_is_stripped()
    {
        var model = FullSealedStill();
        var strengths = new List<double>();
        for (var minute = 0; minute < 60; minute++)
        {
            for (var i = 0; i < 240; i++) model.Step(0.25, 25, 40, None);
            strengths.Add(model.State.DistillateStrengthPercentVolume);
        }
        Assert.True(strengths[0] >= 70, $"first minute {strengths[0]:0.0} % vol");
        Assert.True(strengths[^1] < strengths[0] - 20, $"after an hour {strengths[^1]:0.0} % vol");
        for (var i = 1; i < strengths.Count; i++) Assert.True(strengths[i] <= strengths[i - 1] + 0.5, $"minute {i}");
        Assert.InRange(model.State.DistillateLitresPerMinute, 1.5, 4);
    }

    [Fact]
    public void Ethanol_is_conserved()
    {
        var model = FullSealedStill(40);
        for (var i = 0; i < 4 * 3600; i++) model.Step(0.25, 40, 60, None);
        var remaining = model.State.Layers.Sum(l => l.EthanolKilograms);
        var accounted = remaining + model.State.EthanolLostKilograms + model.State.EthanolCondensedKilograms;
        Assert.Equal(model.State.InitialEthanolKilograms, accounted, 1);
    }

    [Fact]
    public void More_steam_gives_more_pressure_and_more_distillate()
    {
        var slow = FullSealedStill(25);
        var strong = FullSealedStill(80);
        for (var i = 0; i < 4 * 60; i++)
        {
            slow.Step(0.25, 25, 100, None);
            strong.Step(0.25, 80, 100, None);
        }
        Assert.True(strong.State.SteamPressureKilopascals > 2 * slow.State.SteamPressureKilopascals);
        Assert.True(strong.State.DistillateLitresPerMinute > 2 * slow.State.DistillateLitresPerMinute);
    }

    [Fact]
    public void Without_cooling_water_the_distillate_leaves_at_vapour_temperature()
    {
        var model = FullSealedStill();
        for (var i = 0; i < 4 * 60; i++) model.Step(0.25, 25, 30, None);
        Assert.InRange(model.State.DistillateCelsius, 20, 35);
        var lost = new StillDisturbances { SteamSurgeFactor = 1, CoolingWaterLost = true };
        for (var i = 0; i < 4 * 120; i++) model.Step(0.25, 25, 30, lost);
        Assert.Equal(0, model.State.CoolingFlowLitresPerMinute);
        Assert.True(model.State.DistillateCelsius > 75, $"{model.State.DistillateCelsius:0.0} °C");
        Assert.True(model.State.UncondensedVapourKilograms > 0);
    }

    [Fact]
    public void Hot_cooling_water_raises_the_distillate_temperature()
    {
        var model = FullSealedStill();
        var hot = new StillDisturbances { SteamSurgeFactor = 1, CoolingInletCelsius = 35 };
        for (var i = 0; i < 4 * 120; i++) model.Step(0.25, 25, 100, hot);
        Assert.True(model.State.DistillateCelsius > 35);
    }
}
