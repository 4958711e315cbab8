namespace StillControl.Physics;

/// <summary>Ethanol-water properties at about 1 atm used for the strength estimate and the still model.</summary>
public static class EthanolWater
{
    public const double StandardPressureHectopascals = 1013.25;
    public const double EthanolMolarMassKilogramsPerMole = 0.04607;
    public const double WaterMolarMassKilogramsPerMole = 0.018015;
    public const double EthanolDensityKilogramsPerLitre = 0.78924;

    // Still-head vapour temperature (°C, 1 atm) against condensed-vapour strength (% vol): the Perry equilibrium data as tabulated
    // by Ackland between 78.74 and 95.5 °C, and a published controller's table (Samovar) for the weak end (shared/domain.md).
    private static readonly double[] VapourCelsius = [78.74, 79.8, 80.7, 81.5, 82.7, 84.1, 85.3, 86.7, 89.0, 90.0, 92.0, 95.0, 95.5, 97.0, 98.0, 99.0, 100.0];
    private static readonly double[] VapourStrengthPercent = [90.2, 86.1, 83.7, 81.9, 79.5, 77.1, 74.2, 71.6, 67.4, 66.5, 57.5, 44.6, 39.9, 29.9, 20.7, 11.2, 0.0];

    // Density at 20 °C (kg/L) against strength (% vol), every 10 % vol.
    private static readonly double[] DensityStrengthPercent = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
    private static readonly double[] DensityKilogramsPerLitre = [0.99820, 0.98471, 0.97356, 0.96206, 0.94797, 0.93014, 0.90911, 0.88556, 0.85927, 0.82918, 0.78924];

    // Liquid against vapour ethanol mole fraction at equilibrium, 1 atm (the classic Perry x-y data).
    private static readonly double[] LiquidMoleFraction = [0.0, 0.019, 0.0721, 0.0966, 0.1238, 0.1661, 0.2337, 0.2608, 0.3273, 0.3965, 0.5079, 0.5198, 0.5732, 0.6763, 0.7472, 0.8943, 1.0];
    private static readonly double[] VapourMoleFraction = [0.0, 0.17, 0.3891, 0.4375, 0.4704, 0.5089, 0.5445, 0.558, 0.5826, 0.6122, 0.6564, 0.6599, 0.6841, 0.7385, 0.7815, 0.8943, 1.0];

    /// <summary>Boiling points fall with air pressure: water about 0.028 °C/hPa, ethanol about 0.025 °C/hPa.</summary>
    public static double BoilingShiftCelsiusPerHectopascal(double strengthPercentVolume) =>
        0.028 - 0.003 * Math.Clamp(strengthPercentVolume, 0, 100) / 100;

    /// <summary>Whether a still-head temperature can be boiling ethanol-water at all (at or above the azeotrope's boiling point).</summary>
    public static bool IsVapourAtStillHead(double vapourCelsius, double pressureHectopascals = StandardPressureHectopascals) =>
        vapourCelsius + (StandardPressureHectopascals - pressureHectopascals) * BoilingShiftCelsiusPerHectopascal(95) >= 78.0;

    /// <summary>Strength of the condensed vapour (% vol) from the still-head temperature at the given air pressure.</summary>
    public static double StrengthFromVapourTemperature(double vapourCelsius, double pressureHectopascals = StandardPressureHectopascals)
    {
        var deficit = StandardPressureHectopascals - pressureHectopascals;
        // Two passes: the shift depends a little on the strength it is correcting.
        var strength = Interpolate(VapourCelsius, VapourStrengthPercent, vapourCelsius + deficit * BoilingShiftCelsiusPerHectopascal(50));
        return Interpolate(VapourCelsius, VapourStrengthPercent, vapourCelsius + deficit * BoilingShiftCelsiusPerHectopascal(strength));
    }

