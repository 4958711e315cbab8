using System.Buffers;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using SQLitePCL;
using StillControl.Process;

namespace StillControl.Journal;

/// <summary>A batch as listed from the journal.</summary>
public sealed record BatchSummary(string Id, DateTimeOffset StartedAt, DateTimeOffset? EndedAt, string Outcome, string RecipeName, string Phase);

/// <summary>One journal event row.</summary>
public sealed record JournalEvent(long Sequence, string? BatchId, DateTimeOffset At, string Kind, string Code, string Phase, string Message, string? Channel)
{
    /// <summary>The columns every event query selects, in the order <see cref="Read"/> expects them.</summary>
    public const string Columns = "seq, batch_id, t, kind, code, phase, message, channel";

    public static List<JournalEvent> Read(SqliteDataReader reader)
    {
        var result = new List<JournalEvent>();
        while (reader.Read())
        {
            result.Add(new JournalEvent(reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)),
                reader.GetString(3), reader.GetString(4), reader.GetString(5), reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetString(7)));
        }
        return result;
    }
}

/// <summary>
/// The local, durable store everything is written to first: samples, events, the batch state and the simulator's checkpoint.
/// SQLite in WAL mode; writes are grouped into transactions committed at most every <c>commitInterval</c> of wall time, so a
/// real-time loop commits every sample and an accelerated one is not slowed by a sync per row. Committed data survives kill -9.
/// </summary>
public sealed class BatchJournal : IDisposable
{
    private readonly SqliteConnection connection;
    private readonly TimeProvider wallClock;
    private readonly TimeSpan commitInterval;
    private SqliteTransaction? transaction;
    private long lastCommitTimestamp;
    private long? lastCheckpointTimestamp;
    private readonly sqlite3_stmt insertSample;
    private readonly Dictionary<string, byte[]> utf8 = new(StringComparer.Ordinal);
    private readonly SqliteCommand insertEvent;
    private readonly SqliteCommand saveState;
    private readonly SqliteCommand saveCheckpoint;
    private readonly ArrayBufferWriter<byte> buffer = new(2048);
    private readonly byte[] number = new byte[FourDecimals.MaximumLength];
    private readonly Utf8JsonWriter json;

    public static JsonSerializerOptions StateOptions => JournalJsonContext.Default.Options;

    public string Path { get; }

