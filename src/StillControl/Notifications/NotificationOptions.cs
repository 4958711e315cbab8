using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Options;
using MimeKit;

namespace StillControl.Notifications;

/// <summary>
/// <c>Notifications</c>: where the plant's notifications go (<see cref="Targets"/>), which events go where
/// (<see cref="Rules"/>), and the outbox that keeps them until each target has taken them.
/// </summary>
public sealed class NotificationOptions
{
    public const string Section = "Notifications";
    /// <summary>The outbox, an SQLite file: what is queued there is sent after a restart.</summary>
    public string OutboxPath { get; set; } = "notifications.db";
    /// <summary>An IANA time zone (Asia/Shanghai) for the stills' local time; unset: the offset each event carries.</summary>
    public string? TimeZone { get; set; }
    /// <summary>First retry after this many seconds; each further one doubles it (with jitter) up to <see cref="RetryMaximumSeconds"/>.</summary>
    public int RetryInitialSeconds { get; set; } = 2;
    public int RetryMaximumSeconds { get; set; } = 300;
    public List<NotificationTarget> Targets { get; set; } = [];
    public List<NotificationRule> Rules { get; set; } = [];
}

/// <summary>One receiver of notifications. Which keys apply depends on <see cref="Kind"/> (<see cref="NotificationOptionsValidator.KeysByKind"/>).</summary>
public sealed class NotificationTarget
{
    /// <summary>The name rules refer to; default: the kind and its position (webhook-0).</summary>
    public string? Name { get; set; }
    /// <summary>webhook, ntfy, telegram, wecom, dingtalk or email.</summary>
    public string? Kind { get; set; }
    /// <summary>webhook: the address to POST to; ntfy: the topic's address; telegram: the Bot API base (default https://api.telegram.org); wecom, dingtalk: the robot's webhook address.</summary>
    public string? Url { get; set; }
    /// <summary>zh-CN or en.</summary>
    public string Language { get; set; } = "zh-CN";
    /// <summary>At most this many messages per <see cref="RateLimitSeconds"/> (0: no limit); the excess goes out as one digest, never dropped.</summary>
    public int RateLimitCount { get; set; }
    public int RateLimitSeconds { get; set; } = 60;
    /// <summary>One attempt's time limit.</summary>
    public int TimeoutSeconds { get; set; } = 10;

    /// <summary>webhook: signs each body (X-StillControl-Signature: sha256=HMAC); dingtalk: the signed robot's secret (SEC...).</summary>
    public string? Secret { get; set; }
    public string? SecretFile { get; set; }
    /// <summary>ntfy: an access token (Authorization: Bearer).</summary>
    public string? Token { get; set; }
    public string? TokenFile { get; set; }
    /// <summary>telegram: the bot's token, here (from a STILLCONTROL_ variable) or in a file.</summary>
    public string? BotToken { get; set; }
    public string? BotTokenFile { get; set; }
    /// <summary>telegram: the chat, group or channel (-100..., @channel).</summary>
    public string? ChatId { get; set; }
    /// <summary>wecom, dingtalk: text or markdown.</summary>
    public string Format { get; set; } = "text";

    /// <summary>email: the SMTP server.</summary>
    public string? Host { get; set; }
    public int? Port { get; set; }
    public string? From { get; set; }
    public List<string> To { get; set; } = [];
    /// <summary>email: none, starttls, tls (implicit, port 465) or auto.</summary>
    public string Tls { get; set; } = "auto";
    /// <summary>email: a file with the user name on its first line and the password on its second; unset: no login.</summary>
    public string? CredentialsFile { get; set; }
}

