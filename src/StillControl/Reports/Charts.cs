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

    /// <summary>The timeline's colour of a phase (the report's phase bar uses the same).</summary>
    public static string PhaseHex(string phase) => phase switch
    {
        "loading" => "#7f8c8d",
        "sealed" => "#95a5a6",
        "heads" => "#e67e22",
        "hearts" => "#27ae60",
        "tails" => "#2980b9",
        "steaming" => "#8e44ad",
        _ => "#555555",
    };

    /// <summary>A label to place above a chart's plot area: its left edge in data units and its text.</summary>
    public readonly record struct TopLabel(double X, string Text, Color Colour);

    /// <summary>
    /// Phases as bands in the timeline's colours (light), named at the top of the plot where the name fits, and alarms as
    /// dashed lines (red for trips, orange for warnings).
    /// </summary>
    public static List<TopLabel> Marks(Plot plot, BatchReview review)
    {
        var labels = new List<TopLabel>();
        foreach (var phase in review.Phases)
        {
            var x1 = Minutes(review, phase.Start);
            var x2 = Minutes(review, phase.End ?? review.AsOf);
            if (x2 <= x1) continue;
            var band = plot.Add.HorizontalSpan(x1, x2, Color.FromHex(PhaseHex(phase.Phase)).WithAlpha(0.13));
            band.LineWidth = 0;
            band.EnableAutoscale = false;
            labels.Add(new TopLabel(x1, phase.Phase, Color.FromHex(PhaseHex(phase.Phase))));
        }
        foreach (var alarm in review.Alarms)
        {
            var line = plot.Add.VerticalLine(Minutes(review, alarm.RaisedAt));
            line.Color = alarm.Severity == "trip" ? Color.FromHex("#e74c3c") : Color.FromHex("#f39c12");
            line.LinePattern = LinePattern.Dashed;
            line.LineWidth = 1.5f;
            line.ExcludeFromLegend = true;
        }
        return labels;
    }

    /// <summary>Font size and average glyph width (px) of the labels above a plot; DejaVu Sans at 11 px is at most about 7 px a glyph.</summary>
    public const float LabelFontSize = 11;
    public const double LabelGlyphPixels = 7.2;
    public const double LabelRowPixels = 14;

    /// <summary>
    /// Places labels in rows across the top of the plot area so that none overlaps another: each goes into the first row where
    /// it clears the previous label by a few pixels (at most three rows; a label that fits in none is left out, its band still
    /// coloured). The plot is rendered once to learn its scale; the labels are then fixed to the pixel grid of that render.
    /// </summary>
    public static void PlaceTopLabels(Plot plot, IReadOnlyList<TopLabel> labels, int width, int height)
    {
        if (labels.Count == 0) return;
        plot.GetSvgXml(width, height);
        var limits = plot.Axes.GetLimits();
        plot.Axes.SetLimits(limits);
        var rect = plot.LastRender.DataRect;
        double Pixel(double x) => rect.Left + (x - limits.Left) / (limits.Right - limits.Left) * rect.Width;
        var rowEnds = new List<double>();
        foreach (var label in labels.OrderBy(l => l.X))
        {
            var left = Math.Max(Pixel(label.X), rect.Left) + 2;
            var right = left + label.Text.Length * LabelGlyphPixels;
            if (right > rect.Right - 2)
            {
                // Near the right edge: the label ends at its line instead of starting there.
                right = Math.Min(Pixel(label.X), rect.Right) - 2;
                left = right - label.Text.Length * LabelGlyphPixels;
                if (left < rect.Left) continue;
            }
            var row = rowEnds.FindIndex(end => left >= end + 4);
            if (row < 0 && rowEnds.Count < 3) { rowEnds.Add(double.MinValue); row = rowEnds.Count - 1; }
            if (row < 0) continue;
            rowEnds[row] = right;
            var text = plot.Add.Text(label.Text, limits.Left + (left - rect.Left) / rect.Width * (limits.Right - limits.Left), limits.Top);
            text.LabelFontSize = LabelFontSize;
            text.LabelFontColor = label.Colour;
            text.LabelBold = true;
            text.LabelFontName = "DejaVu Sans";
            text.LabelAlignment = Alignment.UpperLeft;
            text.OffsetY = (float)(2 + row * LabelRowPixels);
        }
    }

    public static double Minutes(BatchReview review, DateTimeOffset at) => (at - review.StartedAt).TotalMinutes;

    public static string Svg(Plot plot, string title, string xLabel, string yLabel, IReadOnlyList<TopLabel>? labels = null)
    {
        plot.Title(title, size: 14);
        plot.XLabel(xLabel, size: 12);
        plot.YLabel(yLabel, size: 12);
        // The legend beside the plot, never over a line.
        plot.ShowLegend(Edge.Right);
        if (labels is not null)
        {
            // Room above the highest line, on both axes, for three rows of labels.
            plot.GetSvgXml(Width, Height);
            foreach (var axis in new IYAxis[] { plot.Axes.Left, plot.Axes.Right })
            {
                var range = axis.Range;
                if (range.Span > 0) plot.Axes.SetLimitsY(range.Min, range.Max + range.Span * 0.25, axis);
            }
            PlaceTopLabels(plot, labels, Width, Height);
        }
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
        var labels = Marks(plot, review);
        return Svg(plot, "Temperatures", "minutes from start", "°C", labels);
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
        var labels = Marks(plot, review);
        return Svg(plot, "Steam and cooling valves, steam pressure", "minutes from start", "valve %", labels);
    }

    public static string DistillateChart(BatchReview review, IReadOnlyList<double> minutes)
    {
        var plot = new Plot();
        Series(plot, minutes, review.Samples.Select(s => s.Values[(int)Channel.DistillateFlow]).ToArray(), "distillate flow L/min", Color.FromHex("#d35400"));
        var meter = review.Samples.Select(s => s.Values[(int)Channel.Strength]).ToArray();
        var strength = meter.All(double.IsNaN) ? review.Samples.Select(s => s.StrengthPercent ?? double.NaN).ToArray() : meter;
        Series(plot, minutes, strength, meter.All(double.IsNaN) ? "strength % vol, estimated (right)" : "strength % vol, meter (right)", Color.FromHex("#8e44ad"), plot.Axes.Right);
        plot.Axes.Right.Label.Text = "% vol";
        var labels = Marks(plot, review);
        return Svg(plot, "Distillate flow and strength", "minutes from start", "L/min", labels);
    }

    /// <summary>
    /// The spirit's strength against the volume run off (litres since the first drop, to the end of the tails), with each cut
    /// (heads to hearts, hearts grades, hearts to tails, end of spirit) as a line named at the top.
    /// </summary>
    public static string StrengthVolumeChart(BatchReview review, IReadOnlyList<CutPoint> cuts)
    {
        var plot = new Plot();
        var (litres, strength) = review.StrengthAgainstVolume();
        Series(plot, litres, strength, "strength % vol", Color.FromHex("#8e44ad"));
        var labels = new List<TopLabel>();
        foreach (var cut in cuts)
        {
            var line = plot.Add.VerticalLine(cut.CumulativeLitres);
            var colour = Color.FromHex(cut.Label switch { "tails" => PhaseHex("tails"), "end of spirit" => PhaseHex("steaming"), _ => PhaseHex("hearts") });
            line.Color = colour;
            line.LineWidth = 1.5f;
            line.LinePattern = LinePattern.Dashed;
            line.ExcludeFromLegend = true;
            labels.Add(new TopLabel(cut.CumulativeLitres, cut.Label, colour));
        }
        return Svg(plot, "Strength against volume run off, with the cuts", "litres since the first drop", "% vol", labels);
    }

    /// <summary>The strength a batch's review reads: the meter where one is fitted, otherwise the estimate from the vapour temperature.</summary>
    public static double StrengthOf(SampleRow s, bool meter) => meter ? s.Values[(int)Channel.Strength] : s.StrengthPercent ?? double.NaN;

    /// <summary>One quantity of several batches overlaid, each from its own first drop of distillate (its start when none ran).</summary>
    public static string Overlay(IReadOnlyList<BatchReview> reviews, string title, string unit, Func<BatchReview, SampleRow, double> value)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        for (var i = 0; i < reviews.Count; i++)
        {
            var r = reviews[i];
            var zero = r.FirstDistillateAt ?? r.StartedAt;
            var minutes = r.Samples.Select(s => (s.At - zero).TotalMinutes).ToArray();
            Series(plot, minutes, r.Samples.Select(s => value(r, s)).ToArray(), r.Id, palette.GetColor(i));
        }
        var zeroLine = plot.Add.VerticalLine(0);
        zeroLine.Color = Color.FromHex("#7f8c8d");
        zeroLine.LinePattern = LinePattern.Dotted;
        zeroLine.ExcludeFromLegend = true;
        return Svg(plot, title, "minutes from the first drop of distillate", unit);
    }
}
