namespace StillControl.Physics;

/// <summary>The still the simulator runs: sizes, flows and time constants. Defaults give a batch of the usual length.</summary>
public sealed class StillModelParameters
{
    public int LayerCount { get; set; } = 12;
    public double LayerMassKilograms { get; set; } = 100;
    /// <summary>Share of the mash that is liquid.</summary>
    public double LiquidFraction { get; set; } = 0.6;
    /// <summary>Ethanol in the bed's liquid, % vol (the bed holds about 6-7 % vol).</summary>
    public double BedStrengthPercentVolume { get; set; } = 6.5;
    public double LoadingTemperatureCelsius { get; set; } = 25;
    public double AmbientCelsius { get; set; } = 20;
    /// <summary>Steam flow with the valve fully open (0.036 kg/s is the slow steam of the model study).</summary>
    public double SteamFlowAtFullValveKilogramsPerSecond { get; set; } = 0.15;
    /// <summary>Still gauge pressure per kg/s of steam through a full bed.</summary>
    public double BedResistanceKilopascalsPerKilogramPerSecond { get; set; } = 450;
    /// <summary>Share of the heat reaching the layer above the condensation front: how early the surface warms.</summary>
    public double FrontLeakFraction { get; set; } = 0.15;
    /// <summary>Stage efficiency before the steam correction (capped at 1 after it); it falls as steam rises (less contact), the case for slow steam.</summary>
    public double StageEfficiency { get; set; } = 1.2;
    public double StageEfficiencyHalvingSteamKilogramsPerSecond { get; set; } = 0.1;
    public double CoolingFlowAtFullValveLitresPerMinute { get; set; } = 180;
    public double CoolingInletCelsius { get; set; } = 20;
    /// <summary>How far above the cooling-water inlet the distillate leaves, as a share of the water's temperature rise.</summary>
    public double DistillateApproachShare { get; set; } = 0.4;
    public double BarometerHectopascals { get; set; } = 1005;
    public double PressureTimeConstantSeconds { get; set; } = 3;
    public double HeadTimeConstantSeconds { get; set; } = 8;
    public double CondenserTimeConstantSeconds { get; set; } = 20;
    public double DistillateTimeConstantSeconds { get; set; } = 15;
    public double SurfaceProbeTimeConstantSeconds { get; set; } = 5;
}

/// <summary>One layer of mash in the steamer barrel.</summary>
public sealed class BedLayer
{
    public double TemperatureCelsius { get; set; }
    public double EthanolKilograms { get; set; }
    public double WaterKilograms { get; set; }
    public double SolidsKilograms { get; set; }
}

/// <summary>What the still's physics are doing now. Plain data so a simulation can be checkpointed and resumed.</summary>
public sealed class StillModelState
{
    public double Seconds { get; set; }
    public List<BedLayer> Layers { get; set; } = [];
    public bool Sealed { get; set; }
    public double SteamKilogramsPerSecond { get; set; }
    public double SteamPressureKilopascals { get; set; }
    public double HeadCelsius { get; set; }
    public double VapourKilogramsPerSecond { get; set; }
    public double VapourStrengthPercentVolume { get; set; }
    public double CoolingFlowLitresPerMinute { get; set; }
    public double CoolingInCelsius { get; set; }
    public double CoolingOutCelsius { get; set; }
    public double DistillateCelsius { get; set; }
    public double DistillateLitresPerMinute { get; set; }
    public double DistillateStrengthPercentVolume { get; set; }
    public double BedSurfaceProbeCelsius { get; set; }
    public double EthanolLostKilograms { get; set; }
    public double EthanolCondensedKilograms { get; set; }
    public double UncondensedVapourKilograms { get; set; }
    public double InitialEthanolKilograms { get; set; }
}

/// <summary>Disturbances the simulator applies to the physics (the sensor faults live with the sensors).</summary>
public struct StillDisturbances
{
    public bool CoolingWaterLost;
    public double? CoolingInletCelsius;
    /// <summary>Steam flow multiplier for a supply-pressure surge; 1 when none.</summary>
    public double SteamSurgeFactor;
    /// <summary>Share of the cooling-water supply still arriving (a half-shut supply cock, a clogged strainer); 0 or 1: none lost.</summary>
    public double CoolingSupplyFactor;
}

