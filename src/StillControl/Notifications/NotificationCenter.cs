using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StillControl.Plant;

namespace StillControl.Notifications;

/// <summary>
/// The plant's notifications: events in (<see cref="Post"/>), rules to incidents and outbox messages, and delivery to each target
/// in order, once (<see cref="DeliverAsync"/>), with retries, de-duplication, rate-limit digests, escalation and "cleared"
/// messages. <see cref="NotificationService"/> drives the delivery in the background.
/// </summary>
public sealed class NotificationCenter : IDisposable
{
    /// <summary>Event kinds that open an incident, by category; and the kinds that close one.</summary>
    private static readonly Dictionary<string, string> Opens = new(StringComparer.Ordinal)
    {
        [PlantEventKinds.AlarmRaised] = "alarm", [PlantEventKinds.Held] = "hold", [PlantEventKinds.Advisory] = "advisory",
        [PlantEventKinds.Offline] = "offline", [PlantEventKinds.Backlog] = "backlog",
    };

    private static readonly Dictionary<string, string> Closes = new(StringComparer.Ordinal)
    {
        [PlantEventKinds.AlarmCleared] = "alarm", [PlantEventKinds.Released] = "hold", [PlantEventKinds.AdvisoryDone] = "advisory",
        [PlantEventKinds.Online] = "offline", [PlantEventKinds.BacklogCleared] = "backlog",
    };

    /// <summary>A digest carries at most this many messages; more wait for the next one.</summary>
    public const int DigestLimit = 100;
    /// <summary>A message the target refused as bad is tried this many times, then set aside (kept, with the reason) so it stops blocking the target.</summary>
    public const int PermanentFailureAttempts = 10;

    private readonly NotificationOptions options;
    private readonly TimeProvider clock;
    private readonly ILogger logger;
    private readonly HttpClient http;
    private readonly Dictionary<string, (NotificationTarget Target, INotificationSender Sender)> targets = new(StringComparer.Ordinal);
    private readonly TimeZoneInfo? zone;
    private readonly Dictionary<string, SemaphoreSlim> wake = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim escalationWake = new(0);

    public NotificationOutbox Outbox { get; }
    public IReadOnlyList<string> TargetNames { get; }

    public NotificationCenter(NotificationOptions options, TimeProvider clock, ILogger? logger = null, HttpMessageHandler? handler = null)
    {
        this.options = options;
        this.clock = clock;
        this.logger = logger ?? NullLogger.Instance;
        zone = options.TimeZone is { } id && NotificationOptionsValidator.TryZone(id, out var z) ? z : null;
        http = new HttpClient(handler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = Timeout.InfiniteTimeSpan };
        // Without targets nothing is ever queued: no file is made (a plant without notifications leaves no outbox behind).
        Outbox = new NotificationOutbox(options.Targets.Count > 0 ? options.OutboxPath : ":memory:");
        try
        {
            var names = new List<string>();
            for (var i = 0; i < options.Targets.Count; i++)
            {
                var target = options.Targets[i];
                var name = NotificationOptionsValidator.TargetName(target, i);
                targets[name] = (target, NotificationSenders.Create(target, http, clock));
                wake[name] = new SemaphoreSlim(0);
                names.Add(name);
            }
            TargetNames = names;
        }
        catch
        {
            Outbox.Dispose();
            http.Dispose();
            throw;
        }
    }