/// <summary>Which events go to which targets.</summary>
public sealed class NotificationRule
{
    public string? Name { get; set; }
    /// <summary>Event kinds that open a notification: alarm-raised, held, advisory, offline, backlog; empty: all of them.</summary>
    public List<string> Kinds { get; set; } = [];
    /// <summary>Codes (e.g. over-pressure, cover-layer, still-offline); empty: any.</summary>
    public List<string> Codes { get; set; } = [];
    public List<string> Stills { get; set; } = [];
    public List<string> Sites { get; set; } = [];
    /// <summary>Target names.</summary>
    public List<string> Targets { get; set; } = [];
    /// <summary>critical, warning or info (ntfy priority, message prefix).</summary>
    public string Severity { get; set; } = "warning";
    /// <summary>Targets told when nobody acknowledges within <see cref="EscalateAfterSeconds"/>.</summary>
    public List<string> EscalateTo { get; set; } = [];
    public int? EscalateAfterSeconds { get; set; }
    /// <summary>Send a "cleared" message when the condition ends.</summary>
    public bool Cleared { get; set; } = true;
}

/// <summary>Start-up checks of <c>Notifications</c>: every bad key named at once, with its value and what is accepted.</summary>
public sealed class NotificationOptionsValidator : IValidateOptions<NotificationOptions>
{
    public static readonly string[] Kinds = ["webhook", "ntfy", "telegram", "wecom", "dingtalk", "email"];
    public static readonly string[] Languages = ["zh-CN", "en"];
    public static readonly string[] Severities = ["critical", "warning", "info"];
    public static readonly string[] Formats = ["text", "markdown"];
    public static readonly string[] TlsModes = ["none", "starttls", "tls", "auto"];
    /// <summary>The event kinds that open a notification (their clearing kinds close it).</summary>
    public static readonly string[] RuleKinds = ["alarm-raised", "held", "advisory", "offline", "backlog"];

    private static readonly string[] Common = ["Name", "Kind", "Language", "RateLimitCount", "RateLimitSeconds", "TimeoutSeconds"];