    /// <summary>Still-head temperature for vapour of a strength at the given air pressure (the model's side of the estimate).</summary>
    public static double VapourTemperatureFromStrength(double strengthPercentVolume, double pressureHectopascals = StandardPressureHectopascals)
    {
        var atStandard = InterpolateDescending(VapourStrengthPercent, VapourCelsius, strengthPercentVolume);
        return atStandard - (StandardPressureHectopascals - pressureHectopascals) * BoilingShiftCelsiusPerHectopascal(strengthPercentVolume);
    }

    public static double DensityKilogramsPerLitreAt(double strengthPercentVolume) =>
        Interpolate(DensityStrengthPercent, DensityKilogramsPerLitre, strengthPercentVolume);

    public static double MassFractionFromStrength(double strengthPercentVolume)
    {
        var s = Math.Clamp(strengthPercentVolume, 0, 100);
        return s / 100 * EthanolDensityKilogramsPerLitre / DensityKilogramsPerLitreAt(s);
    }

    // Mass fraction rises monotonically with strength, so the inverse is a table built once (every 0.25 % vol) and interpolated.
    // Plain loops: these tables are built in the first control step, and LINQ over doubles would be compiled there.
    private static readonly double[] InverseStrengths = Table(401, i => i * 0.25);
    private static readonly double[] InverseMassFractions = Table(InverseStrengths.Length, i => MassFractionFromStrength(InverseStrengths[i]));

    private static double[] Table(int length, Func<int, double> value)
    {
        var table = new double[length];
        for (var i = 0; i < length; i++) table[i] = value(i);
        return table;
    }

    public static double StrengthFromMassFraction(double massFraction) => Interpolate(InverseMassFractions, InverseStrengths, massFraction);

    public static double MassFractionFromMoleFraction(double moleFraction)
    {
        var ethanol = moleFraction * EthanolMolarMassKilogramsPerMole;
        return ethanol / (ethanol + (1 - moleFraction) * WaterMolarMassKilogramsPerMole);
    }

    public static double MoleFractionFromMassFraction(double massFraction)
    {
        var ethanol = massFraction / EthanolMolarMassKilogramsPerMole;
        return ethanol / (ethanol + (1 - massFraction) / WaterMolarMassKilogramsPerMole);
    }

    /// <summary>Ethanol mole fraction in vapour in equilibrium with liquid of the given mole fraction.</summary>
    public static double EquilibriumVapourMoleFraction(double liquidMoleFraction) =>
        Interpolate(LiquidMoleFraction, VapourMoleFraction, liquidMoleFraction);

    /// <summary>Latent heat of a condensing mixture, kJ/kg (ethanol about 841, water about 2257).</summary>
    public static double LatentHeatKilojoulesPerKilogram(double massFraction) => 841 * massFraction + 2257 * (1 - massFraction);

    private static double Interpolate(double[] xs, double[] ys, double x)
    {
        if (double.IsNaN(x)) return double.NaN;
        if (x <= xs[0]) return ys[0];
        if (x >= xs[^1]) return ys[^1];
        // xs[0] < x < xs[^1]: find the first xs[i] >= x by halving (a loop of our own: the framework's generic binary search
        // over double is not precompiled, and a cold process would run it unoptimised).
        int lo = 1, hi = xs.Length - 1;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (xs[mid] < x) lo = mid + 1;
            else hi = mid;
        }
        var i = lo;
        if (xs[i] == x) return ys[i];
        var t = (x - xs[i - 1]) / (xs[i] - xs[i - 1]);
        return ys[i - 1] + t * (ys[i] - ys[i - 1]);
    }

    private static double InterpolateDescending(double[] descendingXs, double[] ys, double x)
    {
        if (x >= descendingXs[0]) return ys[0];
        if (x <= descendingXs[^1]) return ys[^1];
        for (var i = 1; i < descendingXs.Length; i++)
        {
            if (x >= descendingXs[i])
            {
                var t = (x - descendingXs[i - 1]) / (descendingXs[i] - descendingXs[i - 1]);
                return ys[i - 1] + t * (ys[i] - ys[i - 1]);
            }
        }
        return ys[^1];
    }
}
