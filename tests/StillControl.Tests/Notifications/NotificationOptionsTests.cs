using Microsoft.Extensions.Configuration;
using StillControl.Plant;

namespace StillControl.Notifications;

/// <summary>Every bad target or rule is named with its key, its value and what is accepted, through the plant's own check.</summary>
public sealed class NotificationOptionsTests
{
    private static List<string> Problems(string json)
    {
        using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json));
        var configuration = new ConfigurationBuilder().AddJsonStream(stream).Build();
        return PlantHost.Problems(configuration);
    }

    [Theory]
    [InlineData("""{ "Kind": "webhook" }""", "Notifications:Targets:0:Url = \"\": an absolute http:// or https:// address")]
    [InlineData("""{ "Kind": "webhook", "Url": "ftp://127.0.0.1/x" }""", "Notifications:Targets:0:Url = \"ftp://127.0.0.1/x\": an absolute http:// or https:// address")]
    [InlineData("""{ "Kind": "ntfy", "Url": "http://127.0.0.1/t", "Language": "fr" }""", "Notifications:Targets:0:Language = \"fr\": one of zh-CN, en")]
    [InlineData("""{ "Kind": "ntfy", "Url": "http://127.0.0.1/t", "RateLimitCount": -1 }""", "Notifications:Targets:0:RateLimitCount = -1: 0 (no limit) to 10000 messages")]
    [InlineData("""{ "Kind": "telegram", "ChatId": "1" }""", "Notifications:Targets:0:BotToken = \"\": missing; set it (e.g. from a STILLCONTROL_ variable) or Notifications:Targets:0:BotTokenFile")]
    [InlineData("""{ "Kind": "telegram", "BotToken": "1:a" }""", "Notifications:Targets:0:ChatId = \"\": the chat's id (a number) or @channel name")]
    [InlineData("""{ "Kind": "telegram", "ChatId": "1", "BotTokenFile": "/nonexistent/token" }""", "Notifications:Targets:0:BotTokenFile = \"/nonexistent/token\": cannot be read")]
    [InlineData("""{ "Kind": "wecom", "Url": "http://127.0.0.1/w", "Format": "html" }""", "Notifications:Targets:0:Format = \"html\": one of text, markdown")]
    [InlineData("""{ "Kind": "dingtalk", "Url": "http://127.0.0.1/d", "Secret": "a", "SecretFile": "/etc/hostname" }""", "Notifications:Targets:0:Secret and Notifications:Targets:0:SecretFile: both set; give one")]
    [InlineData("""{ "Kind": "email", "Host": "127.0.0.1", "From": "a@example.org", "To": [] }""", "Notifications:Targets:0:To: empty; one or more mail addresses")]
    [InlineData("""{ "Kind": "email", "Host": "127.0.0.1", "From": "a@example.org", "To": [ "b@example.org" ], "Port": 70000 }""", "Notifications:Targets:0:Port = 70000: 1 to 65535")]
    [InlineData("""{ "Kind": "email", "Host": "127.0.0.1", "From": "a@example.org", "To": [ "b@example.org" ], "Tls": "ssl" }""", "Notifications:Targets:0:Tls = \"ssl\": one of none, starttls, tls, auto")]
    [InlineData("""{ "Kind": "email", "From": "a@example.org", "To": [ "b@example.org" ] }""", "Notifications:Targets:0:Host = \"\": the SMTP server's host name or address")]
    [InlineData("""{ "Kind": "webhook", "Url": "http://127.0.0.1/x", "ChatId": "5" }""", "Notifications:Targets:0:ChatId: not used by Kind webhook; its keys: Name, Kind, Language, RateLimitCount, RateLimitSeconds, TimeoutSeconds, Url, Secret, SecretFile")]
    [InlineData("""{ "Kind": "webhook", "Url": "http://127.0.0.1/x", "Name": "a b" }""", "Notifications:Targets:0:Name = \"a b\": 1-64 letters, digits, '-' or '_'")]
    [InlineData("""{ "Kind": "webhook", "Url": "http://127.0.0.1/x", "TimeoutSeconds": "soon" }""", "Notifications:Targets:0:TimeoutSeconds = \"soon\": a whole number")]
    [InlineData("""{ "Kind": "webhook", "Url": "http://127.0.0.1/x", "Colour": "red" }""", "Notifications:Targets:0:Colour: unknown key 'Colour' under Notifications:Targets:0; accepted: Name, Kind, Url")]
    public void A_bad_target_is_named_with_its_key_value_and_what_is_accepted(string target, string expected)
    {
        var problems = Problems($$"""{ "Notifications": { "Targets": [ {{target}} ] } }""");
        Assert.True(problems.Any(p => p.StartsWith(expected, StringComparison.Ordinal)), $"expected '{expected}' among:\n{string.Join("\n", problems)}");
    }

    [Theory]
    [InlineData("""{ "Targets": [] }""", "Notifications:Rules:0:Targets: empty; the names of one or more of hook")]
    [InlineData("""{ "Targets": [ "hook" ], "Severity": "urgent" }""", "Notifications:Rules:0:Severity = \"urgent\": one of critical, warning, info")]
    [InlineData("""{ "Targets": [ "hook" ], "EscalateTo": [ "hook" ] }""", "Notifications:Rules:0:EscalateAfterSeconds: missing; with EscalateTo, the seconds to wait for an acknowledgement (10 to 604800)")]
    [InlineData("""{ "Targets": [ "hook" ], "EscalateAfterSeconds": 600 }""", "Notifications:Rules:0:EscalateAfterSeconds = 600: needs EscalateTo")]
    [InlineData("""{ "Targets": [ "hook" ], "EscalateTo": [ "boss" ], "EscalateAfterSeconds": 5 }""", "Notifications:Rules:0:EscalateAfterSeconds = 5: 10 to 604800")]
    [InlineData("""{ "Targets": [ "hook" ], "EscalateTo": [ "boss" ], "EscalateAfterSeconds": 60 }""", "Notifications:Rules:0:EscalateTo:0 = \"boss\": not a target's name; one of hook")]
    [InlineData("""{ "Targets": [ "hook" ], "Kinds": [ "alarm-cleared" ] }""", "Notifications:Rules:0:Kinds:0 = \"alarm-cleared\": one of alarm-raised, held, advisory, offline, backlog")]
    [InlineData("""{ "Targets": [ "hook" ], "Stills": [ " " ] }""", "Notifications:Rules:0:Stills:0 = \" \": a name, or * for any")]
    public void A_bad_rule_is_named_with_its_key_value_and_what_is_accepted(string rule, string expected)
    {
        var problems = Problems($$"""{ "Notifications": { "Targets": [ { "Name": "hook", "Kind": "webhook", "Url": "http://127.0.0.1/x" } ], "Rules": [ {{rule}} ] } }""");
        Assert.True(problems.Any(p => p.StartsWith(expected, StringComparison.Ordinal)), $"expected '{expected}' among:\n{string.Join("\n", problems)}");
    }

    [Fact]
    public void Two_targets_with_one_name_and_rules_without_targets_are_refused()
    {
        var problems = Problems("""
            { "Notifications": { "Targets": [ { "Name": "x", "Kind": "webhook", "Url": "http://127.0.0.1/a" }, { "Name": "x", "Kind": "ntfy", "Url": "http://127.0.0.1/b" } ] } }
            """);
        Assert.Contains("Notifications:Targets:1:Name = \"x\": already the name of Notifications:Targets:0; each target needs its own name", problems);
        problems = Problems("""{ "Notifications": { "Rules": [ { "Targets": [ "x" ] } ] } }""");
        Assert.Contains("Notifications:Targets: empty, but Notifications:Rules name targets; add the targets they send to", problems);
        problems = Problems("""{ "Notifications": { "TimeZone": "Mars/Olympus", "OutboxPath": "" } }""");
        Assert.Contains("Notifications:TimeZone = \"Mars/Olympus\": an IANA time zone such as Asia/Shanghai or UTC", problems);
        Assert.Contains("Notifications:OutboxPath = \"\": a file path for the SQLite outbox", problems);
    }

    [Fact]
    public void Every_example_in_the_documentation_passes_the_check()
    {
        var doc = File.ReadAllText(Path.Combine(TestFiles.Repository(), "docs", "notifications.md"));
        var blocks = System.Text.RegularExpressions.Regex.Matches(doc, "```json\\n(.*?)```", System.Text.RegularExpressions.RegexOptions.Singleline);
        Assert.True(blocks.Count >= 2, "docs/notifications.md has no json examples");
        using var files = new TestFiles();
        // The examples refer to secret files under /etc/stillcontrol; here they are made in a temporary folder instead.
        foreach (var name in new[] { "telegram-token", "smtp-credentials", "dingtalk-secret", "ntfy-token" }) files.Write(name, name == "smtp-credentials" ? "plant\nsecret\n" : "value\n");
        foreach (System.Text.RegularExpressions.Match block in blocks)
        {
            var json = block.Groups[1].Value.Replace("/etc/stillcontrol/", files.Folder + "/", StringComparison.Ordinal);
            Assert.Empty(Problems(json));
        }
    }

    [Fact]
    public void Configuration_bound_from_json_matches_what_the_center_routes()
    {
        using var files = new TestFiles();
        var problems = Problems("""{ "Notifications": { "Targets": [ { "Name": "hook", "Kind": "webhook", "Url": "http://127.0.0.1/x" } ], "Rules": [ { "Targets": [ "hook" ], "Kinds": [ "offline" ] } ] } }""");
        Assert.Empty(problems);
        var options = new NotificationOptions
        {
            OutboxPath = files.PathOf("o.db"),
            Targets = [CenterFixture.Webhook("hook", "http://127.0.0.1:9/x")],
            Rules = [new NotificationRule { Targets = ["hook"], Kinds = ["offline"], Codes = ["*"], Sites = ["HALL-A"] }],
        };
        using var center = new NotificationCenter(options, TimeProvider.System);
        Assert.Equal(["hook"], center.Route(new PlantEvent("hall-a", "s", "offline", "still-offline", "", DateTimeOffset.UtcNow)).Targets);
        Assert.Empty(center.Route(new PlantEvent("hall-b", "s", "offline", "still-offline", "", DateTimeOffset.UtcNow)).Targets);
        Assert.Empty(center.Route(new PlantEvent("hall-a", "s", "alarm-raised", "x", "", DateTimeOffset.UtcNow)).Targets);
    }
}
