using System.Text;

namespace StillControl.Cli;

/// <summary>
/// A plain-text table whose columns are as wide as their widest cell (header included), two spaces apart; the last column is
/// not padded. Long ids or recipe names widen their column instead of pushing the others out of line.
/// </summary>
public static class TextTable
{
    /// <param name="rightAligned">Per column: numbers read best right-aligned.</param>
    public static string Render(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows, IReadOnlyList<bool>? rightAligned = null)
    {
        var all = new List<IReadOnlyList<string>> { headers };
        all.AddRange(rows);
        var widths = new int[headers.Count];
        foreach (var row in all)
        {
            for (var i = 0; i < headers.Count; i++) widths[i] = Math.Max(widths[i], Width(i < row.Count ? row[i] : ""));
        }
        var text = new StringBuilder();
        foreach (var row in all)
        {
            var line = new StringBuilder();
            for (var i = 0; i < headers.Count; i++)
            {
                var cell = i < row.Count ? row[i] : "";
                var pad = new string(' ', widths[i] - Width(cell));
                if (i > 0) line.Append("  ");
                if (rightAligned is not null && i < rightAligned.Count && rightAligned[i]) line.Append(pad).Append(cell);
                else if (i == headers.Count - 1) line.Append(cell);
                else line.Append(cell).Append(pad);
            }
            text.Append(line.ToString().TrimEnd()).AppendLine();
        }
        return text.ToString();
    }

    /// <summary>Columns a cell takes in a terminal: CJK and other wide characters take two.</summary>
    public static int Width(string cell)
    {
        var width = 0;
        foreach (var rune in cell.EnumerateRunes())
        {
            var v = rune.Value;
            width += v is >= 0x1100 and <= 0x115F or >= 0x2E80 and <= 0xA4CF or >= 0xAC00 and <= 0xD7A3 or >= 0xF900 and <= 0xFAFF
                or >= 0xFE30 and <= 0xFE4F or >= 0xFF00 and <= 0xFF60 or >= 0xFFE0 and <= 0xFFE6 or >= 0x20000 and <= 0x3FFFD ? 2 : 1;
        }
        return width;
    }
}
