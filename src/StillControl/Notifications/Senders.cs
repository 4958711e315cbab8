using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace StillControl.Notifications;

/// <summary>What one delivery carries: one message (raised, escalation, cleared) or a digest of several.</summary>
public sealed record OutgoingMessage(string IdempotencyKey, string Type, string Severity, string Language, RenderedMessage Text, IReadOnlyList<OutboxEntry> Entries, TimeZoneInfo? Zone);

/// <summary>A delivery that did not go through. <see cref="Permanent"/>: the target refused the message itself (retrying will not help).</summary>
public sealed class NotificationSendException(string message, bool permanent = false, Exception? inner = null) : Exception(message, inner)
{
    public bool Permanent { get; } = permanent;
}

public interface INotificationSender
{
    Task SendAsync(OutgoingMessage message, CancellationToken cancellationToken);
}

public static class NotificationSenders
{
    /// <summary>The sender for one configured target (checked by <see cref="NotificationOptionsValidator"/> first).</summary>
    public static INotificationSender Create(NotificationTarget target, HttpClient http, TimeProvider clock) => target.Kind switch
    {
        "webhook" => new WebhookSender(target, http),
        "ntfy" => new NtfySender(target, http),
        "telegram" => new TelegramSender(target, http),
        "wecom" => new WeComSender(target, http),
        "dingtalk" => new DingTalkSender(target, http, clock),
        "email" => new EmailSender(target),
        _ => throw new ArgumentException($"Notifications: unknown target kind '{target.Kind}'"),
    };

    /// <summary>A secret given directly (e.g. from a STILLCONTROL_ variable) or in a file (trimmed).</summary>
    public static string? Secret(string? value, string? file) =>
        value is not null ? value.Trim() : file is not null ? File.ReadAllText(file).Trim() : null;

    internal static string Severity(OutgoingMessage m) => m.Type == "cleared" ? "cleared" : m.Severity;

    /// <summary>The structured form of one entry (webhook bodies).</summary>
    internal static JsonObject Item(OutboxEntry e, string language, TimeZoneInfo? zone)
    {
        var i = e.Incident;
        var text = NotificationText.Render(e, language, zone);
        var local = zone is null ? i.OpenedAt : TimeZoneInfo.ConvertTime(i.OpenedAt, zone);
        return new JsonObject
        {
            ["type"] = e.Type,
            ["site"] = i.Site,
            ["still"] = i.Still,
            ["kind"] = i.Category,
            ["code"] = i.Code,
            ["message"] = i.Message,
            ["severity"] = i.Severity,
            ["count"] = i.Count,
            ["at"] = local.ToString("o", CultureInfo.InvariantCulture),
            ["atUtc"] = i.OpenedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
            ["clearedAt"] = i.ClearedAt?.ToString("o", CultureInfo.InvariantCulture),
            ["acknowledgedBy"] = i.AcknowledgedBy,
            ["title"] = text.Title,
            ["text"] = text.Text,
        };
    }

    /// <summary>Posts JSON; a status outside 2xx fails (4xx other than 408 and 429: the target refused this message).</summary>
    internal static async Task<string> PostAsync(HttpClient http, string url, HttpContent content, Action<HttpRequestMessage>? headers, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = content };
        headers?.Invoke(request);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, ct);
        }
        catch (HttpRequestException ex)
        {
            throw new NotificationSendException($"{Redact(url)}: {ex.Message}", inner: ex);
        }
        catch (TaskCanceledException ex) when (!ct.IsCancellationRequested)
        {
            throw new NotificationSendException($"{Redact(url)}: no answer in time", inner: ex);
        }
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(ct);
            if (response.IsSuccessStatusCode) return body;
            var code = (int)response.StatusCode;
            var permanent = code is >= 400 and < 500 && response.StatusCode is not (HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests);
            throw new NotificationSendException($"{Redact(url)}: HTTP {code} {Shorten(body)}", permanent);
        }
    }

    internal static StringContent Json(JsonNode body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");

    /// <summary>A robot's answer {"errcode":0,...}: anything else is a refusal (its rate limit codes are retried).</summary>
    internal static void CheckErrcode(string body, string url, params int[] retryable)
    {
        int? errcode = null;
        try
        {
            if (JsonNode.Parse(body) is JsonObject o && o["errcode"] is JsonValue v && v.TryGetValue<int>(out var c)) errcode = c;
        }
        catch (JsonException)
        {
        }
        if (errcode == 0) return;
        throw new NotificationSendException($"{Redact(url)}: answered {Shorten(body)}", permanent: errcode is not null && !retryable.Contains(errcode.Value));
    }

    /// <summary>A robot's key or a bot token in an address is never written to a log.</summary>
    internal static string Redact(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) ? $"{uri.Scheme}://{uri.Authority}{(uri.AbsolutePath.Contains("/bot", StringComparison.Ordinal) ? "/bot…" : uri.AbsolutePath)}" : "(address)";

    private static string Shorten(string text) => text.Length <= 200 ? text : text[..200] + "…";
}