    /// <summary>
    /// One event from the plant: opens, counts or closes incidents and queues their messages in the outbox (on disk before this
    /// returns). Never throws: a malformed event or an outbox that cannot be written is logged.
    /// </summary>
    public void Post(PlantEvent e)
    {
        try
        {
            var clean = e with { Site = Clean(e.Site, 64), Still = Clean(e.Still, 64), Kind = e.Kind ?? "", Code = Clean(e.Code, 100), Message = Clean(e.Message, 500) };
            var now = clock.GetUtcNow();
            if (Opens.TryGetValue(clean.Kind, out var category))
            {
                var route = Route(clean);
                if (route.Targets.Count == 0) return;
                var (_, opened) = Outbox.Raise(clean, category, route, now);
                if (opened) Wake(route.Targets);
                if (route.EscalateAfterSeconds is not null) escalationWake.Release();
            }
            else if (Closes.TryGetValue(clean.Kind, out category))
            {
                // A release ends any hold and a still back online ends its silence; the others end the condition with their code.
                var code = clean.Kind is PlantEventKinds.Released or PlantEventKinds.Online || clean.Code.Length == 0 ? null : clean.Code;
                if (Outbox.Clear(clean, category, code, now).Count > 0) WakeAll();
            }
            else if (clean.Kind == PlantEventKinds.AlarmAcknowledged)
            {
                Outbox.Acknowledge(clean.Site, clean.Still, clean.Code.Length == 0 ? null : clean.Code, string.IsNullOrEmpty(clean.Message) ? "operator at the still" : clean.Message, clean.At);
            }
            else
            {
                logger.LogWarning("Notifications: event kind '{Kind}' from {Site}/{Still} is not one of {Kinds}; ignored", clean.Kind, clean.Site, clean.Still, string.Join(", ", PlantEventKinds.All));
            }
        }
        catch (SqliteException ex)
        {
            logger.LogError("Notifications: outbox {Path} cannot be written ({Message}); event {Kind} {Code} from {Site}/{Still} not queued", Outbox.Path, ex.Message, e.Kind, e.Code, e.Site, e.Still);
        }
    }

    /// <summary>Acknowledges a still's open incidents (one code, or all when null) from the API: nobody is escalated to for them. Returns how many.</summary>
    public int Acknowledge(string site, string still, string? code, string by) =>
        Outbox.Acknowledge(site, still, string.IsNullOrEmpty(code) ? null : code, by, clock.GetUtcNow());

    /// <summary>The rules matching the event, together: every target of any, the highest severity, the earliest escalation.</summary>
    public Route Route(PlantEvent e)
    {
        var targetList = new List<string>();
        var escalate = new List<string>();
        int? after = null;
        var severity = "info";
        var cleared = false;
        foreach (var rule in options.Rules)
        {
            if (!Matches(rule.Kinds, e.Kind) || !Matches(rule.Codes, e.Code) || !Matches(rule.Stills, e.Still) || !Matches(rule.Sites, e.Site)) continue;
            foreach (var t in rule.Targets) if (!targetList.Contains(t)) targetList.Add(t);
            if (Rank(rule.Severity) > Rank(severity)) severity = rule.Severity;
            cleared |= rule.Cleared;
            if (rule.EscalateTo.Count > 0 && rule.EscalateAfterSeconds is { } seconds)
            {
                after = after is { } a ? Math.Min(a, seconds) : seconds;
                foreach (var t in rule.EscalateTo) if (!escalate.Contains(t)) escalate.Add(t);
            }
        }
        return new Route(targetList.Where(targets.ContainsKey).ToList(), severity, escalate.Where(targets.ContainsKey).ToList(), after, cleared);
    }

    private static bool Matches(List<string> accepted, string value) =>
        accepted.Count == 0 || accepted.Any(a => a == "*" || string.Equals(a, value, StringComparison.OrdinalIgnoreCase));

    private static int Rank(string severity) => severity switch { "critical" => 3, "warning" => 2, _ => 1 };

    /// <summary>Queues the escalation messages that are due; returns when the next escalation falls due (null: none waits).</summary>
    public DateTimeOffset? CheckEscalations()
    {
        try
        {
            var escalated = Outbox.Escalate(clock.GetUtcNow());
            if (escalated.Count > 0) WakeAll();
            return Outbox.NextEscalation();
        }
        catch (SqliteException ex)
        {
            logger.LogError("Notifications: outbox {Path}: {Message}", Outbox.Path, ex.Message);
            return clock.GetUtcNow() + TimeSpan.FromSeconds(30);
        }
    }