    public BatchJournal(string path, TimeProvider wallClock, TimeSpan commitInterval)
    {
        Path = path;
        this.wallClock = wallClock;
        this.commitInterval = commitInterval;
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        // The loop checkpoints the write-ahead log itself (Checkpoint: every phase change and every two minutes); SQLite's own
        // checkpoint at 1,000 pages (4 MB) would add disk flushes in the middle of a simulated batch, so it is kept only as a
        // backstop at 4,000 pages (16 MB), for a log the loop could not checkpoint.
        Execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000; PRAGMA wal_autocheckpoint=4000;");
        RestrictAccess(path);
        Execute("""
            CREATE TABLE IF NOT EXISTS batches (
                id TEXT PRIMARY KEY, started_at INTEGER NOT NULL, ended_at INTEGER, outcome TEXT,
                recipe_name TEXT NOT NULL, recipe_json TEXT NOT NULL, phase TEXT NOT NULL,
                state_json TEXT, state_at INTEGER);
            CREATE TABLE IF NOT EXISTS samples (
                seq INTEGER PRIMARY KEY, batch_id TEXT, t INTEGER NOT NULL, phase TEXT NOT NULL, held INTEGER NOT NULL,
                steam_percent REAL, cooling_percent REAL, receiver TEXT, strength_percent REAL, readings TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS samples_by_batch ON samples(batch_id, t);
            CREATE TABLE IF NOT EXISTS events (
                seq INTEGER PRIMARY KEY, batch_id TEXT, t INTEGER NOT NULL, kind TEXT NOT NULL, code TEXT NOT NULL,
                phase TEXT NOT NULL, message TEXT NOT NULL, channel TEXT);
            CREATE INDEX IF NOT EXISTS events_by_batch ON events(batch_id, seq);
            CREATE TABLE IF NOT EXISTS checkpoints (batch_id TEXT PRIMARY KEY, t INTEGER NOT NULL, json TEXT NOT NULL);
            """);
        MigrateMetadataColumn(connection);
        json = new Utf8JsonWriter(buffer);
        // Samples are the bulk of the journal: they go through SQLite's own statement API, without the ADO.NET layer's per-row cost.
        Check(raw.sqlite3_prepare_v2(connection.Handle,
            "INSERT INTO samples (batch_id, t, phase, held, steam_percent, cooling_percent, receiver, strength_percent, readings) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            out insertSample), "prepare the sample insert");
        insertEvent = Prepare("INSERT INTO events (batch_id, t, kind, code, phase, message, channel) VALUES ($b, $t, $k, $c, $p, $m, $ch)",
            "$b", "$t", "$k", "$c", "$p", "$m", "$ch");
        // A batch that has ended (it has an outcome) is never written again: a later save, however it comes, changes nothing.
        saveState = Prepare("UPDATE batches SET state_json = $j, state_at = $t, phase = $p, ended_at = $e, outcome = $o WHERE id = $b AND outcome IS NULL",
            "$j", "$t", "$p", "$e", "$o", "$b");
        saveCheckpoint = Prepare("INSERT INTO checkpoints (batch_id, t, json) VALUES ($b, $t, $j) ON CONFLICT(batch_id) DO UPDATE SET t = excluded.t, json = excluded.json",
            "$b", "$t", "$j");
        lastCommitTimestamp = wallClock.GetTimestamp();
        WarmStateWriter();
    }

    private static int stateWriterWarmed;

    /// <summary>
    /// Builds what the state writer needs on its first use (System.Text.Json makes the <see cref="Phase"/> enum's converter by
    /// reflection, and the nullable time's) on a pool thread while the service starts, not in the loop's first state save:
    /// about a twentieth of a cold simulated batch, and on the still a first save that no longer stalls a control step.
    /// Once per process; a fresh state, shared with nobody, is written to nowhere.
    /// </summary>
    private static void WarmStateWriter()
    {
        if (Interlocked.Exchange(ref stateWriterWarmed, 1) != 0) return;
        ThreadPool.UnsafeQueueUserWorkItem(static _ =>
        {
            try
            {
                JsonSerializer.SerializeToUtf8Bytes(new BatchState { StartedAt = DateTimeOffset.UnixEpoch, PhaseStartedAt = DateTimeOffset.UnixEpoch },
                    JournalWriteContext.Default.BatchState);
                JsonSerializer.SerializeToUtf8Bytes(new Physics.StillModelState(), JournalWriteContext.Default.StillModelState);
            }
            catch (Exception)
            {
                // Only a head start: the real save builds the same again and reports its own failure in its own words.
            }
        }, null);
    }

    /// <summary>
    /// Journals written before batch metadata existed have no <c>metadata_json</c> column: it is added (nullable, so every
    /// existing row reads as "no metadata") the first time such a journal is opened for writing.
    /// </summary>
    public static void MigrateMetadataColumn(SqliteConnection connection)
    {
        if (HasColumn(connection, "batches", "metadata_json")) return;
        using var command = connection.CreateCommand();
        command.CommandText = "ALTER TABLE batches ADD COLUMN metadata_json TEXT";
        command.ExecuteNonQuery();
    }

    public static bool HasColumn(SqliteConnection connection, string table, string column)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM pragma_table_info($t) WHERE name = $c";
        command.Parameters.AddWithValue("$t", table);
        command.Parameters.AddWithValue("$c", column);
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) > 0;
    }

    /// <summary>
    /// Stores a batch's metadata (replacing what it had) from any thread other than the control loop's: on a short connection
    /// of its own, never touching the loop's connection or transaction. It takes the write lock between two of the loop's
    /// commits (the loop, seeing a writer waiting, lets it in before opening its next transaction, waiting at most
    /// <see cref="ExternalWriterWait"/>), so it is not starved even when the loop commits back to back. False when the journal
    /// has no such batch, or the batch has ended (an ended batch is never written again). Bad metadata is an
    /// <see cref="ArgumentException"/> naming the field, the value and what is accepted.
    /// </summary>
    public bool SetMetadata(string batchId, BatchMetadata m)
    {
        ArgumentNullException.ThrowIfNull(m);
        if (m.Problems() is { Count: > 0 } problems) throw new ArgumentException($"batch metadata: {string.Join("; ", problems)}", nameof(m));
        Interlocked.Increment(ref externalWriters);
        try
        {
            return SetMetadata(Path, batchId, m);
        }
        finally
        {
            Interlocked.Decrement(ref externalWriters);
        }
    }