/// <summary>Generic webhook: a JSON POST, with an Idempotency-Key header and, given a secret, an HMAC-SHA256 signature of the body.</summary>
public sealed class WebhookSender(NotificationTarget target, HttpClient http) : INotificationSender
{
    private readonly string? secret = NotificationSenders.Secret(target.Secret, target.SecretFile);

    public async Task SendAsync(OutgoingMessage m, CancellationToken ct)
    {
        var body = new JsonObject
        {
            ["id"] = m.IdempotencyKey,
            ["type"] = m.Type,
            ["language"] = m.Language,
            ["severity"] = m.Severity,
            ["title"] = m.Text.Title,
            ["text"] = m.Text.Text,
            ["items"] = new JsonArray(m.Entries.Select(e => (JsonNode)NotificationSenders.Item(e, m.Language, m.Zone)).ToArray()),
        };
        if (m.Entries.Count == 1)
        {
            foreach (var (key, value) in NotificationSenders.Item(m.Entries[0], m.Language, m.Zone).ToArray())
            {
                if (!body.ContainsKey(key)) body[key] = value?.DeepClone();
            }
        }
        var json = body.ToJsonString();
        await NotificationSenders.PostAsync(http, target.Url!, new StringContent(json, Encoding.UTF8, "application/json"), request =>
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", m.IdempotencyKey);
            if (secret is not null) request.Headers.TryAddWithoutValidation("X-StillControl-Signature", "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(json))));
        }, ct);
    }
}

/// <summary>ntfy: the text POSTed to the topic's address with Title, Priority and Tags headers (a non-ASCII title RFC 2047-encoded, which ntfy decodes).</summary>
public sealed class NtfySender(NotificationTarget target, HttpClient http) : INotificationSender
{
    private readonly string? token = NotificationSenders.Secret(target.Token, target.TokenFile);

    public static int Priority(string severity) => severity switch { "critical" => 5, "warning" => 4, "info" => 3, _ => 2 };

    public static string Tags(string severity) => severity switch
    {
        "critical" => "rotating_light",
        "warning" => "warning",
        "info" => "information_source",
        _ => "white_check_mark",
    };

    public async Task SendAsync(OutgoingMessage m, CancellationToken ct)
    {
        var severity = NotificationSenders.Severity(m);
        await NotificationSenders.PostAsync(http, target.Url!, new StringContent(m.Text.Text, Encoding.UTF8, "text/plain"), request =>
        {
            request.Headers.TryAddWithoutValidation("Title", HeaderText(m.Text.Title));
            request.Headers.TryAddWithoutValidation("Priority", Priority(severity).ToString(CultureInfo.InvariantCulture));
            request.Headers.TryAddWithoutValidation("Tags", Tags(severity));
            if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }, ct);
    }

    /// <summary>ASCII as it is; anything else as an RFC 2047 encoded word (=?UTF-8?B?...?=).</summary>
    public static string HeaderText(string text) =>
        text.All(c => c is >= ' ' and <= '~') ? text : $"=?UTF-8?B?{Convert.ToBase64String(Encoding.UTF8.GetBytes(text))}?=";
}

/// <summary>Telegram Bot API sendMessage (plain text) to the configured base address.</summary>
public sealed class TelegramSender(NotificationTarget target, HttpClient http) : INotificationSender
{
    private readonly string token = NotificationSenders.Secret(target.BotToken, target.BotTokenFile) ?? "";

    public async Task SendAsync(OutgoingMessage m, CancellationToken ct)
    {
        var url = $"{(target.Url ?? "https://api.telegram.org").TrimEnd('/')}/bot{token}/sendMessage";
        var body = new JsonObject
        {
            ["chat_id"] = target.ChatId,
            ["text"] = $"{m.Text.Title}\n{m.Text.Text}",
            ["disable_web_page_preview"] = true,
            ["disable_notification"] = NotificationSenders.Severity(m) is "info" or "cleared",
        };
        var answer = await NotificationSenders.PostAsync(http, url, NotificationSenders.Json(body), null, ct);
        bool ok;
        try
        {
            ok = JsonNode.Parse(answer) is JsonObject o && o["ok"] is JsonValue v && v.TryGetValue<bool>(out var b) && b;
        }
        catch (JsonException)
        {
            ok = false;
        }
        if (!ok) throw new NotificationSendException($"{NotificationSenders.Redact(url)}: answered {answer}");
    }
}

/// <summary>WeCom (企业微信) group robot: {"msgtype":"text"|"markdown", ...}; errcode 0 is success, 45009 (too often) is retried.</summary>
public sealed class WeComSender(NotificationTarget target, HttpClient http) : INotificationSender
{
    public async Task SendAsync(OutgoingMessage m, CancellationToken ct)
    {
        JsonObject body = target.Format == "markdown"
            ? new JsonObject { ["msgtype"] = "markdown", ["markdown"] = new JsonObject { ["content"] = m.Text.Markdown } }
            : new JsonObject { ["msgtype"] = "text", ["text"] = new JsonObject { ["content"] = $"{m.Text.Title}\n{m.Text.Text}" } };
        var answer = await NotificationSenders.PostAsync(http, target.Url!, NotificationSenders.Json(body), null, ct);
        NotificationSenders.CheckErrcode(answer, target.Url!, 45009, -1);
    }
}

