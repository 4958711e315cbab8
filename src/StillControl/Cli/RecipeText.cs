using System.Globalization;
using System.Text;
using StillControl.Process;
using StillControl.Recipes;

namespace StillControl.Cli;

/// <summary>The effective recipe as a distiller reads it.</summary>
public static class RecipeText
{
    private static readonly Phase[] Running = [Phase.Loading, Phase.Sealed, Phase.Heads, Phase.Hearts, Phase.Tails, Phase.Steaming];

    public static string Describe(Recipe r)
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(c, $"Recipe {r.Name}");
        if (r.Description is { } description) text.AppendLine(c, $"  {description}");
        text.AppendLine();
        text.AppendLine("  phase     steam   valve % (min-max)  ramp %/s  pressure max   cooling on      target  max");
        foreach (var phase in Running)
        {
            var s = r.SteamFor(phase);
            var k = r.CoolingFor(phase);
            var flow = s.DistillateFlowTargetKilogramsPerMinute is { } target ? string.Create(c, $"  flow target {target:0.##} kg/min") : "";
            text.AppendLine(c, $"  {phase.Name(),-9} {s.Rule,-6} {s.ValvePercent,5:0.#} ({s.ValveMinimumPercent:0.#}-{s.ValveMaximumPercent:0.#})  {s.RampPercentPerSecond,8:0.##}  {s.PressureMaximumKilopascals,8:0.#} kPa   {k.Channel,-12} {k.TargetCelsius,6:0.#}°C {k.MaximumCelsius,4:0.#}°C{flow}");
        }
        text.AppendLine();
        text.AppendLine(c, $"  loading   cover the next layer at a bed surface of {r.Loading.CoverLayerAtBedSurfaceCelsius:0.#} °C; warn after {r.Loading.MaximumDurationMinutes:0.#} min");
        var first = r.Sealed.FirstDistillate;
        text.AppendLine(c, $"  sealed    first distillate at {(first.FlowLitresPerMinute is { } f ? $"a flow of {f:0.##} L/min" : "")}{(first.FlowLitresPerMinute is not null && first.RiseAboveCoolingInCelsius is not null ? " or " : "")}{(first.RiseAboveCoolingInCelsius is { } rise ? $"an outlet {rise:0.#} °C above the cooling water" : "")}; warn after {r.Sealed.MaximumWaitMinutes:0.#} min");
        var end = r.Heads.End;
        var ends = new List<string>();
        if (end.MassKilograms is { } m) ends.Add($"{m:0.###} kg");
        if (end.VolumeLitres is { } v) ends.Add($"{v:0.###} L");
        if (end.DurationMinutes is { } d) ends.Add($"{d:0.#} min");
        text.AppendLine(c, $"  heads     into '{r.Heads.Receiver}' until {string.Join(" or ", ends)}");
        foreach (var grade in r.Hearts.Grades)
        {
            text.AppendLine(c, $"  hearts    {grade.Name} into '{grade.Receiver}' until the strength stays below {grade.EndBelowStrengthPercentVolume:0.#} % vol for {r.Hearts.StrengthConfirmSeconds:0} s");
        }
        text.AppendLine(c, $"  tails     into '{r.Tails.Receiver}' until below {r.Tails.EndBelowStrengthPercentVolume:0.#} % vol or {r.Tails.MaximumDurationMinutes:0.#} min");
        text.AppendLine(c, $"  steaming  into '{r.Steaming.Receiver}' for at least {r.Steaming.MinimumDurationMinutes:0.#} min of steam");
        text.AppendLine();
        var i = r.Interlocks;
        text.AppendLine(c, $"  interlocks: no steam below {i.CoolingFlowMinimumLitresPerMinute:0.#} L/min cooling water; trip above {i.SteamPressureTripKilopascals:0.#} kPa steam, " +
            $"{i.CoolingOutTripCelsius:0.#} °C cooling-water outlet (warn {i.CoolingOutWarnCelsius:0.#}), {i.DistillateTripCelsius:0.#} °C distillate; any reading a phase needs faulted or stale");
        text.AppendLine(c, $"  strength: online meter if fitted, else from the vapour temperature (barometer-corrected), calibration offset {r.Strength.CalibrationOffsetPercentVolume:+0.##;-0.##;0} % vol");
        return text.ToString();
    }
}
