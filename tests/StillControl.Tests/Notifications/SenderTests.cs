using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace StillControl.Notifications;

/// <summary>Each kind of target against a real local receiver: what arrives on the wire, as that service documents it.</summary>
public sealed class SenderTests
{
    private static async Task<(CenterFixture Fixture, ReceivedRequest Request)> SendOneAsync(HttpReceiver receiver, NotificationTarget target, string kind = "alarm-raised", string code = "over-pressure")
    {
        var fixture = new CenterFixture(new NotificationOptions { Targets = [target], Rules = [CenterFixture.All(target.Name!)] });
        fixture.Center.Post(fixture.Event(kind, code, message: "Steam pressure 95 kPa, above 80 kPa"));
        await fixture.DeliverAllAsync();
        var requests = await receiver.WaitForAsync(1);
        Assert.Single(requests);
        return (fixture, requests[0]);
    }

    [Fact]
    public async Task Webhook_posts_json_with_every_field_an_idempotency_key_and_a_signature_of_the_body()
    {
        using var receiver = new HttpReceiver();
        var target = CenterFixture.Webhook("hook", receiver.Url + "/hooks/still");
        target.Secret = "s3cret";
        var (fixture, request) = await SendOneAsync(receiver, target);
        using var _ = fixture;
        Assert.Equal("POST", request.Method);
        Assert.Equal("/hooks/still", request.PathAndQuery);
        Assert.StartsWith("application/json", request.Header("Content-Type"));
        var body = JsonNode.Parse(request.Body)!.AsObject();
        Assert.Equal("raised", (string?)body["type"]);
        Assert.Equal("hall-a", (string?)body["site"]);
        Assert.Equal("still-1", (string?)body["still"]);
        Assert.Equal("alarm", (string?)body["kind"]);
        Assert.Equal("over-pressure", (string?)body["code"]);
        Assert.Equal("critical", (string?)body["severity"]);
        Assert.Equal("Steam pressure 95 kPa, above 80 kPa", (string?)body["message"]);
        Assert.Equal(1, (int?)body["count"]);
        Assert.Equal("2026-11-30T14:00:00.0000000+08:00", (string?)body["at"]);
        Assert.Equal("2026-11-30T06:00:00.000Z", (string?)body["atUtc"]);
        Assert.Equal($"{fixture.Center.Outbox.InstanceId}-1", (string?)body["id"]);
        Assert.Equal((string?)body["id"], request.Header("Idempotency-Key"));
        var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData("s3cret"u8.ToArray(), Encoding.UTF8.GetBytes(request.Body)));
        Assert.Equal(expected, request.Header("X-StillControl-Signature"));
        Assert.Single(body["items"]!.AsArray());
    }

    [Fact]
    public async Task Ntfy_posts_the_text_with_title_priority_and_tags_headers_and_a_chinese_title_encoded()
    {
        using var receiver = new HttpReceiver();
        var target = new NotificationTarget { Name = "phone", Kind = "ntfy", Url = receiver.Url + "/stills-hall-a", Token = "tk_abc" };
        var (fixture, request) = await SendOneAsync(receiver, target);
        using var _ = fixture;
        Assert.Equal("/stills-hall-a", request.PathAndQuery);
        Assert.Equal("5", request.Header("Priority"));
        Assert.Equal("rotating_light", request.Header("Tags"));
        Assert.Equal("Bearer tk_abc", request.Header("Authorization"));
        var title = request.Header("Title")!;
        var encoded = System.Text.RegularExpressions.Regex.Match(title, @"^=\?UTF-8\?B\?(.+)\?=$");
        Assert.True(encoded.Success, title);
        Assert.Equal("【跳闸】hall-a/still-1：over-pressure", Encoding.UTF8.GetString(Convert.FromBase64String(encoded.Groups[1].Value)));
        Assert.StartsWith("Steam pressure 95 kPa, above 80 kPa\n站点 hall-a，甑桶 still-1，代码 over-pressure\n时间 2026-11-30 14:00:00 +08:00（UTC 06:00:00）", request.Body);
    }

    [Fact]
    public async Task Telegram_calls_sendMessage_with_the_chat_and_the_text_and_the_token_from_a_file()
    {
        using var receiver = new HttpReceiver();
        using var files = new TestFiles();
        var tokenFile = files.Write("bot-token", "123456:ABC-token\n");
        var target = new NotificationTarget { Name = "tg", Kind = "telegram", Url = receiver.Url, BotTokenFile = tokenFile, ChatId = "-1001234", Language = "en" };
        var (fixture, request) = await SendOneAsync(receiver, target, "held", "heat-balance");
        using var _ = fixture;
        Assert.Equal("/bot123456:ABC-token/sendMessage", request.PathAndQuery);
        var body = JsonNode.Parse(request.Body)!.AsObject();
        Assert.Equal("-1001234", (string?)body["chat_id"]);
        Assert.StartsWith("[HOLD] hall-a/still-1: heat-balance\nSteam pressure 95 kPa, above 80 kPa\nSite hall-a, still still-1, code heat-balance\nAt 2026-11-30 14:00:00 +08:00 (06:00:00 UTC)", (string?)body["text"]);
    }

    [Fact]
    public async Task Telegram_answer_ok_false_is_a_failure_and_the_message_stays_queued()
    {
        using var receiver = new HttpReceiver { Answer = _ => (200, "{\"ok\":false,\"description\":\"chat not found\"}") };
        var target = new NotificationTarget { Name = "tg", Kind = "telegram", Url = receiver.Url, BotToken = "1:x", ChatId = "5" };
        using var fixture = new CenterFixture(new NotificationOptions { Targets = [target], Rules = [CenterFixture.All("tg")] });
        fixture.Center.Post(fixture.Event("alarm-raised", "over-pressure"));
        var retry = await fixture.Center.DeliverAsync("tg", CancellationToken.None);
        Assert.NotNull(retry);
        Assert.Equal(1, fixture.Center.Outbox.PendingCount("tg"));
        Assert.Contains("chat not found", fixture.Center.Outbox.State("tg").LastError);
        Assert.DoesNotContain("1:x", fixture.Center.Outbox.State("tg").LastError);
    }

    [Theory]
    [InlineData("text")]
    [InlineData("markdown")]
    public async Task WeCom_robot_gets_its_msgtype_body(string format)
    {
        using var receiver = new HttpReceiver();
        var target = new NotificationTarget { Name = "wecom", Kind = "wecom", Url = receiver.Url + "/cgi-bin/webhook/send?key=KEY-1", Format = format };
        var (fixture, request) = await SendOneAsync(receiver, target, "advisory", "cover-layer");
        using var _ = fixture;
        Assert.Equal("/cgi-bin/webhook/send?key=KEY-1", request.PathAndQuery);
        var body = JsonNode.Parse(request.Body)!.AsObject();
        Assert.Equal(format, (string?)body["msgtype"]);
        var content = (string?)body[format]!["content"];
        if (format == "text") Assert.StartsWith("【等待操作】hall-a/still-1：cover-layer\n", content);
        else Assert.StartsWith("### 【等待操作】hall-a/still-1：cover-layer\n\n", content);
    }

    [Fact]
    public async Task WeCom_errcode_refusal_keeps_the_message_queued()
    {
        using var receiver = new HttpReceiver { Answer = _ => (200, "{\"errcode\":93000,\"errmsg\":\"invalid webhook url\"}") };
        var target = new NotificationTarget { Name = "wecom", Kind = "wecom", Url = receiver.Url + "/send?key=bad" };
        using var fixture = new CenterFixture(new NotificationOptions { Targets = [target], Rules = [CenterFixture.All("wecom")] });
        fixture.Center.Post(fixture.Event("alarm-raised", "over-pressure"));
        Assert.NotNull(await fixture.Center.DeliverAsync("wecom", CancellationToken.None));
        Assert.Equal(1, fixture.Center.Outbox.PendingCount("wecom"));
        Assert.Contains("93000", fixture.Center.Outbox.State("wecom").LastError);
    }

    [Fact]
    public async Task DingTalk_signed_robot_gets_timestamp_and_a_sign_the_receiver_can_check()
    {
        const string secret = "SECabcdef0123456789";
        using var receiver = new HttpReceiver();
        var target = new NotificationTarget { Name = "ding", Kind = "dingtalk", Url = receiver.Url + "/robot/send?access_token=TOKEN", Secret = secret, Format = "markdown", Language = "en" };
        var (fixture, request) = await SendOneAsync(receiver, target, "offline", "still-offline");
        using var _ = fixture;
        var query = System.Web.HttpUtility.ParseQueryString(new Uri(receiver.Url + request.PathAndQuery).Query);
        Assert.Equal("TOKEN", query["access_token"]);
        var timestamp = long.Parse(query["timestamp"]!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(fixture.Clock.GetUtcNow().ToUnixTimeMilliseconds(), timestamp);
        // As DingTalk checks it: Base64(HMAC-SHA256 over "timestamp\nsecret" with the secret as key).
        var expected = Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}\n{secret}")));
        Assert.Equal(expected, query["sign"]);
        var body = JsonNode.Parse(request.Body)!.AsObject();
        Assert.Equal("markdown", (string?)body["msgtype"]);
        Assert.Equal("[STILL OFFLINE] hall-a/still-1: still-offline", (string?)body["markdown"]!["title"]);
        Assert.StartsWith("### \\[STILL OFFLINE\\] hall-a/still-1: still-offline\n\n", (string?)body["markdown"]!["text"]);
        Assert.Contains("Site hall-a, still still-1, code still-offline", (string?)body["markdown"]!["text"]);
    }

    [Fact]
    public async Task Email_arrives_at_a_real_smtp_server_with_a_chinese_subject_and_utf8_body_after_login()
    {
        using var sink = new SmtpSink("plant", "pa55word");
        using var files = new TestFiles();
        var credentials = files.Write("smtp-credentials", "plant\npa55word\n");
        var target = new NotificationTarget
        {
            Name = "mail", Kind = "email", Host = "127.0.0.1", Port = sink.Port, Tls = "none", CredentialsFile = credentials,
            From = "StillControl <plant@example.org>", To = ["shift@example.org", "manager@example.org"],
        };
        using var fixture = new CenterFixture(new NotificationOptions { Targets = [target], Rules = [CenterFixture.All("mail")] });
        fixture.Center.Post(fixture.Event("alarm-raised", "over-pressure", message: "蒸汽压力 95 kPa，超过 80 kPa"));
        await fixture.DeliverAllAsync();
        var mail = Assert.Single(await sink.WaitForAsync(1));
        Assert.Equal("plant", mail.Login);
        Assert.Equal("plant@example.org", mail.MailFrom);
        Assert.Equal(["shift@example.org", "manager@example.org"], mail.RcptTos);
        Assert.Equal("【跳闸】hall-a/still-1：over-pressure", mail.Subject);
        Assert.Equal("text/plain", mail.ContentType);
        Assert.Equal("utf-8", mail.Charset);
        Assert.Equal("蒸汽压力 95 kPa，超过 80 kPa\n站点 hall-a，甑桶 still-1，代码 over-pressure\n时间 2026-11-30 14:00:00 +08:00（UTC 06:00:00）\n", mail.Body.Replace("\r\n", "\n"));
        Assert.Equal($"<{fixture.Center.Outbox.InstanceId}-1@stillcontrol>", mail.MessageId);
        // Only ASCII on the wire: the subject as an encoded word, the body in a transfer encoding.
        Assert.True(mail.Raw.All(c => c < 128 && c != '\uFFFD'), "the raw message has 8-bit bytes");
        Assert.Equal(0, fixture.Center.Outbox.PendingCount());
    }

    [Fact]
    public async Task Email_with_a_wrong_password_stays_queued_and_goes_once_the_login_works()
    {
        using var sink = new SmtpSink("plant", "right");
        using var files = new TestFiles();
        var credentials = files.Write("smtp-credentials", "plant\nwrong\n");
        var target = new NotificationTarget { Name = "mail", Kind = "email", Host = "127.0.0.1", Port = sink.Port, Tls = "none", CredentialsFile = credentials, From = "plant@example.org", To = ["shift@example.org"] };
        using var fixture = new CenterFixture(new NotificationOptions { Targets = [target], Rules = [CenterFixture.All("mail")] });
        fixture.Center.Post(fixture.Event("alarm-raised", "over-pressure"));
        Assert.NotNull(await fixture.Center.DeliverAsync("mail", CancellationToken.None));
        Assert.Empty(sink.Mails());
        Assert.Equal(1, fixture.Center.Outbox.PendingCount("mail"));
        File.WriteAllText(credentials, "plant\nright\n");
        fixture.Restart();
        fixture.Clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Null(await fixture.Center.DeliverAsync("mail", CancellationToken.None));
        Assert.Single(await sink.WaitForAsync(1));
    }

    [Fact]
    public async Task A_message_the_receiver_refuses_as_bad_is_set_aside_after_repeated_refusals_and_the_next_one_goes()
    {
        using var receiver = new HttpReceiver();
        receiver.Answer = r => r.Body.Contains("bad-one") ? (400, "no") : (200, "{}");
        var target = CenterFixture.Webhook("hook", receiver.Url);
        using var fixture = new CenterFixture(new NotificationOptions { Targets = [target], Rules = [CenterFixture.All("hook")], RetryMaximumSeconds = 60 });
        fixture.Center.Post(fixture.Event("alarm-raised", "bad-one"));
        fixture.Center.Post(fixture.Event("alarm-raised", "good-one"));
        // Each round tries once and then waits exactly the backoff it was given (a fixed step missed tries: the backoff's
        // jitter takes it up to 72 s at the 60 s maximum, and the test then ran out of rounds before the tenth refusal).
        for (var i = 0; i < NotificationCenter.PermanentFailureAttempts + 2 && receiver.Requests.Count == 0; i++)
        {
            var next = await fixture.Center.DeliverAsync("hook", CancellationToken.None);
            if (next is { } at && at > fixture.Clock.GetUtcNow()) fixture.Clock.Advance(at - fixture.Clock.GetUtcNow());
        }
        var request = Assert.Single(await receiver.WaitForAsync(1));
        Assert.Contains("good-one", request.Body);
        Assert.Equal(0, fixture.Center.Outbox.PendingCount());
    }
}
