using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using StillControl.Plant;

namespace StillControl.Notifications;

/// <summary>One condition at one still (a trip, a hold, an advisory, a silence, a backlog) from when it opened until it cleared.</summary>
public sealed record Incident(
    long Id, string Site, string Still, string Category, string Code, string Message, string Severity,
    DateTimeOffset OpenedAt, DateTimeOffset LastAt, int Count,
    DateTimeOffset? AcknowledgedAt, string? AcknowledgedBy, DateTimeOffset? EscalatedAt, int? EscalateAfterSeconds,
    DateTimeOffset? ClearedAt, string? ClearedMessage);

/// <summary>One message for one target, waiting in the outbox or sent. Type: raised, escalation or cleared.</summary>
public sealed record OutboxEntry(long Seq, string Target, string Type, Incident Incident, DateTimeOffset CreatedAt);

/// <summary>Where the events of one incident go (the matching rules together).</summary>
public sealed record Route(IReadOnlyList<string> Targets, string Severity, IReadOnlyList<string> EscalateTo, int? EscalateAfterSeconds, bool Cleared);

/// <summary>A target's delivery state: consecutive failures and when to try again.</summary>
public sealed record TargetState(int Failures, DateTimeOffset? NextAttempt, string? LastError);

/// <summary>
/// The persistent outbox: incidents and the messages owed to each target, in one SQLite file written before anything is sent,
/// so what was queued survives a restart. Every message has a sequence number; a target is given its messages in that order,
/// and a message is marked sent once, when the target took it.
/// </summary>
public sealed class NotificationOutbox : IDisposable
{
    private readonly SqliteConnection db;
    private readonly Lock gate = new();

    /// <summary>Random per outbox file: idempotency keys stay unique when a new outbox file starts its numbers again.</summary>
    public string InstanceId { get; }
    public string Path { get; }

