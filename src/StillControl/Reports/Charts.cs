using ScottPlot;
using StillControl.Process;

namespace StillControl.Reports;

/// <summary>Charts over time as inline SVG (ScottPlot), with phase boundaries, alarms and cooling limits drawn in.</summary>
public static class Charts
{
    public const int Width = 1000;
    public const int Height = 320;

    /// <summary>Colours by channel, the same in every chart and report.</summary>
    public static Color ColourOf(Channel channel) => channel switch
    {
        Channel.Steam => Color.FromHex("#c0392b"),
        Channel.Vapour => Color.FromHex("#8e44ad"),
        Channel.BedSurface => Color.FromHex("#7f8c8d"),
        Channel.CoolingIn => Color.FromHex("#2980b9"),
        Channel.CoolingOut => Color.FromHex("#16a085"),
        Channel.Distillate => Color.FromHex("#d35400"),
        Channel.DistillateCheck => Color.FromHex("#e67e22"),
        _ => Color.FromHex("#2c3e50"),
    };

    public static readonly Channel[] Temperatures = [Channel.Steam, Channel.Vapour, Channel.BedSurface, Channel.CoolingIn, Channel.CoolingOut, Channel.Distillate];

    /// <summary>A series thinned to at most two points (lowest and highest, in time order) per pixel column, so spikes survive.</summary>
    public static (double[] X, double[] Y) Thin(IReadOnlyList<double> xs, IReadOnlyList<double> ys, int columns = Width)
    {
        var x = new List<double>();
        var y = new List<double>();
        if (xs.Count == 0) return ([], []);
        var first = xs[0];
        var span = Math.Max(xs[^1] - first, 1e-9);
        var i = 0;
        while (i < xs.Count)
        {
            var column = (int)((xs[i] - first) / span * columns);
            int low = -1, high = -1;
            for (; i < xs.Count && (int)((xs[i] - first) / span * columns) == column; i++)
            {
                if (double.IsNaN(ys[i])) continue;
                if (low < 0 || ys[i] < ys[low]) low = i;
                if (high < 0 || ys[i] > ys[high]) high = i;
            }
            if (low < 0) continue;
            foreach (var k in low <= high ? new[] { low, high } : new[] { high, low })
            {
                if (x.Count > 0 && x[^1] == xs[k] && y[^1] == ys[k]) continue;
                x.Add(xs[k]);
                y.Add(ys[k]);
            }
        }
        return (x.ToArray(), y.ToArray());
    }

    /// <summary>Adds a line series (gaps where the value was missing become breaks in the line).</summary>
    public static void Series(Plot plot, IReadOnlyList<double> minutes, IReadOnlyList<double> values, string label, Color colour, IYAxis? axis = null)
    {
        var (x, y) = Thin(minutes, values);
        if (x.Length == 0) return;
        var line = plot.Add.ScatterLine(x, y);
        line.LegendText = label;
        line.Color = colour;
        line.LineWidth = 1.5f;
        if (axis is not null) line.Axes.YAxis = axis;
    }

    /// <summary>Phase boundaries (grey, named) and alarms (red for trips, orange for warnings) as vertical lines.</summary>
    public static void Marks(Plot plot, BatchReview review)
    {
        foreach (var phase in review.Phases.Skip(1))
        {
            var line = plot.Add.VerticalLine(Minutes(review, phase.Start));
            line.Color = Color.FromHex("#95a5a6");
            line.LineWidth = 1;
            line.Text = phase.Phase;
            line.LabelOppositeAxis = true;
            line.LabelFontSize = 11;
        }
        foreach (var alarm in review.Alarms)
        {
            var line = plot.Add.VerticalLine(Minutes(review, alarm.RaisedAt));
            line.Color = alarm.Severity == "trip" ? Color.FromHex("#e74c3c") : Color.FromHex("#f39c12");
            line.LinePattern = LinePattern.Dashed;
            line.LineWidth = 1.5f;
        }
    }

    public static double Minutes(BatchReview review, DateTimeOffset at) => (at - review.StartedAt).TotalMinutes;