/// <summary>
/// A still good enough to exercise every rule: steam condenses at a front climbing through the layers until vapour breaks through
/// the surface; hot layers act as stripping stages (equilibrium with a stage efficiency) so the first vapour is strong and weakens
/// as the bed is exhausted; the condenser is an energy balance against the cooling water.
/// </summary>
public sealed class StillModel
{
    private const double SteamLatentHeatKilojoulesPerKilogram = 2257;
    private const double WaterHeatCapacity = 4.186;
    private const double DistillateHeatCapacity = 3.6;

    public StillModelParameters Parameters { get; }
    public StillModelState State { get; }

    public StillModel(StillModelParameters parameters, StillModelState? state = null)
    {
        Parameters = parameters;
        State = state ?? new StillModelState
        {
            HeadCelsius = parameters.AmbientCelsius,
            CoolingInCelsius = parameters.CoolingInletCelsius,
            CoolingOutCelsius = parameters.CoolingInletCelsius,
            DistillateCelsius = parameters.AmbientCelsius,
            BedSurfaceProbeCelsius = parameters.AmbientCelsius,
        };
    }

    public int LoadedLayers => State.Layers.Count;

    public bool Full => State.Layers.Count >= Parameters.LayerCount;

    /// <summary>The distiller lays a new layer of mash on the bed.</summary>
    public void AddLayer()
    {
        if (Full) return;
        var p = Parameters;
        var liquid = p.LayerMassKilograms * p.LiquidFraction;
        var massFraction = EthanolWater.MassFractionFromStrength(p.BedStrengthPercentVolume);
        var layer = new BedLayer
        {
            TemperatureCelsius = p.LoadingTemperatureCelsius,
            EthanolKilograms = liquid * massFraction,
            WaterKilograms = liquid * (1 - massFraction),
            SolidsKilograms = p.LayerMassKilograms - liquid,
        };
        State.Layers.Add(layer);
        State.InitialEthanolKilograms += layer.EthanolKilograms;
    }

    public void Seal() => State.Sealed = true;

    public double BoilingCelsius => 100 - (EthanolWater.StandardPressureHectopascals - Parameters.BarometerHectopascals) * 0.028 - 0.5;