    /// <summary>The keys each kind takes besides the common ones.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> KeysByKind = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        ["webhook"] = ["Url", "Secret", "SecretFile"],
        ["ntfy"] = ["Url", "Token", "TokenFile"],
        ["telegram"] = ["Url", "BotToken", "BotTokenFile", "ChatId"],
        ["wecom"] = ["Url", "Format"],
        ["dingtalk"] = ["Url", "Format", "Secret", "SecretFile"],
        ["email"] = ["Host", "Port", "From", "To", "Tls", "CredentialsFile"],
    };

    public ValidateOptionsResult Validate(string? name, NotificationOptions options)
    {
        var failures = Check(options);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    public static List<string> Check(NotificationOptions options)
    {
        var failures = new List<string>();
        const string s = NotificationOptions.Section;
        if (string.IsNullOrWhiteSpace(options.OutboxPath)) failures.Add($"{s}:OutboxPath = \"{options.OutboxPath}\": a file path for the SQLite outbox");
        if (options.TimeZone is { } zone && !TryZone(zone, out _)) failures.Add($"{s}:TimeZone = \"{zone}\": an IANA time zone such as Asia/Shanghai or UTC");
        if (options.RetryInitialSeconds is < 1 or > 3600) failures.Add($"{s}:RetryInitialSeconds = {options.RetryInitialSeconds}: 1 to 3600");
        if (options.RetryMaximumSeconds < options.RetryInitialSeconds || options.RetryMaximumSeconds > 86_400)
        {
            failures.Add($"{s}:RetryMaximumSeconds = {options.RetryMaximumSeconds}: from {s}:RetryInitialSeconds ({options.RetryInitialSeconds}) to 86400");
        }

        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < options.Targets.Count; i++)
        {
            var t = options.Targets[i];
            var key = $"{s}:Targets:{i}";
            CheckTarget(t, i, key, failures);
            var targetName = TargetName(t, i);
            if (!ValidName(targetName))
            {
                failures.Add($"{key}:Name = \"{t.Name}\": 1-64 letters, digits, '-' or '_'");
            }
            else if (!names.TryAdd(targetName, i))
            {
                failures.Add($"{key}:Name = \"{targetName}\": already the name of {s}:Targets:{names[targetName]}; each target needs its own name");
            }
        }

        for (var i = 0; i < options.Rules.Count; i++)
        {
            var r = options.Rules[i];
            var key = $"{s}:Rules:{i}";
            for (var k = 0; k < r.Kinds.Count; k++)
            {
                if (!RuleKinds.Contains(r.Kinds[k], StringComparer.Ordinal)) failures.Add($"{key}:Kinds:{k} = \"{r.Kinds[k]}\": one of {string.Join(", ", RuleKinds)}");
            }
            if (r.Targets.Count == 0) failures.Add($"{key}:Targets: empty; the names of one or more of {Known(names)}");
            CheckNames(r.Targets, $"{key}:Targets", names, failures);
            CheckNames(r.EscalateTo, $"{key}:EscalateTo", names, failures);
            if (!Severities.Contains(r.Severity, StringComparer.Ordinal)) failures.Add($"{key}:Severity = \"{r.Severity}\": one of {string.Join(", ", Severities)}");
            if (r.EscalateTo.Count > 0 && r.EscalateAfterSeconds is null)
            {
                failures.Add($"{key}:EscalateAfterSeconds: missing; with EscalateTo, the seconds to wait for an acknowledgement (10 to 604800)");
            }
            if (r.EscalateAfterSeconds is { } after)
            {
                if (after is < 10 or > 604_800) failures.Add($"{key}:EscalateAfterSeconds = {after}: 10 to 604800");
                if (r.EscalateTo.Count == 0) failures.Add($"{key}:EscalateAfterSeconds = {after}: needs EscalateTo (the targets told when nobody acknowledges)");
            }
            foreach (var (list, field) in new[] { (r.Codes, "Codes"), (r.Stills, "Stills"), (r.Sites, "Sites") })
            {
                for (var k = 0; k < list.Count; k++)
                {
                    if (string.IsNullOrWhiteSpace(list[k])) failures.Add($"{key}:{field}:{k} = \"{list[k]}\": a name, or * for any");
                }
            }
        }
        if (options.Rules.Count > 0 && options.Targets.Count == 0) failures.Add($"{s}:Targets: empty, but {s}:Rules name targets; add the targets they send to");
        return failures;
    }

    private static void CheckTarget(NotificationTarget t, int index, string key, List<string> failures)
    {
        if (t.Kind is null || !Kinds.Contains(t.Kind, StringComparer.Ordinal))
        {
            failures.Add($"{key}:Kind = \"{t.Kind}\": one of {string.Join(", ", Kinds)}");
            return;
        }
        if (!Languages.Contains(t.Language, StringComparer.Ordinal)) failures.Add($"{key}:Language = \"{t.Language}\": one of {string.Join(", ", Languages)}");
        if (t.RateLimitCount is < 0 or > 10_000) failures.Add($"{key}:RateLimitCount = {t.RateLimitCount}: 0 (no limit) to 10000 messages");
        if (t.RateLimitSeconds is < 1 or > 86_400) failures.Add($"{key}:RateLimitSeconds = {t.RateLimitSeconds}: 1 to 86400");
        if (t.TimeoutSeconds is < 1 or > 300) failures.Add($"{key}:TimeoutSeconds = {t.TimeoutSeconds}: 1 to 300");

        // A key the kind does not use is named: a Telegram chat id on a webhook is a mistake, not a silent no-op.
        var allowed = KeysByKind[t.Kind];
        var defaults = new NotificationTarget();
        foreach (var property in typeof(NotificationTarget).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (Common.Contains(property.Name) || allowed.Contains(property.Name)) continue;
            var value = property.GetValue(t);
            var unset = value is null || Equals(value, property.GetValue(defaults)) || value is List<string> { Count: 0 };
            if (!unset) failures.Add($"{key}:{property.Name}: not used by Kind {t.Kind}; its keys: {string.Join(", ", Common.Concat(allowed))}");
        }

        switch (t.Kind)
        {
            case "webhook" or "ntfy" or "wecom" or "dingtalk":
                CheckUrl(t.Url, $"{key}:Url", required: true, failures);
                break;
            case "telegram":
                CheckUrl(t.Url, $"{key}:Url", required: false, failures);
                if (string.IsNullOrWhiteSpace(t.ChatId)) failures.Add($"{key}:ChatId = \"{t.ChatId}\": the chat's id (a number) or @channel name");
                CheckSecret(t.BotToken, t.BotTokenFile, $"{key}:BotToken", $"{key}:BotTokenFile", required: true, failures);
                break;
            case "email":
                if (string.IsNullOrWhiteSpace(t.Host)) failures.Add($"{key}:Host = \"{t.Host}\": the SMTP server's host name or address");
                if (t.Port is { } port && port is < 1 or > 65535) failures.Add($"{key}:Port = {port}: 1 to 65535");
                if (t.From is null || !MailboxAddress.TryParse(t.From, out _)) failures.Add($"{key}:From = \"{t.From}\": a mail address (Name <user@example.org> or user@example.org)");
                if (t.To.Count == 0) failures.Add($"{key}:To: empty; one or more mail addresses");
                for (var k = 0; k < t.To.Count; k++)
                {
                    if (!MailboxAddress.TryParse(t.To[k], out _)) failures.Add($"{key}:To:{k} = \"{t.To[k]}\": a mail address");
                }
                if (!TlsModes.Contains(t.Tls, StringComparer.Ordinal)) failures.Add($"{key}:Tls = \"{t.Tls}\": one of {string.Join(", ", TlsModes)}");
                if (t.CredentialsFile is { } credentials)
                {
                    var lines = ReadFile(credentials, $"{key}:CredentialsFile", failures)?.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
                    if (lines is not null && (lines.Length < 2 || lines[0].Length == 0 || lines[1].Length == 0))
                    {
                        failures.Add($"{key}:CredentialsFile = \"{credentials}\": a file with the user name on its first line and the password on its second");
                    }
                }
                break;
        }
        if (t.Kind is "wecom" or "dingtalk" && !Formats.Contains(t.Format, StringComparer.Ordinal)) failures.Add($"{key}:Format = \"{t.Format}\": one of {string.Join(", ", Formats)}");
        if (t.Kind is "webhook" or "dingtalk") CheckSecret(t.Secret, t.SecretFile, $"{key}:Secret", $"{key}:SecretFile", required: false, failures);
        if (t.Kind is "ntfy") CheckSecret(t.Token, t.TokenFile, $"{key}:Token", $"{key}:TokenFile", required: false, failures);
    }

    private static void CheckUrl(string? url, string key, bool required, List<string> failures)
    {
        if (url is null && !required) return;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            failures.Add($"{key} = \"{url}\": an absolute http:// or https:// address");
        }
    }

    private static void CheckSecret(string? value, string? file, string key, string fileKey, bool required, List<string> failures)
    {
        if (value is not null && file is not null)
        {
            failures.Add($"{key} and {fileKey}: both set; give one");
            return;
        }
        if (file is not null)
        {
            if (ReadFile(file, fileKey, failures) is { } text && text.Trim().Length == 0) failures.Add($"{fileKey} = \"{file}\": the file is empty");
        }
        else if (value is not null ? value.Trim().Length == 0 : required)
        {
            failures.Add($"{key} = \"\": missing; set it (e.g. from a STILLCONTROL_ variable) or {fileKey}");
        }
    }

    private static string? ReadFile(string path, string key, List<string> failures)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            failures.Add($"{key} = \"{path}\": cannot be read ({ex.Message})");
            return null;
        }
    }

    private static void CheckNames(List<string> list, string key, Dictionary<string, int> names, List<string> failures)
    {
        for (var k = 0; k < list.Count; k++)
        {
            if (!names.ContainsKey(list[k])) failures.Add($"{key}:{k} = \"{list[k]}\": not a target's name; one of {Known(names)}");
        }
    }

    private static string Known(Dictionary<string, int> names) => names.Count == 0 ? "(no target is configured)" : string.Join(", ", names.Keys);

    private static bool ValidName(string name) =>
        name.Length is > 0 and <= 64 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    public static string TargetName(NotificationTarget target, int index) =>
        string.IsNullOrEmpty(target.Name) ? string.Create(CultureInfo.InvariantCulture, $"{target.Kind}-{index}") : target.Name;

    public static bool TryZone(string id, out TimeZoneInfo zone)
    {
        try
        {
            zone = TimeZoneInfo.FindSystemTimeZoneById(id);
            return true;
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException or ArgumentException)
        {
            zone = TimeZoneInfo.Utc;
            return false;
        }
    }
}