    /// <summary>
    /// Delivers the target's due messages in order, one at a time (or, at the last message its rate limit allows in the window,
    /// everything waiting as one digest), until it has none, fails (then it waits, with backoff) or is rate-limited. Returns
    /// when to try again (null: nothing waits).
    /// </summary>
    public async Task<DateTimeOffset?> DeliverAsync(string targetName, CancellationToken cancellationToken)
    {
        var (target, sender) = targets[targetName];
        while (!cancellationToken.IsCancellationRequested)
        {
            var now = clock.GetUtcNow();
            var state = Outbox.State(targetName);
            if (state.NextAttempt is { } next && next > now) return next;
            var pending = Outbox.Pending(targetName, DigestLimit);
            if (pending.Count == 0) return null;

            var batch = pending.Take(1).ToList();
            if (target.RateLimitCount > 0)
            {
                var window = TimeSpan.FromSeconds(target.RateLimitSeconds);
                var sent = Outbox.SendsSince(targetName, now - window);
                if (sent.Count >= target.RateLimitCount) return sent[sent.Count - target.RateLimitCount] + window;
                if (target.RateLimitCount - sent.Count == 1 && pending.Count > 1) batch = pending;
            }

            var message = Compose(targetName, target, batch);
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(target.TimeoutSeconds));
                await sender.SendAsync(message, timeout.Token);
            }
            catch (Exception ex) when (ex is NotificationSendException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                var error = ex is NotificationSendException ? ex.Message : $"no answer within {target.TimeoutSeconds} s";
                var permanent = ex is NotificationSendException { Permanent: true };
                var failures = state.Failures + 1;
                if (permanent && failures >= PermanentFailureAttempts)
                {
                    logger.LogError("Notifications: {Target} refused message {Key} {Failures} times ({Error}); set aside in the outbox, the next ones go on", targetName, message.IdempotencyKey, failures, error);
                    Outbox.MarkFailed(targetName, batch.Select(b => b.Seq).ToList(), error);
                    continue;
                }
                var delay = Backoff(failures);
                logger.LogWarning("Notifications: {Target}: {Error}; {Waiting} waiting, next try in {Delay:0} s", targetName, error, pending.Count, delay.TotalSeconds);
                var retryAt = clock.GetUtcNow() + delay;
                Outbox.SetState(targetName, new TargetState(failures, retryAt, error));
                return retryAt;
            }
            Outbox.MarkSent(targetName, batch.Select(b => b.Seq).ToList(), message.IdempotencyKey, clock.GetUtcNow());
            logger.LogInformation("Notifications: {Target} took {Key} ({Type}, {Count} message(s))", targetName, message.IdempotencyKey, message.Type, batch.Count);
        }
        return null;
    }

    /// <summary>Exponential backoff with jitter: initial × 2^(failures−1), at most the maximum, each between 80 % and 120 % of that.</summary>
    public TimeSpan Backoff(int failures)
    {
        var seconds = Math.Min(options.RetryMaximumSeconds, options.RetryInitialSeconds * Math.Pow(2, Math.Min(failures - 1, 30)));
        return TimeSpan.FromSeconds(seconds * (0.8 + 0.4 * Random.Shared.NextDouble()));
    }

    private OutgoingMessage Compose(string name, NotificationTarget target, List<OutboxEntry> batch)
    {
        if (batch.Count == 1)
        {
            var one = batch[0];
            return new OutgoingMessage($"{Outbox.InstanceId}-{one.Seq}", one.Type, one.Incident.Severity, target.Language, NotificationText.Render(one, target.Language, zone), batch, zone);
        }
        var severity = batch.Select(b => b.Incident.Severity).MaxBy(Rank)!;
        return new OutgoingMessage(
            string.Create(CultureInfo.InvariantCulture, $"{Outbox.InstanceId}-{batch[0].Seq}-{batch[^1].Seq}"), "digest", severity, target.Language,
            NotificationText.Digest(batch, target.Language, zone), batch, zone);
    }

    internal SemaphoreSlim WakeSignal(string target) => wake[target];
    internal SemaphoreSlim EscalationSignal => escalationWake;

    private void Wake(IEnumerable<string> names)
    {
        foreach (var name in names) if (wake.TryGetValue(name, out var s)) s.Release();
    }

    private void WakeAll() => Wake(wake.Keys);

    /// <summary>Text from a still as one line's worth of printable characters, cut to a length every target takes.</summary>
    private static string Clean(string? text, int max)
    {
        if (string.IsNullOrEmpty(text)) return "";
        var s = new StringBuilder(Math.Min(text.Length, max));
        foreach (var c in text)
        {
            if (s.Length >= max) break;
            s.Append(char.IsControl(c) || char.IsSurrogate(c) ? ' ' : c);
        }
        return s.ToString().Trim();
    }

    public void Dispose()
    {
        Outbox.Dispose();
        http.Dispose();
    }
}
