using System.Globalization;
using System.Text;

namespace StillControl.Notifications;

/// <summary>A message as a target shows it: a title, plain text, and the same as Markdown (WeCom, DingTalk).</summary>
public sealed record RenderedMessage(string Title, string Text, string Markdown);

/// <summary>
/// The templates, in Chinese (zh-CN) and English (en): short and plain, with site, still, code, message and the time in the
/// still's local time and in UTC.
/// </summary>
public static class NotificationText
{
    private sealed record Words(
        IReadOnlyDictionary<string, string> Categories, string Cleared, string Escalated, string Site, string Still, string Code,
        string At, string ClearedAt, string Count, string NotAcknowledged, string Acknowledged, string DigestTitle, string DigestLead, string Minutes,
        string Open, string Close, string Colon, string Comma);

    private static readonly Words English = new(
        new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["alarm"] = "TRIP", ["hold"] = "HOLD", ["advisory"] = "WAITING FOR OPERATOR", ["offline"] = "STILL OFFLINE", ["backlog"] = "BACKLOG",
        },
        "CLEARED", "ESCALATED", "Site", "still", "code", "At", "Cleared at", "Seen {0} times", "Not acknowledged within {0}", "Acknowledged by {0}",
        "StillControl: {0} notifications", "{0} notifications held back by the rate limit:", "{0} min", "[", "] ", ": ", ", ");

    private static readonly Words Chinese = new(
        new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["alarm"] = "跳闸", ["hold"] = "暂停", ["advisory"] = "等待操作", ["offline"] = "甑桶离线", ["backlog"] = "数据积压",
        },
        "已恢复", "升级", "站点", "甑桶", "代码", "时间", "恢复时间", "共 {0} 次", "{0}内无人确认", "已由 {0} 确认",
        "StillControl：{0} 条通知", "因限速合并的 {0} 条通知：", "{0} 分钟", "【", "】", "：", "，");

    private static Words For(string language) => language == "en" ? English : Chinese;

    /// <summary>One message: a condition raised, escalated or cleared.</summary>
    public static RenderedMessage Render(OutboxEntry entry, string language, TimeZoneInfo? zone)
    {
        var w = For(language);
        var i = entry.Incident;
        var what = w.Categories.GetValueOrDefault(i.Category, i.Category);
        var label = entry.Type switch
        {
            "cleared" => $"{w.Cleared}{(language == "en" ? " " : "·")}{what}",
            "escalation" => $"{w.Escalated}{(language == "en" ? " " : "·")}{what}",
            _ => what,
        };
        var title = $"{w.Open}{label}{w.Close}{i.Site}/{i.Still}{w.Colon}{i.Code}";
        var lines = new List<string>();
        lines.Add(entry.Type == "cleared" && !string.IsNullOrWhiteSpace(i.ClearedMessage) ? i.ClearedMessage! : i.Message);
        lines.Add($"{w.Site} {i.Site}{w.Comma}{w.Still} {i.Still}{w.Comma}{w.Code} {i.Code}");
        lines.Add($"{w.At} {Time(i.OpenedAt, zone, language)}");
        if (entry.Type == "cleared" && i.ClearedAt is { } cleared) lines.Add($"{w.ClearedAt} {Time(cleared, zone, language)}");
        if (i.Count > 1) lines.Add(string.Format(CultureInfo.InvariantCulture, w.Count, i.Count));
        if (entry.Type == "escalation" && i.EscalateAfterSeconds is { } after)
        {
            lines.Add(string.Format(CultureInfo.InvariantCulture, w.NotAcknowledged, Duration(after, w)));
        }
        if (i.AcknowledgedBy is { } by && entry.Type != "escalation") lines.Add(string.Format(CultureInfo.InvariantCulture, w.Acknowledged, by));
        return new RenderedMessage(title, string.Join('\n', lines), Markdown(title, lines));
    }

    /// <summary>Several messages held back by a target's rate limit, as one.</summary>
    public static RenderedMessage Digest(IReadOnlyList<OutboxEntry> entries, string language, TimeZoneInfo? zone)
    {
        var w = For(language);
        var title = string.Format(CultureInfo.InvariantCulture, w.DigestTitle, entries.Count);
        var lines = new List<string> { string.Format(CultureInfo.InvariantCulture, w.DigestLead, entries.Count) };
        foreach (var entry in entries)
        {
            var one = Render(entry, language, zone);
            var at = entry.Type == "cleared" && entry.Incident.ClearedAt is { } c ? c : entry.Incident.OpenedAt;
            lines.Add($"- {LocalShort(at, zone)} {one.Title}{w.Colon}{one.Text.Split('\n')[0]}");
        }
        return new RenderedMessage(title, string.Join('\n', lines), Markdown(title, lines));
    }

    /// <summary>2026-11-30 14:17:19 +08:00 (06:17:19 UTC): the still's local time, then UTC.</summary>
    public static string Time(DateTimeOffset at, TimeZoneInfo? zone, string language)
    {
        var local = zone is null ? at : TimeZoneInfo.ConvertTime(at, zone);
        var utc = at.ToUniversalTime();
        var offset = local.ToString("zzz", CultureInfo.InvariantCulture);
        var utcText = utc.Date == local.Date
            ? utc.ToString("HH:mm:ss", CultureInfo.InvariantCulture)
            : utc.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        var localText = local.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        return language == "en" ? $"{localText} {offset} ({utcText} UTC)" : $"{localText} {offset}（UTC {utcText}）";
    }

    private static string LocalShort(DateTimeOffset at, TimeZoneInfo? zone) =>
        (zone is null ? at : TimeZoneInfo.ConvertTime(at, zone)).ToString("MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    private static string Duration(int seconds, Words w) =>
        seconds % 60 == 0 ? string.Format(CultureInfo.InvariantCulture, w.Minutes, seconds / 60) : string.Create(CultureInfo.InvariantCulture, $"{seconds} s");

    private static string Markdown(string title, List<string> lines)
    {
        var text = new StringBuilder();
        text.Append("### ").Append(Escape(title)).Append("\n\n");
        text.Append(string.Join("\n\n", lines.Select(Escape)));
        return text.ToString();
    }

    /// <summary>Markdown characters in a still's text are shown as they are, never taken as formatting.</summary>
    private static string Escape(string text)
    {
        var s = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (c is '*' or '_' or '`' or '[' or ']' or '#' or '<' or '>' or '\\') s.Append('\\');
            s.Append(c);
        }
        return s.ToString();
    }
}
