using Microsoft.Data.Sqlite;

namespace StillControl.Journal;

/// <summary>A remote command id received and not yet answered when the service before this one stopped.</summary>
/// <param name="Deliveries">How many deliveries of the id are owed a result.</param>
/// <param name="Submitted">It was handed to the control loop: it may have run.</param>
/// <param name="StoredResult">The result already stored for it (then only its publishing was cut short), or null.</param>
public sealed record UnansweredCommand(string Id, string Command, int Deliveries, bool Submitted, string? StoredResult);

/// <summary>
/// Every remote command id from its arrival to its published result, in the cursors file beside the journal
/// (<see cref="JournalReader.CursorPath"/>), so that an id gets exactly one result even across a kill -9: an id is written
/// down as received before the broker is acknowledged, marked when it goes to the control loop, its result is stored before it is
/// published, and it is crossed off once published. Whatever a stop leaves unanswered is answered at the next start:
/// "not run" if it never reached the loop, "interrupted" if it may have run. Its own connection, shared by the MQTT client's
/// receive task and the link's loop under a lock; <c>synchronous=NORMAL</c> like the journal (durable across a kill of the
/// process; a power loss may take back the last few ids).
/// </summary>
public sealed class CommandLedger : IDisposable
{
    private readonly SqliteConnection connection;
    private readonly Lock gate = new();

    public CommandLedger(string journalPath)
    {
        var path = JournalReader.CursorPath(journalPath);
        connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        BatchJournal.RestrictAccess(path);
        Execute("""
            PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;
            CREATE TABLE IF NOT EXISTS command_results (id TEXT PRIMARY KEY, at INTEGER NOT NULL, result_json TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS commands_received (id TEXT PRIMARY KEY, at INTEGER NOT NULL, command TEXT NOT NULL,
                deliveries INTEGER NOT NULL, submitted INTEGER NOT NULL DEFAULT 0);
            """);
    }

    private void Execute(string sql, params (string Name, object Value)[] parameters)
    {
        lock (gate)
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
            command.ExecuteNonQuery();
        }
    }

    /// <summary>One more delivery of <paramref name="id"/> arrived and is owed a result.</summary>
    public void Received(string id, string command, DateTimeOffset at) =>
        Execute("""
            INSERT INTO commands_received (id, at, command, deliveries) VALUES ($id, $at, $c, 1)
            ON CONFLICT(id) DO UPDATE SET deliveries = deliveries + 1
            """, ("$id", id), ("$at", at.ToUnixTimeMilliseconds()), ("$c", command));

    /// <summary>Handed to the control loop: from now on it may have run.</summary>
    public void Submitted(string id) => Execute("UPDATE commands_received SET submitted = 1 WHERE id = $id", ("$id", id));

    /// <summary>One delivery's result was published.</summary>
    public void Answered(string id) =>
        Execute("""
            UPDATE commands_received SET deliveries = deliveries - 1 WHERE id = $id;
            DELETE FROM commands_received WHERE id = $id AND deliveries <= 0;
            """, ("$id", id));

    /// <summary>The result already given to a remote command with this id, or null: an id runs once, however often it arrives.</summary>
    public string? Recall(string id)
    {
        lock (gate)
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT result_json FROM command_results WHERE id = $id";
            command.Parameters.AddWithValue("$id", id);
            return command.ExecuteScalar() as string;
        }
    }

    /// <summary>Keeps a remote command's result under its id (the first one stays) for <paramref name="keep"/>, across reconnects and restarts.</summary>
    public void Remember(string id, string resultJson, DateTimeOffset at, TimeSpan keep) =>
        Execute("""
            INSERT OR IGNORE INTO command_results (id, at, result_json) VALUES ($id, $at, $r);
            DELETE FROM command_results WHERE at < $oldest;
            """, ("$id", id), ("$at", at.ToUnixTimeMilliseconds()), ("$r", resultJson), ("$oldest", (at - keep).ToUnixTimeMilliseconds()));

    /// <summary>Ids still owed a result, oldest first: what the service before this one left unanswered.</summary>
    public List<UnansweredCommand> Unanswered()
    {
        lock (gate)
        {
            using var command = connection.CreateCommand();
            command.CommandText = """
                SELECT r.id, r.command, r.deliveries, r.submitted, c.result_json
                FROM commands_received r LEFT JOIN command_results c ON c.id = r.id
                WHERE r.deliveries > 0 ORDER BY r.at, r.rowid
                """;
            using var reader = command.ExecuteReader();
            var rows = new List<UnansweredCommand>();
            while (reader.Read())
            {
                rows.Add(new UnansweredCommand(reader.GetString(0), reader.GetString(1), reader.GetInt32(2), reader.GetInt64(3) != 0, reader.IsDBNull(4) ? null : reader.GetString(4)));
            }
            return rows;
        }
    }

    public void Dispose()
    {
        lock (gate) connection.Dispose();
    }
}