    public static string Svg(Plot plot, string title, string xLabel, string yLabel)
    {
        plot.Title(title, size: 14);
        plot.XLabel(xLabel, size: 12);
        plot.YLabel(yLabel, size: 12);
        plot.ShowLegend(Alignment.UpperLeft);
        var svg = plot.GetSvgXml(Width, Height);
        var start = svg.IndexOf("<svg", StringComparison.Ordinal);
        return start > 0 ? svg[start..] : svg;
    }

    public static string TemperatureChart(BatchReview review, IReadOnlyList<double> minutes)
    {
        var plot = new Plot();
        foreach (var channel in Temperatures)
        {
            var values = review.Samples.Select(s => s.Values[(int)channel]).ToArray();
            if (values.All(double.IsNaN)) continue;
            Series(plot, minutes, values, $"{channel.Name()} °C", ColourOf(channel));
        }
        // Each phase's cooling target (dotted) and limit (dashed) on the channel the recipe cools on.
        var first = true;
        foreach (var phase in review.Phases.Where(p => p.CoolingTargetCelsius is not null))
        {
            var x1 = Minutes(review, phase.Start);
            var x2 = Minutes(review, phase.End ?? review.AsOf);
            var target = plot.Add.Line(x1, phase.CoolingTargetCelsius!.Value, x2, phase.CoolingTargetCelsius.Value);
            target.Color = Color.FromHex("#27ae60");
            target.LinePattern = LinePattern.Dotted;
            target.LineWidth = 2;
            var limit = plot.Add.Line(x1, phase.CoolingMaximumCelsius!.Value, x2, phase.CoolingMaximumCelsius.Value);
            limit.Color = Color.FromHex("#e74c3c");
            limit.LinePattern = LinePattern.Dashed;
            limit.LineWidth = 2;
            if (first)
            {
                target.LegendText = "cooling target";
                limit.LegendText = "cooling limit";
                first = false;
            }
        }
        Marks(plot, review);
        return Svg(plot, "Temperatures", "minutes from start", "°C");
    }

    public static string SteamChart(BatchReview review, IReadOnlyList<double> minutes)
    {
        var plot = new Plot();
        Series(plot, minutes, review.Samples.Select(s => s.SteamPercent).ToArray(), "steam valve %", Color.FromHex("#c0392b"));
        Series(plot, minutes, review.Samples.Select(s => s.CoolingPercent).ToArray(), "cooling valve %", Color.FromHex("#2980b9"));
        var pressure = review.Samples.Select(s => s.Values[(int)Channel.SteamPressure]).ToArray();
        if (!pressure.All(double.IsNaN))
        {
            Series(plot, minutes, pressure, "steam pressure kPa (right)", Color.FromHex("#2c3e50"), plot.Axes.Right);
            plot.Axes.Right.Label.Text = "kPa";
        }
        Marks(plot, review);
        return Svg(plot, "Steam and cooling valves, steam pressure", "minutes from start", "valve %");
    }

    public static string DistillateChart(BatchReview review, IReadOnlyList<double> minutes)
    {
        var plot = new Plot();
        Series(plot, minutes, review.Samples.Select(s => s.Values[(int)Channel.DistillateFlow]).ToArray(), "distillate flow L/min", Color.FromHex("#d35400"));
        var meter = review.Samples.Select(s => s.Values[(int)Channel.Strength]).ToArray();
        var strength = meter.All(double.IsNaN) ? review.Samples.Select(s => s.StrengthPercent ?? double.NaN).ToArray() : meter;
        Series(plot, minutes, strength, meter.All(double.IsNaN) ? "strength % vol, estimated (right)" : "strength % vol, meter (right)", Color.FromHex("#8e44ad"), plot.Axes.Right);
        plot.Axes.Right.Label.Text = "% vol";
        Marks(plot, review);
        return Svg(plot, "Distillate flow and strength", "minutes from start", "L/min");
    }

    /// <summary>One channel of several batches overlaid, each from its own start.</summary>
    public static string Overlay(IReadOnlyList<BatchReview> reviews, Channel channel)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        for (var i = 0; i < reviews.Count; i++)
        {
            var r = reviews[i];
            var minutes = r.Samples.Select(s => Minutes(r, s.At)).ToArray();
            Series(plot, minutes, r.Samples.Select(s => s.Values[(int)channel]).ToArray(), r.Id, palette.GetColor(i));
        }
        return Svg(plot, $"{channel.Name()} by batch", "minutes from start", channel.Unit());
    }
}
