using System.Text;

namespace StillControl.Process;

/// <summary>
/// Text that came from a person or a sender (an operator name, a batch id, a command's argument) made safe to write where a
/// line ends a record: a log, the console, the history database's line protocol. Control characters (a newline that would
/// forge a log line or split a line-protocol point) become visible symbols; lone surrogates become U+FFFD.
/// </summary>
public static class PrintableText
{
    public static string Of(string text)
    {
        var clean = true;
        foreach (var c in text)
        {
            if (char.IsControl(c) || char.IsSurrogate(c))
            {
                clean = false;
                break;
            }
        }
        if (clean) return text;
        var builder = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                builder.Append(c).Append(text[++i]);
            }
            else if (c == '\n')
            {
                builder.Append('\u2424');
            }
            else if (char.IsControl(c) || char.IsSurrogate(c))
            {
                builder.Append('\uFFFD');
            }
            else
            {
                builder.Append(c);
            }
        }
        return builder.ToString();
    }

    /// <summary>
    /// A batch id as the journal, file names, URLs and tags can all carry it: 1-64 letters, digits and <c>- _ . :</c>.
    /// </summary>
    public static bool IsBatchId(string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > 64) return false;
        foreach (var c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':')) return false;
        }
        return true;
    }
}