    public void Step(double seconds, double steamValvePercent, double coolingValvePercent, in StillDisturbances disturbances)
    {
        if (seconds <= 0) return;
        var p = Parameters;
        var s = State;
        s.Seconds += seconds;

        var surge = disturbances.SteamSurgeFactor <= 0 ? 1 : disturbances.SteamSurgeFactor;
        var steam = p.SteamFlowAtFullValveKilogramsPerSecond * Math.Clamp(steamValvePercent, 0, 100) / 100 * surge;
        s.SteamKilogramsPerSecond = steam;
        var fill = Math.Max(0.2, (double)s.Layers.Count / p.LayerCount);
        var pressureTarget = p.BedResistanceKilopascalsPerKilogramPerSecond * steam * (0.5 + 0.5 * fill);
        s.SteamPressureKilopascals += (pressureTarget - s.SteamPressureKilopascals) * Math.Min(1, seconds / p.PressureTimeConstantSeconds);

        var boiling = BoilingCelsius;
        var vapourMoles = 0.0;
        var vapourEthanolMoles = 0.0;
        var heat = steam * SteamLatentHeatKilojoulesPerKilogram * seconds;
        var front = -1;
        for (var i = 0; i < s.Layers.Count; i++)
        {
            if (s.Layers[i].TemperatureCelsius < boiling)
            {
                front = i;
                break;
            }
        }
        var stageEfficiency = Math.Min(1, p.StageEfficiency / (1 + steam / p.StageEfficiencyHalvingSteamKilogramsPerSecond));
        var steamMoles = steam * seconds / EthanolWater.WaterMolarMassKilogramsPerMole;

        // Vapour rises through the hot layers below the front, exchanging ethanol with each.
        var hotLayers = front < 0 ? s.Layers.Count : front;
        var y = 0.0;
        for (var i = 0; i < hotLayers && steamMoles > 0; i++)
        {
            var layer = s.Layers[i];
            var x = EthanolWater.MoleFractionFromMassFraction(layer.EthanolKilograms / Math.Max(1e-9, layer.EthanolKilograms + layer.WaterKilograms));
            var yStar = EthanolWater.EquilibriumVapourMoleFraction(x);
            var yOut = y + stageEfficiency * (yStar - y);
            var transferKilograms = steamMoles * (yOut - y) * EthanolWater.EthanolMolarMassKilogramsPerMole;
            if (transferKilograms > layer.EthanolKilograms)
            {
                transferKilograms = layer.EthanolKilograms;
                yOut = y + transferKilograms / EthanolWater.EthanolMolarMassKilogramsPerMole / steamMoles;
            }
            layer.EthanolKilograms -= transferKilograms;
            y = yOut;
        }

        if (front >= 0)
        {
            // The steam condenses at the front, giving up its heat and the ethanol it carries; a little heat leaks to the layer above.
            var layer = s.Layers[front];
            layer.EthanolKilograms += steamMoles * y * EthanolWater.EthanolMolarMassKilogramsPerMole;
            var above = front + 1 < s.Layers.Count ? s.Layers[front + 1] : null;
            var share = above is null ? 1 : 1 - p.FrontLeakFraction;
            Heat(layer, heat * share, boiling);
            if (above is not null) Heat(above, heat * (1 - share), boiling);
        }
        else if (s.Layers.Count > 0)
        {
            vapourMoles = steamMoles;
            vapourEthanolMoles = steamMoles * y;
        }

        var vapourMassFraction = EthanolWater.MassFractionFromMoleFraction(vapourMoles > 0 ? vapourEthanolMoles / vapourMoles : 0);
        var vapourKilograms = vapourMoles * ((vapourMoles > 0 ? vapourEthanolMoles / vapourMoles : 0) * EthanolWater.EthanolMolarMassKilogramsPerMole
            + (1 - (vapourMoles > 0 ? vapourEthanolMoles / vapourMoles : 0)) * EthanolWater.WaterMolarMassKilogramsPerMole);
        var vapourRate = vapourKilograms / seconds;
        s.VapourKilogramsPerSecond = vapourRate;
        s.VapourStrengthPercentVolume = vapourRate > 0 ? EthanolWater.StrengthFromMassFraction(vapourMassFraction) : 0;

        var top = s.Layers.Count > 0 ? s.Layers[^1] : null;
        var surface = top?.TemperatureCelsius ?? p.AmbientCelsius;
        s.BedSurfaceProbeCelsius += (surface - s.BedSurfaceProbeCelsius) * Math.Min(1, seconds / p.SurfaceProbeTimeConstantSeconds);

        if (!s.Sealed)
        {
            // Lid off: whatever breaks through escapes (跑汽).
            s.EthanolLostKilograms += vapourKilograms * vapourMassFraction;
            vapourRate = 0;
        }

        var headTarget = vapourRate > 0 ? EthanolWater.VapourTemperatureFromStrength(s.VapourStrengthPercentVolume, p.BarometerHectopascals) : p.AmbientCelsius;
        var headTau = vapourRate > 0 ? p.HeadTimeConstantSeconds : p.HeadTimeConstantSeconds * 40;
        s.HeadCelsius += (headTarget - s.HeadCelsius) * Math.Min(1, seconds / headTau);

        // The condenser meets the vapour as it is, at its dew point, not as the still-head probe (which lags) last showed it:
        // otherwise the first vapour at breakthrough would count as too cold to condense and vanish through the vent unseen.
        Condense(seconds, vapourRate, vapourMassFraction, vapourRate > 0 ? headTarget : s.HeadCelsius, coolingValvePercent, disturbances);
    }