    public NotificationOutbox(string path)
    {
        Path = path;
        if (path != ":memory:" && System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path)) is { } folder) Directory.CreateDirectory(folder);
        db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        try
        {
            db.Open();
            Execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000;");
            Execute("""
                CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS incidents(
                  id INTEGER PRIMARY KEY AUTOINCREMENT,
                  site TEXT NOT NULL, still TEXT NOT NULL, category TEXT NOT NULL, code TEXT NOT NULL,
                  message TEXT NOT NULL, severity TEXT NOT NULL,
                  opened_at TEXT NOT NULL, last_at TEXT NOT NULL, count INTEGER NOT NULL,
                  targets TEXT NOT NULL, escalate_to TEXT NOT NULL, escalate_after INTEGER, escalate_due INTEGER, notify_cleared INTEGER NOT NULL,
                  acknowledged_at TEXT, acknowledged_by TEXT, escalated_at TEXT, cleared_at TEXT, cleared_message TEXT);
                CREATE UNIQUE INDEX IF NOT EXISTS incidents_open ON incidents(site, still, category, code) WHERE cleared_at IS NULL;
                CREATE TABLE IF NOT EXISTS outbox(
                  seq INTEGER PRIMARY KEY AUTOINCREMENT, target TEXT NOT NULL, incident INTEGER NOT NULL REFERENCES incidents(id),
                  type TEXT NOT NULL, created_at INTEGER NOT NULL, sent_at INTEGER, delivered_as TEXT, failed TEXT);
                CREATE INDEX IF NOT EXISTS outbox_pending ON outbox(target, seq) WHERE sent_at IS NULL AND failed IS NULL;
                CREATE TABLE IF NOT EXISTS sends(target TEXT NOT NULL, at INTEGER NOT NULL);
                CREATE INDEX IF NOT EXISTS sends_target ON sends(target, at);
                CREATE TABLE IF NOT EXISTS target_state(target TEXT PRIMARY KEY, failures INTEGER NOT NULL, next_attempt INTEGER, last_error TEXT);
                """);
            using (var tx = Begin())
            {
                var id = Scalar("SELECT value FROM meta WHERE key = 'instance'") as string;
                if (id is null)
                {
                    id = Guid.NewGuid().ToString("N")[..12];
                    Execute("INSERT INTO meta(key, value) VALUES ('instance', $v)", ("$v", id));
                }
                InstanceId = id;
                tx.Commit();
            }
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A condition opened: a new incident with a "raised" message for each route target, or, while the same still+category+code
    /// is still open, one more count on the open incident (returned with opened = false; no new message).
    /// </summary>
    public (long Id, bool Opened) Raise(PlantEvent e, string category, Route route, DateTimeOffset now)
    {
        lock (gate)
        {
            using var tx = Begin();
            var existing = Scalar("SELECT id FROM incidents WHERE site = $site AND still = $still AND category = $cat AND code = $code AND cleared_at IS NULL",
                ("$site", e.Site), ("$still", e.Still), ("$cat", category), ("$code", e.Code));
            if (existing is long id)
            {
                Execute("UPDATE incidents SET count = count + 1, last_at = $at, message = $msg WHERE id = $id",
                    ("$at", Text(e.At)), ("$msg", e.Message), ("$id", id));
                tx.Commit();
                return (id, false);
            }
            id = (long)Scalar("""
                INSERT INTO incidents(site, still, category, code, message, severity, opened_at, last_at, count, targets, escalate_to, escalate_after, escalate_due, notify_cleared)
                VALUES ($site, $still, $cat, $code, $msg, $sev, $at, $at, 1, $targets, $esc, $after, $due, $cleared) RETURNING id
                """,
                ("$site", e.Site), ("$still", e.Still), ("$cat", category), ("$code", e.Code), ("$msg", e.Message), ("$sev", route.Severity),
                ("$at", Text(e.At)), ("$targets", JsonSerializer.Serialize(route.Targets)), ("$esc", JsonSerializer.Serialize(route.EscalateTo)),
                ("$after", route.EscalateAfterSeconds), ("$due", route.EscalateAfterSeconds is { } s && route.EscalateTo.Count > 0 ? Ms(now + TimeSpan.FromSeconds(s)) : null),
                ("$cleared", route.Cleared ? 1 : 0))!;
            foreach (var target in route.Targets) Enqueue(target, id, "raised", now);
            tx.Commit();
            return (id, true);
        }
    }

    /// <summary>
    /// A condition ended: the open incidents of the still in <paramref name="category"/> with <paramref name="code"/> (any code
    /// when null) are closed, and a "cleared" message is queued for every target that was told of them (escalation targets too,
    /// once escalated) when their rule asks for it. Returns the closed incidents' ids.
    /// </summary>
    public List<long> Clear(PlantEvent e, string category, string? code, DateTimeOffset now)
    {
        lock (gate)
        {
            using var tx = Begin();
            var open = new List<(long Id, string Targets, string EscalateTo, bool Escalated, bool Notify)>();
            using (var c = Command("SELECT id, targets, escalate_to, escalated_at IS NOT NULL, notify_cleared FROM incidents WHERE site = $site AND still = $still AND category = $cat AND ($code IS NULL OR code = $code) AND cleared_at IS NULL ORDER BY id",
                ("$site", e.Site), ("$still", e.Still), ("$cat", category), ("$code", code)))
            using (var r = c.ExecuteReader())
            {
                while (r.Read()) open.Add((r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetBoolean(3), r.GetBoolean(4)));
            }
            foreach (var incident in open)
            {
                Execute("UPDATE incidents SET cleared_at = $at, cleared_message = $msg WHERE id = $id", ("$at", Text(e.At)), ("$msg", e.Message), ("$id", incident.Id));
                if (!incident.Notify) continue;
                var targets = JsonSerializer.Deserialize<List<string>>(incident.Targets)!;
                if (incident.Escalated) targets.AddRange(JsonSerializer.Deserialize<List<string>>(incident.EscalateTo)!);
                foreach (var target in targets.Distinct(StringComparer.Ordinal)) Enqueue(target, incident.Id, "cleared", now);
            }
            tx.Commit();
            return open.Select(o => o.Id).ToList();
        }
    }

    /// <summary>Acknowledges the still's open incidents (with <paramref name="code"/>, or all when null): no escalation for them. Returns how many.</summary>
    public int Acknowledge(string site, string still, string? code, string by, DateTimeOffset at)
    {
        lock (gate)
        {
            return Execute("UPDATE incidents SET acknowledged_at = $at, acknowledged_by = $by WHERE site = $site AND still = $still AND ($code IS NULL OR code = $code) AND cleared_at IS NULL AND acknowledged_at IS NULL",
                ("$at", Text(at)), ("$by", by), ("$site", site), ("$still", still), ("$code", code));
        }
    }

    /// <summary>Incidents due for escalation at <paramref name="now"/> (open, unacknowledged, not yet escalated) get an "escalation" message per escalation target. Returns their ids.</summary>
    public List<long> Escalate(DateTimeOffset now)
    {
        lock (gate)
        {
            using var tx = Begin();
            var due = new List<(long Id, string EscalateTo)>();
            using (var c = Command("SELECT id, escalate_to FROM incidents WHERE escalate_due <= $now AND cleared_at IS NULL AND acknowledged_at IS NULL AND escalated_at IS NULL ORDER BY id", ("$now", Ms(now))))
            using (var r = c.ExecuteReader())
            {
                while (r.Read()) due.Add((r.GetInt64(0), r.GetString(1)));
            }
            foreach (var (id, escalateTo) in due)
            {
                Execute("UPDATE incidents SET escalated_at = $at WHERE id = $id", ("$at", Text(now)), ("$id", id));
                foreach (var target in JsonSerializer.Deserialize<List<string>>(escalateTo)!) Enqueue(target, id, "escalation", now);
            }
            tx.Commit();
            return due.Select(d => d.Id).ToList();
        }
    }

    /// <summary>When the next escalation falls due (null: none waits).</summary>
    public DateTimeOffset? NextEscalation()
    {
        lock (gate)
        {
            return Scalar("SELECT MIN(escalate_due) FROM incidents WHERE escalate_due IS NOT NULL AND cleared_at IS NULL AND acknowledged_at IS NULL AND escalated_at IS NULL") is long ms
                ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;
        }
    }

    /// <summary>The target's unsent messages, oldest first.</summary>
    public List<OutboxEntry> Pending(string target, int limit)
    {
        lock (gate)
        {
            var entries = new List<OutboxEntry>();
            using var c = Command($"SELECT o.seq, o.target, o.type, o.created_at, {IncidentColumns} FROM outbox o JOIN incidents i ON i.id = o.incident WHERE o.target = $t AND o.sent_at IS NULL AND o.failed IS NULL ORDER BY o.seq LIMIT $n",
                ("$t", target), ("$n", limit));
            using var r = c.ExecuteReader();
            while (r.Read()) entries.Add(new OutboxEntry(r.GetInt64(0), r.GetString(1), r.GetString(2), ReadIncident(r, 4), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(3))));
            return entries;
        }
    }

    public int PendingCount(string? target = null)
    {
        lock (gate)
        {
            return Convert.ToInt32(Scalar("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed IS NULL AND ($t IS NULL OR target = $t)", ("$t", target)), CultureInfo.InvariantCulture);
        }
    }

    /// <summary>The target took these messages (one message, or one digest of several): marked sent, and counted for its rate limit.</summary>
    public void MarkSent(string target, IReadOnlyList<long> seqs, string deliveredAs, DateTimeOffset now)
    {
        lock (gate)
        {
            using var tx = Begin();
            foreach (var seq in seqs) Execute("UPDATE outbox SET sent_at = $now, delivered_as = $as WHERE seq = $seq AND target = $t", ("$now", Ms(now)), ("$as", deliveredAs), ("$seq", seq), ("$t", target));
            Execute("INSERT INTO sends(target, at) VALUES ($t, $now)", ("$t", target), ("$now", Ms(now)));
            Execute("DELETE FROM sends WHERE target = $t AND at < $old", ("$t", target), ("$old", Ms(now - TimeSpan.FromDays(2))));
            Execute("INSERT INTO target_state(target, failures, next_attempt, last_error) VALUES ($t, 0, NULL, NULL) ON CONFLICT(target) DO UPDATE SET failures = 0, next_attempt = NULL, last_error = NULL", ("$t", target));
            tx.Commit();
        }
    }

    /// <summary>Given up on (the target refused them as bad, many times): kept with the reason, no longer blocking the target.</summary>
    public void MarkFailed(string target, IReadOnlyList<long> seqs, string reason)
    {
        lock (gate)
        {
            using var tx = Begin();
            foreach (var seq in seqs) Execute("UPDATE outbox SET failed = $why WHERE seq = $seq AND target = $t", ("$why", reason), ("$seq", seq), ("$t", target));
            Execute("INSERT INTO target_state(target, failures, next_attempt, last_error) VALUES ($t, 0, NULL, $e) ON CONFLICT(target) DO UPDATE SET failures = 0, next_attempt = NULL, last_error = $e", ("$t", target), ("$e", reason));
            tx.Commit();
        }
    }

    /// <summary>Send times within the target's rate-limit window, oldest first.</summary>
    public List<DateTimeOffset> SendsSince(string target, DateTimeOffset since)
    {
        lock (gate)
        {
            var times = new List<DateTimeOffset>();
            using var c = Command("SELECT at FROM sends WHERE target = $t AND at > $since ORDER BY at", ("$t", target), ("$since", Ms(since)));
            using var r = c.ExecuteReader();
            while (r.Read()) times.Add(DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(0)));
            return times;
        }
    }

    public TargetState State(string target)
    {
        lock (gate)
        {
            using var c = Command("SELECT failures, next_attempt, last_error FROM target_state WHERE target = $t", ("$t", target));
            using var r = c.ExecuteReader();
            return r.Read()
                ? new TargetState(r.GetInt32(0), r.IsDBNull(1) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(1)), r.IsDBNull(2) ? null : r.GetString(2))
                : new TargetState(0, null, null);
        }
    }

    public void SetState(string target, TargetState state)
    {
        lock (gate)
        {
            Execute("INSERT INTO target_state(target, failures, next_attempt, last_error) VALUES ($t, $f, $n, $e) ON CONFLICT(target) DO UPDATE SET failures = $f, next_attempt = $n, last_error = $e",
                ("$t", target), ("$f", state.Failures), ("$n", state.NextAttempt is { } n ? Ms(n) : null), ("$e", state.LastError));
        }
    }

    public Incident? Incident(long id)
    {
        lock (gate)
        {
            using var c = Command($"SELECT {IncidentColumns} FROM incidents i WHERE i.id = $id", ("$id", id));
            using var r = c.ExecuteReader();
            return r.Read() ? ReadIncident(r, 0) : null;
        }
    }

    /// <summary>The incidents still open, oldest first.</summary>
    public List<Incident> OpenIncidents()
    {
        lock (gate)
        {
            var list = new List<Incident>();
            using var c = Command($"SELECT {IncidentColumns} FROM incidents i WHERE i.cleared_at IS NULL ORDER BY i.id");
            using var r = c.ExecuteReader();
            while (r.Read()) list.Add(ReadIncident(r, 0));
            return list;
        }
    }

    private const string IncidentColumns = "i.id, i.site, i.still, i.category, i.code, i.message, i.severity, i.opened_at, i.last_at, i.count, i.acknowledged_at, i.acknowledged_by, i.escalated_at, i.escalate_after, i.cleared_at, i.cleared_message";

    private static Incident ReadIncident(SqliteDataReader r, int o) => new(
        r.GetInt64(o), r.GetString(o + 1), r.GetString(o + 2), r.GetString(o + 3), r.GetString(o + 4), r.GetString(o + 5), r.GetString(o + 6),
        Parse(r.GetString(o + 7)), Parse(r.GetString(o + 8)), r.GetInt32(o + 9),
        r.IsDBNull(o + 10) ? null : Parse(r.GetString(o + 10)), r.IsDBNull(o + 11) ? null : r.GetString(o + 11),
        r.IsDBNull(o + 12) ? null : Parse(r.GetString(o + 12)), r.IsDBNull(o + 13) ? null : r.GetInt32(o + 13),
        r.IsDBNull(o + 14) ? null : Parse(r.GetString(o + 14)), r.IsDBNull(o + 15) ? null : r.GetString(o + 15));

    private void Enqueue(string target, long incident, string type, DateTimeOffset now) =>
        Execute("INSERT INTO outbox(target, incident, type, created_at) VALUES ($t, $i, $type, $now)", ("$t", target), ("$i", incident), ("$type", type), ("$now", Ms(now)));

    private static string Text(DateTimeOffset at) => at.ToString("o", CultureInfo.InvariantCulture);
    private static DateTimeOffset Parse(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
    private static long Ms(DateTimeOffset at) => at.ToUnixTimeMilliseconds();

    private SqliteCommand Command(string sql, params (string Name, object? Value)[] parameters)
    {
        var c = db.CreateCommand();
        c.CommandText = sql;
        foreach (var (name, value) in parameters) c.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return c;
    }

    private int Execute(string sql, params (string Name, object? Value)[] parameters)
    {
        using var c = Command(sql, parameters);
        return c.ExecuteNonQuery();
    }

    private object? Scalar(string sql, params (string Name, object? Value)[] parameters)
    {
        using var c = Command(sql, parameters);
        var value = c.ExecuteScalar();
        return value is DBNull ? null : value;
    }

    /// <summary>A write transaction by SQL (BEGIN IMMEDIATE), so every command on the connection is in it; rolled back unless committed.</summary>
    private Transaction Begin()
    {
        Execute("BEGIN IMMEDIATE");
        return new Transaction(this);
    }

    private sealed class Transaction(NotificationOutbox outbox) : IDisposable
    {
        private bool done;

        public void Commit()
        {
            outbox.Execute("COMMIT");
            done = true;
        }

        public void Dispose()
        {
            if (done) return;
            done = true;
            try
            {
                outbox.Execute("ROLLBACK");
            }
            catch (SqliteException)
            {
                // SQLite already rolled back (an I/O or full-disk error ends the transaction itself).
            }
        }
    }

    public void Dispose()
    {
        lock (gate)
        {
            db.Dispose();
        }
    }
}
