using Microsoft.Extensions.Time.Testing;
using StillControl.Plant;

namespace StillControl.Notifications;

/// <summary>A notification center on a fresh outbox file and a clock the test moves.</summary>
public sealed class CenterFixture : IDisposable
{
    public TestFiles Files { get; } = new();
    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 11, 30, 6, 0, 0, TimeSpan.Zero));
    public NotificationOptions Options { get; }
    public NotificationCenter Center { get; private set; }

    public CenterFixture(NotificationOptions options)
    {
        Options = options;
        if (options.OutboxPath == new NotificationOptions().OutboxPath) options.OutboxPath = Files.PathOf("outbox.db");
        var failures = NotificationOptionsValidator.Check(options);
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Center = new NotificationCenter(options, Clock);
    }

    /// <summary>Stops the center as a process stop would, and starts a new one on the same outbox.</summary>
    public void Restart()
    {
        Center.Dispose();
        Center = new NotificationCenter(Options, Clock);
    }

    /// <summary>An event at the still, in the still's local time (Beijing, +08:00), "now" on the test's clock.</summary>
    public PlantEvent Event(string kind, string code, string still = "still-1", string message = "", string site = "hall-a") =>
        new(site, still, kind, code, message.Length == 0 ? $"{code} at {still}" : message, Clock.GetUtcNow().ToOffset(TimeSpan.FromHours(8)));

    /// <summary>Delivers every target's due messages, as the background service would at this moment.</summary>
    public async Task DeliverAllAsync()
    {
        Center.CheckEscalations();
        foreach (var name in Center.TargetNames) await Center.DeliverAsync(name, CancellationToken.None);
    }

    public void Dispose()
    {
        Center.Dispose();
        Files.Dispose();
    }

    public static NotificationTarget Webhook(string name, string url, string language = "en") => new() { Name = name, Kind = "webhook", Url = url, Language = language };

    public static NotificationRule All(params string[] targets) => new() { Targets = [.. targets], Severity = "critical" };
}