    private void Condense(double seconds, double vapourRate, double massFraction, double vapourDewCelsius, double coolingValvePercent, in StillDisturbances disturbances)
    {
        var p = Parameters;
        var s = State;
        s.CoolingInCelsius = disturbances.CoolingInletCelsius ?? p.CoolingInletCelsius;
        var supply = disturbances.CoolingSupplyFactor is > 0 and < 1 ? disturbances.CoolingSupplyFactor : 1;
        var waterLitresPerMinute = disturbances.CoolingWaterLost ? 0 : p.CoolingFlowAtFullValveLitresPerMinute * supply * Math.Clamp(coolingValvePercent, 0, 100) / 100;
        s.CoolingFlowLitresPerMinute = waterLitresPerMinute;
        var waterCapacity = waterLitresPerMinute / 60 * WaterHeatCapacity; // kW/K
        var vapourCelsius = Math.Max(vapourDewCelsius, p.AmbientCelsius);

        double condensedRate, waterOutTarget, distillateTarget;
        var duty = vapourRate * (EthanolWater.LatentHeatKilojoulesPerKilogram(massFraction) + DistillateHeatCapacity * Math.Max(0, vapourCelsius - s.CoolingInCelsius));
        if (vapourRate <= 0)
        {
            condensedRate = 0;
            waterOutTarget = waterCapacity > 0 ? s.CoolingInCelsius : s.CoolingOutCelsius;
            distillateTarget = waterCapacity > 0 ? s.CoolingInCelsius + 2 : s.DistillateCelsius;
        }
        else
        {
            var capacityLimit = waterCapacity * Math.Max(0, vapourCelsius - 3 - s.CoolingInCelsius);
            if (duty <= capacityLimit && waterCapacity > 0)
            {
                condensedRate = vapourRate;
                var rise = duty / waterCapacity;
                waterOutTarget = s.CoolingInCelsius + rise;
                distillateTarget = Math.Min(vapourCelsius, s.CoolingInCelsius + p.DistillateApproachShare * rise);
            }
            else
            {
                // Not enough water to condense it all: vapour leaves with the distillate, hot.
                condensedRate = duty > 0 ? vapourRate * capacityLimit / duty : 0;
                waterOutTarget = waterCapacity > 0 ? vapourCelsius - 3 : Math.Max(s.CoolingOutCelsius, vapourCelsius - 3);
                distillateTarget = vapourCelsius;
                s.UncondensedVapourKilograms += (vapourRate - condensedRate) * seconds;
                // Uncondensed vapour leaves through the condenser vent with its ethanol: the fire hazard the interlocks exist for.
                s.EthanolLostKilograms += (vapourRate - condensedRate) * massFraction * seconds;
            }
        }
        var condenserTau = waterCapacity > 0 ? p.CondenserTimeConstantSeconds : p.CondenserTimeConstantSeconds * 3;
        s.CoolingOutCelsius += (waterOutTarget - s.CoolingOutCelsius) * Math.Min(1, seconds / condenserTau);
        s.DistillateCelsius += (distillateTarget - s.DistillateCelsius) * Math.Min(1, seconds / p.DistillateTimeConstantSeconds);

        var strength = s.VapourStrengthPercentVolume;
        var litresPerMinute = condensedRate > 0 ? condensedRate * 60 / EthanolWater.DensityKilogramsPerLitreAt(strength) : 0;
        s.DistillateLitresPerMinute += (litresPerMinute - s.DistillateLitresPerMinute) * Math.Min(1, seconds / 10);
        if (condensedRate > 0) s.DistillateStrengthPercentVolume = strength;
        s.EthanolCondensedKilograms += condensedRate * massFraction * seconds;
    }

    private static void Heat(BedLayer layer, double kilojoules, double boiling)
    {
        var capacity = layer.SolidsKilograms * 1.5 + (layer.WaterKilograms + layer.EthanolKilograms) * 4.0;
        layer.TemperatureCelsius = Math.Min(boiling, layer.TemperatureCelsius + kilojoules / capacity);
    }
}
