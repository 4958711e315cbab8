using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace StillControl.Reports;

/// <summary>
/// Reads back what an SVG chart (as ScottPlot writes it) draws: its texts with their boxes, its filled rectangles, its lines
/// as points, and the axes' scales from their tick labels, so a test can check a chart by what a reader sees.
/// </summary>
public static partial class SvgText
{
    public sealed record Label(string Text, double Left, double Right, double Top, double Bottom, string? Fill)
    {
        public bool Overlaps(Label other) => Left < other.Right && other.Left < Right && Top < other.Bottom && other.Top < Bottom;
    }

    public sealed record Rect(string Fill, double? Opacity, double X, double Y, double Width, double Height);

    public sealed record Line(string Stroke, double Width, List<(double X, double Y)> Points);

    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>Every text: its glyph positions give its left and its extent, the font size its height.</summary>
    public static List<Label> Labels(string svg)
    {
        var result = new List<Label>();
        foreach (Match m in TextElement().Matches(svg))
        {
            var attributes = m.Groups[1].Value;
            var text = WebUtility.HtmlDecode(m.Groups[2].Value.Trim());
            var translate = Regex.Match(attributes, @"translate\(([-\d.]+)[ ,]([-\d.]+)\)");
            if (!translate.Success) continue;
            var tx = double.Parse(translate.Groups[1].Value, C);
            var ty = double.Parse(translate.Groups[2].Value, C);
            var size = double.Parse(Regex.Match(attributes, @"font-size=""([\d.]+)""").Groups[1].Value, C);
            var xs = Regex.Match(attributes, @"\bx=""([^""]*)""").Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(v => double.Parse(v, C)).ToList();
            var ys = Regex.Match(attributes, @"\by=""([^""]*)""").Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(v => double.Parse(v, C)).ToList();
            if (xs.Count == 0 || text.Length == 0) continue;
            // The last glyph is about 0.7 of the font size wide; the baseline is at y, the text reaches a font size above it.
            var left = tx + xs[0];
            var right = tx + xs[^1] + size * 0.7;
            var baseline = ty + (ys.Count > 0 ? ys[0] : 0);
            var fill = Regex.Match(attributes, @"fill=""(#[0-9A-Fa-f]{6})""") is { Success: true } f ? f.Groups[1].Value : null;
            result.Add(new Label(text, left, right, baseline - size, baseline, fill));
        }
        return result;
    }

    public static List<Rect> Rects(string svg) => RectElement().Matches(svg).Select(m =>
    {
        var a = m.Value;
        string? Attr(string name) => Regex.Match(a, $@"\b{name}=""([^""]*)""") is { Success: true } v ? v.Groups[1].Value : null;
        return new Rect(Attr("fill") ?? "", Attr("fill-opacity") is { } o ? double.Parse(o, C) : null, double.Parse(Attr("x") ?? "0", C), double.Parse(Attr("y") ?? "0", C),
            double.Parse(Attr("width") ?? "0", C), double.Parse(Attr("height") ?? "0", C));
    }).ToList();

    public static List<Line> Lines(string svg) => PathElement().Matches(svg).Select(m =>
    {
        var a = m.Value;
        var stroke = Regex.Match(a, @"stroke=""(#[0-9A-Fa-f]{6})""").Groups[1].Value;
        var width = Regex.Match(a, @"stroke-width=""([\d.]+)""") is { Success: true } w ? double.Parse(w.Groups[1].Value, C) : 1;
        var d = Regex.Match(a, @"\bd=""([^""]*)""").Groups[1].Value;
        var points = Regex.Matches(d, @"[ML]\s*([-\d.]+)[ ,]([-\d.]+)").Select(p => (double.Parse(p.Groups[1].Value, C), double.Parse(p.Groups[2].Value, C))).ToList();
        return new Line(stroke, width, points);
    }).ToList();

    /// <summary>
    /// The bottom axis' scale from its tick labels (numbers on one row below the plot): pixel = a + b × value. The numbers that
    /// share the lowest row of numeric labels are the x ticks.
    /// </summary>
    public static (double A, double B) XScale(string svg)
    {
        var numbers = Labels(svg).Where(l => double.TryParse(l.Text.Replace('−', '-'), NumberStyles.Float, C, out _)).ToList();
        var row = numbers.GroupBy(l => Math.Round(l.Bottom)).Where(g => g.Count() >= 3).MaxBy(g => g.Key)!;
        return Fit(row.Select(l => (double.Parse(l.Text.Replace('−', '-'), C), (l.Left + l.Right) / 2)).ToList());
    }

    /// <summary>The left axis' scale from its tick labels (numbers in one column left of the plot): pixel = a + b × value.</summary>
    public static (double A, double B) YScale(string svg)
    {
        var numbers = Labels(svg).Where(l => double.TryParse(l.Text.Replace('−', '-'), NumberStyles.Float, C, out _)).ToList();
        var column = numbers.GroupBy(l => Math.Round(l.Right)).Where(g => g.Count() >= 3).MinBy(g => g.Key)!;
        return Fit(column.Select(l => (double.Parse(l.Text.Replace('−', '-'), C), (l.Top + l.Bottom) / 2)).ToList());
    }

    private static (double A, double B) Fit(List<(double Value, double Pixel)> points)
    {
        var mv = points.Average(p => p.Value);
        var mp = points.Average(p => p.Pixel);
        var b = points.Sum(p => (p.Value - mv) * (p.Pixel - mp)) / points.Sum(p => (p.Value - mv) * (p.Value - mv));
        return (mp - b * mv, b);
    }

    [GeneratedRegex(@"<text([^>]*)>([^<]*)</text>", RegexOptions.Singleline)]
    private static partial Regex TextElement();

    [GeneratedRegex(@"<rect\b[^>]*>")]
    private static partial Regex RectElement();

    [GeneratedRegex(@"<path\b[^>]*>")]
    private static partial Regex PathElement();
}