    /// <summary>The longest the loop waits, before opening its next transaction, for a metadata writer to take its turn.</summary>
    public static readonly TimeSpan ExternalWriterWait = TimeSpan.FromMilliseconds(20);

    private int externalWriters;

    /// <summary>
    /// <see cref="SetMetadata(string, BatchMetadata)"/> for a journal this process has not opened (another process's loop):
    /// retries the write lock every millisecond for up to 10 s.
    /// </summary>
    public static bool SetMetadata(string path, string batchId, BatchMetadata m)
    {
        ArgumentNullException.ThrowIfNull(m);
        if (m.Problems() is { Count: > 0 } problems) throw new ArgumentException($"batch metadata: {string.Join("; ", problems)}", nameof(m));
        using var own = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false, Mode = SqliteOpenMode.ReadWrite }.ToString());
        own.Open();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            // BEGIN IMMEDIATE takes the write lock at once, so the update reads the batch row as the loop last committed it.
            var rc = raw.sqlite3_exec(own.Handle, "BEGIN IMMEDIATE");
            if (rc == raw.SQLITE_OK) break;
            if (rc is not (raw.SQLITE_BUSY or raw.SQLITE_LOCKED))
            {
                throw new SqliteException($"journal {path}: could not write the metadata of batch {batchId}: {raw.sqlite3_errmsg(own.Handle).utf8_to_string()}", rc);
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"journal {path}: busy for 10 s, the metadata of batch {batchId} was not written");
            }
            Thread.Sleep(1);
        }
        try
        {
            if (!HasColumn(own, "batches", "metadata_json")) MigrateMetadataColumn(own);
            using var command = own.CreateCommand();
            command.CommandText = "UPDATE batches SET metadata_json = $m WHERE id = $b AND outcome IS NULL";
            command.Parameters.AddWithValue("$m", m.IsEmpty ? DBNull.Value : m.ToJson());
            command.Parameters.AddWithValue("$b", batchId);
            var changed = command.ExecuteNonQuery();
            var commit = raw.sqlite3_exec(own.Handle, "COMMIT");
            if (commit != raw.SQLITE_OK) throw new SqliteException($"journal {path}: could not commit the metadata of batch {batchId}: {raw.sqlite3_errmsg(own.Handle).utf8_to_string()}", commit);
            return changed > 0;
        }
        catch
        {
            raw.sqlite3_exec(own.Handle, "ROLLBACK");
            throw;
        }
    }

    /// <summary>
    /// The same as <see cref="SetMetadata"/> for code running on the control loop's own thread (the simulated distiller): in
    /// the loop's transaction, committed with its next commit. Never call it from another thread.
    /// </summary>
    public bool SetMetadataOnLoop(string batchId, BatchMetadata m)
    {
        ArgumentNullException.ThrowIfNull(m);
        if (m.Problems() is { Count: > 0 } problems) throw new ArgumentException($"batch metadata: {string.Join("; ", problems)}", nameof(m));
        using var command = connection.CreateCommand();
        command.Transaction = Transaction();
        command.CommandText = "UPDATE batches SET metadata_json = $m WHERE id = $b AND outcome IS NULL";
        command.Parameters.AddWithValue("$m", m.IsEmpty ? DBNull.Value : m.ToJson());
        command.Parameters.AddWithValue("$b", batchId);
        return command.ExecuteNonQuery() > 0;
    }

    /// <summary>Whether the journal already holds a batch with this id (any outcome).</summary>
    public bool HasBatch(string id)
    {
        using var command = connection.CreateCommand();
        command.Transaction = Transaction();
        command.CommandText = "SELECT 1 FROM batches WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        return command.ExecuteScalar() is not null;
    }

    public void BeginBatch(string id, DateTimeOffset startedAt, string recipeName, string recipeJson)
    {
        using var command = connection.CreateCommand();
        command.Transaction = Transaction();
        command.CommandText = "INSERT INTO batches (id, started_at, recipe_name, recipe_json, phase) VALUES ($id, $t, $n, $r, 'loading')";
        command.Parameters.AddWithValue("$id", id);
        command.Parameters.AddWithValue("$t", startedAt.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$n", recipeName);
        command.Parameters.AddWithValue("$r", recipeJson);
        command.ExecuteNonQuery();
    }

    public void AppendEvent(string? batchId, in ControllerEvent e)
    {
        var p = insertEvent.Parameters;
        p[0].Value = (object?)batchId ?? DBNull.Value;
        p[1].Value = e.At.ToUnixTimeMilliseconds();
        p[2].Value = e.Kind.Name();
        p[3].Value = e.Code;
        p[4].Value = e.Phase.Name();
        p[5].Value = e.Message;
        p[6].Value = e.Channel is { } c ? c.Name() : DBNull.Value;
        insertEvent.Transaction = Transaction();
        insertEvent.ExecuteNonQuery();
    }

    /// <summary>One sample: the controller's view of every channel (value, or the fault that rejected it) and its outputs.</summary>
    public void AppendSample(BatchState state, Decisions decisions, DateTimeOffset at)
    {
        buffer.Clear();
        json.Reset(buffer);
        json.WriteStartObject();
        for (var i = 0; i < Channels.Count; i++)
        {
            var signal = state.Signals[i];
            if (!signal.IsConfigured) continue;
            json.WriteStartObject(SampleNames.Channels[i]);
            if (signal.IsGood)
            {
                var value = Math.Round(signal.Value, 4);
                if (FourDecimals.TryFormat(value, number, out var length))
                {
                    json.WritePropertyName(SampleNames.Value);
                    json.WriteRawValue(number[..length], skipInputValidation: true);
                }
                else
                {
                    json.WriteNumber(SampleNames.Value, value);
                }
                json.WriteString(SampleNames.Quality, SampleNames.Good);
            }
            else
            {
                json.WriteString(SampleNames.Quality, SampleNames.Faulted);
                json.WriteString(SampleNames.Fault, SampleNames.Faults[(int)signal.Fault]);
            }
            json.WriteEndObject();
        }
        json.WriteEndObject();
        json.Flush();

        Transaction();
        var statement = insertSample;
        if (state.BatchId is null) raw.sqlite3_bind_null(statement, 1); else raw.sqlite3_bind_text(statement, 1, Utf8(state.BatchId));
        raw.sqlite3_bind_int64(statement, 2, at.ToUnixTimeMilliseconds());
        raw.sqlite3_bind_text(statement, 3, Utf8(state.Phase.Name()));
        raw.sqlite3_bind_int(statement, 4, state.Held ? 1 : 0);
        raw.sqlite3_bind_double(statement, 5, Math.Round(decisions.SteamValvePercent, 3));
        raw.sqlite3_bind_double(statement, 6, Math.Round(decisions.CoolingValvePercent, 3));
        if (decisions.Receiver is null) raw.sqlite3_bind_null(statement, 7); else raw.sqlite3_bind_text(statement, 7, Utf8(decisions.Receiver));
        if (decisions.StrengthPercentVolume is { } strength) raw.sqlite3_bind_double(statement, 8, Math.Round(strength, 3)); else raw.sqlite3_bind_null(statement, 8);
        raw.sqlite3_bind_text(statement, 9, buffer.WrittenSpan);
        var rc = raw.sqlite3_step(statement);
        raw.sqlite3_reset(statement);
        if (rc != raw.SQLITE_DONE) Check(rc, "append a sample");
    }

    /// <summary>A sample's names, encoded once: the writer then neither checks nor escapes them on every sample.</summary>
    private static class SampleNames
    {
        public static readonly JsonEncodedText[] Channels = Encode(Process.Channels.Names);
        public static readonly JsonEncodedText[] Faults = Encode(FaultReasons.Names);
        public static readonly JsonEncodedText Value = JsonEncodedText.Encode("value");
        public static readonly JsonEncodedText Quality = JsonEncodedText.Encode("quality");
        public static readonly JsonEncodedText Good = JsonEncodedText.Encode("good");
        public static readonly JsonEncodedText Faulted = JsonEncodedText.Encode("faulted");
        public static readonly JsonEncodedText Fault = JsonEncodedText.Encode("fault");

        private static JsonEncodedText[] Encode(IReadOnlyList<string> names)
        {
            var encoded = new JsonEncodedText[names.Count];
            for (var i = 0; i < encoded.Length; i++) encoded[i] = JsonEncodedText.Encode(names[i]);
            return encoded;
        }
    }

    private ReadOnlySpan<byte> Utf8(string text)
    {
        if (!utf8.TryGetValue(text, out var bytes))
        {
            bytes = Encoding.UTF8.GetBytes(text);
            utf8[text] = bytes;
        }
        return bytes;
    }

    private void Check(int rc, string what)
    {
        if (rc != raw.SQLITE_OK && rc != raw.SQLITE_DONE && rc != raw.SQLITE_ROW)
        {
            throw new SqliteException($"journal {Path}: could not {what}: {raw.sqlite3_errmsg(connection.Handle).utf8_to_string()}", rc);
        }
    }

    public void SaveState(BatchState state, DateTimeOffset at, string? outcome)
    {
        if (state.BatchId is null) return;
        var p = saveState.Parameters;
        p[0].Value = JsonSerializer.Serialize(state, JournalWriteContext.Default.BatchState);
        p[1].Value = at.ToUnixTimeMilliseconds();
        p[2].Value = state.Phase.Name();
        p[3].Value = state.EndedAt is { } ended ? ended.ToUnixTimeMilliseconds() : DBNull.Value;
        p[4].Value = (object?)outcome ?? DBNull.Value;
        p[5].Value = state.BatchId;
        saveState.Transaction = Transaction();
        saveState.ExecuteNonQuery();
    }

    public void SaveCheckpoint(string batchId, DateTimeOffset at, string checkpointJson)
    {
        var p = saveCheckpoint.Parameters;
        p[0].Value = batchId;
        p[1].Value = at.ToUnixTimeMilliseconds();
        p[2].Value = checkpointJson;
        saveCheckpoint.Transaction = Transaction();
        saveCheckpoint.ExecuteNonQuery();
    }

    /// <summary>Whether the next <see cref="Commit"/> will write: something is pending and the commit interval has passed.</summary>
    public bool CommitDue => transaction is not null && wallClock.GetElapsedTime(lastCommitTimestamp) >= commitInterval;

    /// <summary>Commits when the commit interval has passed (or always when forced).</summary>
    public void Commit(bool force = false)
    {
        if (transaction is null) return;
        if (!force && wallClock.GetElapsedTime(lastCommitTimestamp) < commitInterval) return;
        try
        {
            transaction.Commit();
        }
        catch (InvalidOperationException) when (transaction.Connection is null || !connection.Handle!.IsInvalid)
        {
            // SQLite rolled the transaction back itself (a full disk): what it held is lost, what was committed before stays.
            // The failure that caused it was reported where it happened.
        }
        finally
        {
            transaction.Dispose();
            transaction = null;
        }
        lastCommitTimestamp = wallClock.GetTimestamp();
    }

    /// <summary>
    /// A checkpoint flushes two files to the disk (a few milliseconds each on an SD card), so the timed ones (every two minutes of
    /// the loop's clock) are at least this far apart in wall-clock time. A real still's are minutes apart and never meet it; a
    /// simulation running hundreds of times faster than real time would otherwise spend most of its time waiting for the disk.
    /// </summary>
    public static readonly TimeSpan MinimumCheckpointSpacing = TimeSpan.FromSeconds(1);

    /// <summary>Whether <see cref="MinimumCheckpointSpacing"/> has passed since the last checkpoint (always true before the first).</summary>
    public bool CheckpointAllowed => lastCheckpointTimestamp is not { } last || wallClock.GetElapsedTime(last) >= MinimumCheckpointSpacing;

    /// <summary>
    /// Commits, then has the write-ahead log copied into the main file (a passive checkpoint: it never waits for readers, and runs on
    /// a thread of its own, so this returns at once). Called at
    /// every phase change and every few minutes, so the main file alone holds the batch up to then: a lost or damaged WAL costs
    /// minutes, not the batch.
    /// </summary>
    public void Checkpoint()
    {
        Commit(force: true);
        // The copy itself, and its disk flushes, run beside the loop (BackgroundCheckpointer).
        (checkpointer ??= new BackgroundCheckpointer(Path)).Request();
        lastCheckpointTimestamp = wallClock.GetTimestamp();
    }

    /// <summary>Checkpoints finished so far by the background checkpointer (0 before the first is asked for).</summary>
    internal long CheckpointsCompleted => checkpointer?.Completed ?? 0;

    private BackgroundCheckpointer? checkpointer;

    /// <summary>Journal files are readable by the service's group, never by everyone (0640), whatever the umask.</summary>
    public static void RestrictAccess(string path)
    {
        if (OperatingSystem.IsWindows()) return;
        foreach (var file in new[] { path, path + "-wal", path + "-shm" })
        {
            try
            {
                if (File.Exists(file)) File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Not ours to change (a review opening another user's journal): leave it as it is.
            }
        }
    }

    /// <summary>The newest batch that never ended, with its last saved state: a power loss or a killed service.</summary>
    public (string Id, BatchState State, string RecipeJson)? FindUnfinished()
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT id, state_json, recipe_json FROM batches WHERE ended_at IS NULL AND state_json IS NOT NULL ORDER BY started_at DESC LIMIT 1";
        using var reader = command.ExecuteReader();
        if (!reader.Read()) return null;
        var state = JsonSerializer.Deserialize(reader.GetString(1), JournalJsonContext.Default.BatchState)
            ?? throw new InvalidDataException($"journal {Path}: batch {reader.GetString(0)} has an empty state");
        return (reader.GetString(0), state, reader.GetString(2));
    }

    public string? LoadCheckpoint(string batchId)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT json FROM checkpoints WHERE batch_id = $b";
        command.Parameters.AddWithValue("$b", batchId);
        return command.ExecuteScalar() as string;
    }

    public IReadOnlyList<BatchSummary> ListBatches()
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT id, started_at, ended_at, outcome, recipe_name, phase FROM batches ORDER BY started_at, id";
        using var reader = command.ExecuteReader();
        var result = new List<BatchSummary>();
        while (reader.Read())
        {
            result.Add(new BatchSummary(reader.GetString(0), FromMs(reader.GetInt64(1)), reader.IsDBNull(2) ? null : FromMs(reader.GetInt64(2)),
                reader.IsDBNull(3) ? "unfinished" : reader.GetString(3), reader.GetString(4), reader.GetString(5)));
        }
        return result;
    }

    public IReadOnlyList<JournalEvent> Events(string? batchId, int limit = 10_000)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = batchId is null
            ? $"SELECT {JournalEvent.Columns} FROM events ORDER BY seq LIMIT $n"
            : $"SELECT {JournalEvent.Columns} FROM events WHERE batch_id = $b ORDER BY seq LIMIT $n";
        if (batchId is not null) command.Parameters.AddWithValue("$b", batchId);
        command.Parameters.AddWithValue("$n", limit);
        using var reader = command.ExecuteReader();
        return JournalEvent.Read(reader);
    }

    public long CountSamples(string batchId)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT COUNT(*) FROM samples WHERE batch_id = $b";
        command.Parameters.AddWithValue("$b", batchId);
        return (long)command.ExecuteScalar()!;
    }

    public void Dispose()
    {
        try
        {
            Commit(force: true);
        }
        catch (SqliteException)
        {
            // Closing a journal whose disk is full: the failure was reported where it happened; closing must not throw.
        }
        finally
        {
            checkpointer?.Dispose();
            insertSample.Dispose();
            insertEvent.Dispose();
            saveState.Dispose();
            saveCheckpoint.Dispose();
            json.Dispose();
            connection.Dispose();
        }
    }

    private SqliteTransaction Transaction()
    {
        if (transaction is null && Volatile.Read(ref externalWriters) > 0)
        {
            // A metadata writer is waiting for the write lock: let it in between this commit and the next (it takes a millisecond).
            SpinWait.SpinUntil(() => Volatile.Read(ref externalWriters) == 0, ExternalWriterWait);
        }
        return transaction ??= connection.BeginTransaction();
    }

    private void Execute(string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private SqliteCommand Prepare(string sql, params string[] names)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in names)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name, Value = DBNull.Value });
        }
        return command;
    }

    private static DateTimeOffset FromMs(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);
}
