using Microsoft.Data.Sqlite;

namespace StillControl.Journal;

/// <summary>A journal sample row as a forwarder sends it on.</summary>
public sealed record JournalSample(long Sequence, string? BatchId, DateTimeOffset At, string Phase, bool Held, double SteamPercent, double CoolingPercent,
    string? Receiver, double? StrengthPercent, string ReadingsJson);

/// <summary>Where a forwarder has got to in the journal: the last sample and event it delivered.</summary>
public readonly record struct ForwarderCursor(long Samples, long Events);

/// <summary>
/// A forwarder's own view of the journal: its own read connection (WAL lets it read while the control loop writes), rows
/// after its cursor oldest first, and the cursor itself, persisted so a restart resumes where delivery stopped. Cursors live
/// in a file of their own next to the journal, so a forwarder never takes the journal's write lock from the control loop.
/// </summary>
public sealed class JournalReader : IDisposable
{
    private readonly SqliteConnection connection;
    private readonly SqliteConnection cursors;

    public JournalReader(string path)
    {
        connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        cursors = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = CursorPath(path), Pooling = false }.ToString());
        cursors.Open();
        BatchJournal.RestrictAccess(CursorPath(path));
        using var command = cursors.CreateCommand();
        command.CommandText = """
            PRAGMA journal_mode=WAL; PRAGMA busy_timeout=5000;
            CREATE TABLE IF NOT EXISTS cursors (forwarder TEXT PRIMARY KEY, samples_seq INTEGER NOT NULL, events_seq INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS rejected_rows (forwarder TEXT NOT NULL, at INTEGER NOT NULL, line TEXT NOT NULL, reason TEXT NOT NULL);
            """;
        command.ExecuteNonQuery();
    }

    public static string CursorPath(string journalPath) => journalPath + ".cursors";

    public ForwarderCursor LoadCursor(string forwarder)
    {
        using var command = cursors.CreateCommand();
        command.CommandText = "SELECT samples_seq, events_seq FROM cursors WHERE forwarder = $f";
        command.Parameters.AddWithValue("$f", forwarder);
        using var reader = command.ExecuteReader();
        return reader.Read() ? new ForwarderCursor(reader.GetInt64(0), reader.GetInt64(1)) : default;
    }

    public void SaveCursor(string forwarder, ForwarderCursor cursor)
    {
        using var command = cursors.CreateCommand();
        command.CommandText = """
            INSERT INTO cursors (forwarder, samples_seq, events_seq) VALUES ($f, $s, $e)
            ON CONFLICT(forwarder) DO UPDATE SET samples_seq = excluded.samples_seq, events_seq = excluded.events_seq
            """;
        command.Parameters.AddWithValue("$f", forwarder);
        command.Parameters.AddWithValue("$s", cursor.Samples);
        command.Parameters.AddWithValue("$e", cursor.Events);
        command.ExecuteNonQuery();
    }

    /// <summary>A row the destination refused for what it says (not for an outage): kept here with the reason, never silently dropped.</summary>
    public void RecordRejected(string forwarder, string line, string reason, DateTimeOffset at)
    {
        using var command = cursors.CreateCommand();
        command.CommandText = "INSERT INTO rejected_rows (forwarder, at, line, reason) VALUES ($f, $t, $l, $r)";
        command.Parameters.AddWithValue("$f", forwarder);
        command.Parameters.AddWithValue("$t", at.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$l", line);
        command.Parameters.AddWithValue("$r", reason);
        command.ExecuteNonQuery();
    }

    public List<(DateTimeOffset At, string Line, string Reason)> Rejected(string forwarder)
    {
        using var command = cursors.CreateCommand();
        command.CommandText = "SELECT at, line, reason FROM rejected_rows WHERE forwarder = $f ORDER BY rowid";
        command.Parameters.AddWithValue("$f", forwarder);
        using var reader = command.ExecuteReader();
        var rows = new List<(DateTimeOffset, string, string)>();
        while (reader.Read()) rows.Add((DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(0)), reader.GetString(1), reader.GetString(2)));
        return rows;
    }

    /// <summary>
    /// Stores the cursor, or says why it could not (a full disk, a locked or read-only file). A forwarder goes on from the cursor it
    /// holds in memory either way, so nothing is sent twice by the same process; after a restart, rows delivered since the last
    /// stored cursor go once more (at-least-once), which the receivers take as the same messages and points.
    /// </summary>
    public string? TrySaveCursor(string forwarder, ForwarderCursor cursor)
    {
        try
        {
            SaveCursor(forwarder, cursor);
            return null;
        }
        catch (SqliteException ex)
        {
            return ex.Message;
        }
    }

    public List<JournalSample> SamplesAfter(long sequence, int limit)
    {
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT seq, batch_id, t, phase, held, steam_percent, cooling_percent, receiver, strength_percent, readings
            FROM samples WHERE seq > $s ORDER BY seq LIMIT $n
            """;
        command.Parameters.AddWithValue("$s", sequence);
        command.Parameters.AddWithValue("$n", limit);
        using var reader = command.ExecuteReader();
        var result = new List<JournalSample>();
        while (reader.Read())
        {
            result.Add(new JournalSample(reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)),
                reader.GetString(3), reader.GetInt64(4) != 0, reader.GetDouble(5), reader.GetDouble(6), reader.IsDBNull(7) ? null : reader.GetString(7),
                reader.IsDBNull(8) ? null : reader.GetDouble(8), reader.GetString(9)));
        }
        return result;
    }

    public List<JournalEvent> EventsAfter(long sequence, int limit)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {JournalEvent.Columns} FROM events WHERE seq > $s ORDER BY seq LIMIT $n";
        command.Parameters.AddWithValue("$s", sequence);
        command.Parameters.AddWithValue("$n", limit);
        using var reader = command.ExecuteReader();
        return JournalEvent.Read(reader);
    }

    /// <summary>Rows not yet delivered: the backlog a forwarder reports while its server is away.</summary>
    public (long Samples, long Events) Backlog(ForwarderCursor cursor)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT (SELECT COUNT(*) FROM samples WHERE seq > $s), (SELECT COUNT(*) FROM events WHERE seq > $e)";
        command.Parameters.AddWithValue("$s", cursor.Samples);
        command.Parameters.AddWithValue("$e", cursor.Events);
        using var reader = command.ExecuteReader();
        reader.Read();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    public void Dispose()
    {
        connection.Dispose();
        cursors.Dispose();
    }
}