/// <summary>DingTalk (钉钉) group robot: {"msgtype":"text"|"markdown", ...}; with a secret, signed with timestamp and sign in the query.</summary>
public sealed class DingTalkSender(NotificationTarget target, HttpClient http, TimeProvider clock) : INotificationSender
{
    private readonly string? secret = NotificationSenders.Secret(target.Secret, target.SecretFile);

    /// <summary>The signed robot's signature: Base64(HMAC-SHA256(secret, timestamp + "\n" + secret)), URL-encoded.</summary>
    public static string Sign(long timestampMilliseconds, string secret)
    {
        var text = string.Create(CultureInfo.InvariantCulture, $"{timestampMilliseconds}\n{secret}");
        return Uri.EscapeDataString(Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(text))));
    }

    public async Task SendAsync(OutgoingMessage m, CancellationToken ct)
    {
        var url = target.Url!;
        if (secret is not null)
        {
            var timestamp = clock.GetUtcNow().ToUnixTimeMilliseconds();
            url += (url.Contains('?') ? "&" : "?") + string.Create(CultureInfo.InvariantCulture, $"timestamp={timestamp}&sign={Sign(timestamp, secret)}");
        }
        JsonObject body = target.Format == "markdown"
            ? new JsonObject { ["msgtype"] = "markdown", ["markdown"] = new JsonObject { ["title"] = m.Text.Title, ["text"] = m.Text.Markdown } }
            : new JsonObject { ["msgtype"] = "text", ["text"] = new JsonObject { ["content"] = $"{m.Text.Title}\n{m.Text.Text}" } };
        var answer = await NotificationSenders.PostAsync(http, url, NotificationSenders.Json(body), null, ct);
        NotificationSenders.CheckErrcode(answer, target.Url!, 130101, -1);
    }
}

/// <summary>E-mail through an SMTP server (MailKit): plain UTF-8 text, the idempotency key as Message-Id.</summary>
public sealed class EmailSender(NotificationTarget target) : INotificationSender
{
    private readonly (string User, string Password)? credentials = target.CredentialsFile is { } file ? ReadCredentials(file) : null;

    private static (string, string) ReadCredentials(string file)
    {
        var lines = File.ReadAllText(file).Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        return (lines[0], lines[1]);
    }

    public MimeMessage Compose(OutgoingMessage m)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(target.From!));
        foreach (var to in target.To) message.To.Add(MailboxAddress.Parse(to));
        message.Subject = m.Text.Title;
        message.MessageId = $"{m.IdempotencyKey}@stillcontrol";
        message.Date = m.Entries[^1].CreatedAt;
        message.Headers.Add("X-StillControl-Key", m.IdempotencyKey);
        if (NotificationSenders.Severity(m) == "critical") message.Priority = MessagePriority.Urgent;
        var body = new TextPart("plain");
        body.SetText(Encoding.UTF8, m.Text.Text + "\n");
        // 7-bit on the wire whatever the server offers: base64 for Chinese text, so no relay on the way mangles it.
        body.ContentTransferEncoding = body.Text.All(c => c < 128) ? ContentEncoding.QuotedPrintable : ContentEncoding.Base64;
        message.Body = body;
        return message;
    }

    public async Task SendAsync(OutgoingMessage m, CancellationToken ct)
    {
        var message = Compose(m);
        using var client = new SmtpClient { Timeout = target.TimeoutSeconds * 1000 };
        var security = target.Tls switch
        {
            "none" => SecureSocketOptions.None,
            "starttls" => SecureSocketOptions.StartTls,
            "tls" => SecureSocketOptions.SslOnConnect,
            _ => SecureSocketOptions.Auto,
        };
        try
        {
            await client.ConnectAsync(target.Host!, target.Port ?? 0, security, ct);
            if (credentials is { } c) await client.AuthenticateAsync(c.User, c.Password, ct);
            // Headers as RFC 2047 encoded words even when the server offers SMTPUTF8.
            var format = FormatOptions.Default.Clone();
            format.International = false;
            await client.SendAsync(format, message, ct);
            await client.DisconnectAsync(true, ct);
        }
        catch (SmtpCommandException ex)
        {
            // 5xx: the server refused this message or its addresses (permanent); 4xx: try again later.
            throw new NotificationSendException($"smtp {target.Host}: {ex.StatusCode} {ex.Message}", permanent: (int)ex.StatusCode >= 500, inner: ex);
        }
        catch (AuthenticationException ex)
        {
            throw new NotificationSendException($"smtp {target.Host}: login refused ({ex.Message})", inner: ex);
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or SmtpProtocolException or SslHandshakeException or MailKit.ServiceNotConnectedException or TimeoutException
                                   || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            throw new NotificationSendException($"smtp {target.Host}: {ex.Message}", inner: ex);
        }
    }
}
