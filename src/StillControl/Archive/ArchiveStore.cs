using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;
using StillControl.Journal;
using StillControl.Process;
using StillControl.Reports;

namespace StillControl.Archive;

/// <summary>A value given as <c>--archive</c> or <c>Plant:Archive</c> that names no usable archive.</summary>
public sealed class ArchiveUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The plant's central batch archive: every still's batch headers, events and samples, keyed by (still, batch, journal
/// sequence) so a chunk that arrives twice changes nothing. An embedded SQLite file by default; PostgreSQL when given a
/// connection string (anything with <c>Host=</c>, or a <c>postgres://</c> address). The same class answers the review verbs
/// (<see cref="IBatchSource"/>), so a report from the archive is made by the same code as one from a still's journal.
/// </summary>
public sealed class ArchiveStore : IBatchSource
{
    private readonly DbConnection connection;
    private readonly Dictionary<string, string?> stills = new(StringComparer.Ordinal);

    public bool IsPostgres { get; }

    /// <summary>The file path, or the PostgreSQL server and database (never its password).</summary>
    public string Target { get; }

    public string Description => $"archive {Target}";

    public string Option { get; }

    public bool HasTables { get; private set; }

    /// <summary>Whether <paramref name="value"/> is a PostgreSQL connection string rather than a file path.</summary>
    public static bool IsConnectionString(string value) =>
        value.Contains("Host=", StringComparison.OrdinalIgnoreCase) || value.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase)
        || value.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase);

    private ArchiveStore(DbConnection connection, bool postgres, string target, string option)
    {
        this.connection = connection;
        IsPostgres = postgres;
        Target = target;
        Option = option;
    }

    /// <summary>Opens (and creates, unless <paramref name="readOnly"/>) the archive named by a file path or a connection string.</summary>
    /// <exception cref="ArchiveUnavailableException">The file does not exist (read-only), is not SQLite, or the server cannot be reached.</exception>
    public static ArchiveStore Open(string value, bool readOnly = false)
    {
        if (string.IsNullOrWhiteSpace(value)) throw new ArchiveUnavailableException("archive: empty; a file path (SQLite) or a PostgreSQL connection string (Host=...;Database=...)");
        if (IsConnectionString(value)) return OpenPostgres(value);
        var path = value;
        if (readOnly && !File.Exists(path)) throw new ArchiveUnavailableException($"archive {path}: no such file");
        if (Directory.Exists(path)) throw new ArchiveUnavailableException($"archive {path}: a folder; give a file name (SQLite) or a PostgreSQL connection string");
        try
        {
            if (!readOnly && Path.GetDirectoryName(Path.GetFullPath(path)) is { } directory) Directory.CreateDirectory(directory);
            var sqlite = new SqliteConnection(new SqliteConnectionStringBuilder
            {
                DataSource = path, Pooling = false, Mode = readOnly ? SqliteOpenMode.ReadOnly : SqliteOpenMode.ReadWriteCreate,
            }.ToString());
            sqlite.Open();
            var store = new ArchiveStore(sqlite, postgres: false, path, $"--archive {path}");
            try
            {
                store.Execute(readOnly ? "PRAGMA busy_timeout=5000;" : "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;");
                if (!readOnly)
                {
                    store.CreateSchema();
                    BatchJournal.RestrictAccess(path);
                }
                store.HasTables = store.TablesExist();
                return store;
            }
            catch
            {
                store.Dispose();
                throw;
            }
        }
        catch (SqliteException ex)
        {
            throw new ArchiveUnavailableException($"archive {path}: not a usable SQLite archive ({ex.Message})", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ArchiveUnavailableException($"archive {path}: cannot be opened ({ex.Message})", ex);
        }
    }

    private static ArchiveStore OpenPostgres(string value)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(value.Contains('=') ? value : ConvertUri(value));
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or KeyNotFoundException or UriFormatException)
        {
            throw new ArchiveUnavailableException($"archive: the PostgreSQL connection string is not valid ({ex.Message}); e.g. Host=127.0.0.1;Port=5432;Database=stillcontrol;Username=plant", ex);
        }
        var target = $"PostgreSQL {builder.Host}:{builder.Port}/{builder.Database ?? builder.Username}";
        var safe = new NpgsqlConnectionStringBuilder { Host = builder.Host, Port = builder.Port, Database = builder.Database, Username = builder.Username };
        var postgres = new NpgsqlConnection(builder.ConnectionString);
        try
        {
            postgres.Open();
        }
        catch (Exception ex) when (ex is NpgsqlException or ArgumentException or InvalidOperationException)
        {
            postgres.Dispose();
            throw new ArchiveUnavailableException($"archive {target}: cannot connect ({ex.Message})", ex);
        }
        var store = new ArchiveStore(postgres, postgres: true, target, $"--archive \"{safe.ConnectionString}\"");
        try
        {
            store.CreateSchema();
            store.HasTables = true;
            return store;
        }
        catch (Exception ex)
        {
            store.Dispose();
            throw new ArchiveUnavailableException($"archive {target}: cannot create the archive tables ({ex.Message})", ex);
        }
    }

    /// <summary>postgres://user:password@host:port/database as a key=value connection string.</summary>
    private static string ConvertUri(string value)
    {
        var uri = new Uri(value);
        var builder = new NpgsqlConnectionStringBuilder { Host = uri.Host, Port = uri.Port > 0 ? uri.Port : 5432, Database = uri.AbsolutePath.Trim('/') };
        if (uri.UserInfo.Split(':', 2) is [var user, ..] and var parts && user.Length > 0)
        {
            builder.Username = Uri.UnescapeDataString(user);
            if (parts.Length > 1) builder.Password = Uri.UnescapeDataString(parts[1]);
        }
        return builder.ConnectionString;
    }

    private void CreateSchema()
    {
        // One schema for both databases: BIGINT, TEXT, SMALLINT and DOUBLE PRECISION mean the same to SQLite and PostgreSQL.
        Execute("""
            CREATE TABLE IF NOT EXISTS archive_batches (
                still TEXT NOT NULL, batch_id TEXT NOT NULL, site TEXT NOT NULL, started_at BIGINT NOT NULL, ended_at BIGINT, outcome TEXT,
                held SMALLINT NOT NULL, recipe_name TEXT NOT NULL, recipe_json TEXT NOT NULL, phase TEXT NOT NULL, state_json TEXT, state_at BIGINT,
                metadata_json TEXT, received_at BIGINT NOT NULL, PRIMARY KEY (still, batch_id));
            CREATE INDEX IF NOT EXISTS archive_batches_by_start ON archive_batches (started_at);
            CREATE INDEX IF NOT EXISTS archive_batches_by_id ON archive_batches (batch_id);
            CREATE TABLE IF NOT EXISTS archive_samples (
                still TEXT NOT NULL, batch_id TEXT NOT NULL, seq BIGINT NOT NULL, t BIGINT NOT NULL, phase TEXT NOT NULL, held SMALLINT NOT NULL,
                steam_percent DOUBLE PRECISION NOT NULL, cooling_percent DOUBLE PRECISION NOT NULL, receiver TEXT, strength_percent DOUBLE PRECISION,
                readings TEXT NOT NULL, PRIMARY KEY (still, batch_id, seq));
            CREATE TABLE IF NOT EXISTS archive_events (
                still TEXT NOT NULL, batch_id TEXT NOT NULL, seq BIGINT NOT NULL, t BIGINT NOT NULL, kind TEXT NOT NULL, code TEXT NOT NULL,
                phase TEXT NOT NULL, message TEXT NOT NULL, channel TEXT, PRIMARY KEY (still, batch_id, seq));
            """);
    }

    private bool TablesExist()
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('archive_batches', 'archive_samples', 'archive_events')";
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture) == 3;
    }

    // ---------------------------------------------------------------- ingest

    /// <summary>
    /// Stores a chunk in one transaction: all of it or none. Rows already held (same still, batch and sequence) are left as
    /// they are; a header replaces the stored one unless it is older (an earlier state) or would reopen an ended batch.
    /// </summary>
    /// <returns>The rows that were new.</returns>
    public int Ingest(ArchiveChunk chunk)
    {
        chunk.Check();
        using var transaction = connection.BeginTransaction();
        var added = 0;
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        foreach (var b in chunk.Batches) added += UpsertBatch(transaction, chunk, b, now);
        if (IsPostgres)
        {
            added += InsertSamplesPostgres(transaction, chunk);
            added += InsertEventsPostgres(transaction, chunk);
        }
        else
        {
            added += InsertSamplesSqlite(transaction, chunk);
            added += InsertEventsSqlite(transaction, chunk);
        }
        transaction.Commit();
        HasTables = true;
        return added;
    }

    private int UpsertBatch(DbTransaction transaction, ArchiveChunk chunk, ArchiveBatch b, long now)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO archive_batches (still, batch_id, site, started_at, ended_at, outcome, held, recipe_name, recipe_json, phase, state_json, state_at, metadata_json, received_at)
            VALUES (@still, @id, @site, @started, @ended, @outcome, @held, @rname, @rjson, @phase, @state, @stateAt, @meta, @now)
            ON CONFLICT (still, batch_id) DO UPDATE SET site = excluded.site, ended_at = excluded.ended_at, outcome = excluded.outcome, held = excluded.held,
                recipe_name = excluded.recipe_name, recipe_json = excluded.recipe_json, phase = excluded.phase, state_json = excluded.state_json,
                state_at = excluded.state_at, metadata_json = excluded.metadata_json, received_at = excluded.received_at
            WHERE COALESCE(excluded.state_at, -1) >= COALESCE(archive_batches.state_at, -1)
                AND (archive_batches.outcome IS NULL OR excluded.outcome IS NOT NULL)
            """;
        Add(command, "@still", DbType.String, chunk.Still);
        Add(command, "@id", DbType.String, b.Id);
        Add(command, "@site", DbType.String, chunk.Site);
        Add(command, "@started", DbType.Int64, b.StartedAt);
        Add(command, "@ended", DbType.Int64, b.EndedAt);
        Add(command, "@outcome", DbType.String, b.Outcome);
        Add(command, "@held", DbType.Int16, (short)(HeldIn(b.StateJson) ? 1 : 0));
        Add(command, "@rname", DbType.String, b.RecipeName);
        Add(command, "@rjson", DbType.String, b.RecipeJson);
        Add(command, "@phase", DbType.String, b.Phase);
        Add(command, "@state", DbType.String, b.StateJson);
        Add(command, "@stateAt", DbType.Int64, b.StateAt);
        Add(command, "@meta", DbType.String, b.MetadataJson);
        Add(command, "@now", DbType.Int64, now);
        return command.ExecuteNonQuery() > 0 ? 1 : 0;
    }

    /// <summary>Whether a stored state says the batch is held (a garbled state is not held: it lists as unfinished).</summary>
    private static bool HeldIn(string? stateJson)
    {
        if (stateJson is null) return false;
        try
        {
            using var document = JsonDocument.Parse(stateJson);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("held", out var held) && held.ValueKind == JsonValueKind.True;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private int InsertSamplesSqlite(DbTransaction transaction, ArchiveChunk chunk)
    {
        if (chunk.Samples.Count == 0) return 0;
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO archive_samples (still, batch_id, seq, t, phase, held, steam_percent, cooling_percent, receiver, strength_percent, readings)
            VALUES (@still, @b, @seq, @t, @phase, @held, @steam, @cooling, @receiver, @strength, @readings) ON CONFLICT DO NOTHING
            """;
        Add(command, "@still", DbType.String, chunk.Still);
        var b = Add(command, "@b", DbType.String, null);
        var seq = Add(command, "@seq", DbType.Int64, null);
        var t = Add(command, "@t", DbType.Int64, null);
        var phase = Add(command, "@phase", DbType.String, null);
        var held = Add(command, "@held", DbType.Int16, null);
        var steam = Add(command, "@steam", DbType.Double, null);
        var cooling = Add(command, "@cooling", DbType.Double, null);
        var receiver = Add(command, "@receiver", DbType.String, null);
        var strength = Add(command, "@strength", DbType.Double, null);
        var readings = Add(command, "@readings", DbType.String, null);
        command.Prepare();
        var added = 0;
        foreach (var s in chunk.Samples)
        {
            b.Value = s.BatchId;
            seq.Value = s.Seq;
            t.Value = s.T;
            phase.Value = s.Phase;
            held.Value = (short)(s.Held ? 1 : 0);
            steam.Value = s.Steam;
            cooling.Value = s.Cooling;
            receiver.Value = (object?)s.Receiver ?? DBNull.Value;
            strength.Value = (object?)s.Strength ?? DBNull.Value;
            readings.Value = s.Readings;
            added += command.ExecuteNonQuery();
        }
        return added;
    }

    private int InsertEventsSqlite(DbTransaction transaction, ArchiveChunk chunk)
    {
        if (chunk.Events.Count == 0) return 0;
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO archive_events (still, batch_id, seq, t, kind, code, phase, message, channel)
            VALUES (@still, @b, @seq, @t, @kind, @code, @phase, @message, @channel) ON CONFLICT DO NOTHING
            """;
        Add(command, "@still", DbType.String, chunk.Still);
        var b = Add(command, "@b", DbType.String, null);
        var seq = Add(command, "@seq", DbType.Int64, null);
        var t = Add(command, "@t", DbType.Int64, null);
        var kind = Add(command, "@kind", DbType.String, null);
        var code = Add(command, "@code", DbType.String, null);
        var phase = Add(command, "@phase", DbType.String, null);
        var message = Add(command, "@message", DbType.String, null);
        var channel = Add(command, "@channel", DbType.String, null);
        command.Prepare();
        var added = 0;
        foreach (var e in chunk.Events)
        {
            b.Value = e.BatchId;
            seq.Value = e.Seq;
            t.Value = e.T;
            kind.Value = e.Kind;
            code.Value = e.Code;
            phase.Value = e.Phase;
            message.Value = e.Message;
            channel.Value = (object?)e.Channel ?? DBNull.Value;
            added += command.ExecuteNonQuery();
        }
        return added;
    }

    /// <summary>PostgreSQL: the whole chunk's samples in one statement, as arrays unnested server-side (one round trip).</summary>
    private int InsertSamplesPostgres(DbTransaction transaction, ArchiveChunk chunk)
    {
        if (chunk.Samples.Count == 0) return 0;
        var s = chunk.Samples;
        using var command = new NpgsqlCommand("""
            INSERT INTO archive_samples (still, batch_id, seq, t, phase, held, steam_percent, cooling_percent, receiver, strength_percent, readings)
            SELECT @still, u.* FROM unnest(@b, @seq, @t, @phase, @held, @steam, @cooling, @receiver, @strength, @readings) AS u
            ON CONFLICT DO NOTHING
            """, (NpgsqlConnection)connection, (NpgsqlTransaction)transaction);
        command.Parameters.AddWithValue("still", NpgsqlDbType.Text, chunk.Still);
        command.Parameters.AddWithValue("b", NpgsqlDbType.Array | NpgsqlDbType.Text, s.Select(x => x.BatchId).ToArray());
        command.Parameters.AddWithValue("seq", NpgsqlDbType.Array | NpgsqlDbType.Bigint, s.Select(x => x.Seq).ToArray());
        command.Parameters.AddWithValue("t", NpgsqlDbType.Array | NpgsqlDbType.Bigint, s.Select(x => x.T).ToArray());
        command.Parameters.AddWithValue("phase", NpgsqlDbType.Array | NpgsqlDbType.Text, s.Select(x => x.Phase).ToArray());
        command.Parameters.AddWithValue("held", NpgsqlDbType.Array | NpgsqlDbType.Smallint, s.Select(x => (short)(x.Held ? 1 : 0)).ToArray());
        command.Parameters.AddWithValue("steam", NpgsqlDbType.Array | NpgsqlDbType.Double, s.Select(x => x.Steam).ToArray());
        command.Parameters.AddWithValue("cooling", NpgsqlDbType.Array | NpgsqlDbType.Double, s.Select(x => x.Cooling).ToArray());
        command.Parameters.AddWithValue("receiver", NpgsqlDbType.Array | NpgsqlDbType.Text, s.Select(x => x.Receiver).ToArray());
        command.Parameters.AddWithValue("strength", NpgsqlDbType.Array | NpgsqlDbType.Double, s.Select(x => x.Strength).ToArray());
        command.Parameters.AddWithValue("readings", NpgsqlDbType.Array | NpgsqlDbType.Text, s.Select(x => x.Readings).ToArray());
        return command.ExecuteNonQuery();
    }

    private int InsertEventsPostgres(DbTransaction transaction, ArchiveChunk chunk)
    {
        if (chunk.Events.Count == 0) return 0;
        var e = chunk.Events;
        using var command = new NpgsqlCommand("""
            INSERT INTO archive_events (still, batch_id, seq, t, kind, code, phase, message, channel)
            SELECT @still, u.* FROM unnest(@b, @seq, @t, @kind, @code, @phase, @message, @channel) AS u
            ON CONFLICT DO NOTHING
            """, (NpgsqlConnection)connection, (NpgsqlTransaction)transaction);
        command.Parameters.AddWithValue("still", NpgsqlDbType.Text, chunk.Still);
        command.Parameters.AddWithValue("b", NpgsqlDbType.Array | NpgsqlDbType.Text, e.Select(x => x.BatchId).ToArray());
        command.Parameters.AddWithValue("seq", NpgsqlDbType.Array | NpgsqlDbType.Bigint, e.Select(x => x.Seq).ToArray());
        command.Parameters.AddWithValue("t", NpgsqlDbType.Array | NpgsqlDbType.Bigint, e.Select(x => x.T).ToArray());
        command.Parameters.AddWithValue("kind", NpgsqlDbType.Array | NpgsqlDbType.Text, e.Select(x => x.Kind).ToArray());
        command.Parameters.AddWithValue("code", NpgsqlDbType.Array | NpgsqlDbType.Text, e.Select(x => x.Code).ToArray());
        command.Parameters.AddWithValue("phase", NpgsqlDbType.Array | NpgsqlDbType.Text, e.Select(x => x.Phase).ToArray());
        command.Parameters.AddWithValue("message", NpgsqlDbType.Array | NpgsqlDbType.Text, e.Select(x => x.Message).ToArray());
        command.Parameters.AddWithValue("channel", NpgsqlDbType.Array | NpgsqlDbType.Text, e.Select(x => x.Channel).ToArray());
        return command.ExecuteNonQuery();
    }

    // ---------------------------------------------------------------- review (IBatchSource)

    private const string OutcomeSql = "COALESCE(b.outcome, CASE WHEN b.held = 1 THEN 'held' ELSE 'unfinished' END)";

    public List<BatchListing> List(BatchFilter filter)
    {
        if (!HasTables) return [];
        using var command = connection.CreateCommand();
        var where = new List<string>();
        if (filter.From is { } from)
        {
            where.Add("b.started_at >= @from");
            Add(command, "@from", DbType.Int64, from.ToUnixTimeMilliseconds());
        }
        if (filter.To is { } to)
        {
            where.Add("b.started_at < @to");
            Add(command, "@to", DbType.Int64, to.ToUnixTimeMilliseconds());
        }
        if (filter.Still is { } still)
        {
            where.Add("b.still = @still");
            Add(command, "@still", DbType.String, still);
        }
        if (filter.Recipe is { } recipe)
        {
            where.Add("b.recipe_name = @recipe");
            Add(command, "@recipe", DbType.String, recipe);
        }
        var activity = filter.Outcome is "running" or "interrupted" ? filter.Outcome : null;
        if (activity is not null)
        {
            where.Add("b.ended_at IS NULL");
        }
        else if (filter.Outcome is { } outcome)
        {
            where.Add($"{OutcomeSql} = @outcome");
            Add(command, "@outcome", DbType.String, outcome);
        }
        if (filter.Alarm is { } alarm)
        {
            where.Add("EXISTS (SELECT 1 FROM archive_events e WHERE e.still = b.still AND e.batch_id = b.batch_id AND e.kind = 'alarm-raised' AND e.code = @alarm)");
            Add(command, "@alarm", DbType.String, alarm);
        }
        command.CommandText = $"""
            SELECT b.still, b.site, b.batch_id, b.started_at, b.ended_at, {OutcomeSql}, b.recipe_name, b.phase, COALESCE(a.trips, 0), COALESCE(a.raised, 0)
            FROM archive_batches b
            LEFT JOIN (SELECT still, batch_id, SUM(CASE WHEN kind = 'interlock-trip' THEN 1 ELSE 0 END) AS trips,
                              SUM(CASE WHEN kind = 'alarm-raised' THEN 1 ELSE 0 END) AS raised
                       FROM archive_events WHERE kind IN ('interlock-trip', 'alarm-raised') GROUP BY still, batch_id) a
                ON a.still = b.still AND a.batch_id = b.batch_id
            {(where.Count > 0 ? "WHERE " + string.Join(" AND ", where) : "")}
            ORDER BY b.started_at DESC, b.batch_id DESC
            """;
        var running = RunningBatches();
        var result = new List<BatchListing>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                var name = reader.GetString(0);
                var id = reader.GetString(2);
                var ended = reader.IsDBNull(4) ? (DateTimeOffset?)null : FromMs(reader.GetInt64(4));
                var trips = Convert.ToInt32(reader.GetValue(8), CultureInfo.InvariantCulture);
                var raised = Convert.ToInt32(reader.GetValue(9), CultureInfo.InvariantCulture);
                result.Add(new BatchListing(id, name, FromMs(reader.GetInt64(3)), ended, reader.GetString(5), reader.GetString(6), reader.GetString(7), trips, raised - trips,
                    ended is not null ? null : running.Contains((name, id)) ? "running" : "interrupted", reader.GetString(1)));
            }
        }
        // The archive keeps no operator or grain lot in its listing: a text search matches the batch id here.
        if (filter.Search is { Length: > 0 }) result = result.Where(filter.MatchesSearch).ToList();
        return activity is null ? result : result.Where(b => b.Activity == activity).ToList();
    }

    /// <summary>
    /// The archive cannot see a still's service; it counts each still's newest unended batch as running, and any older unended
    /// batch of that still as interrupted (the still started another one after it).
    /// </summary>
    private HashSet<(string Still, string Id)> RunningBatches()
    {
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT b.still, b.batch_id FROM archive_batches b
            WHERE b.ended_at IS NULL AND NOT EXISTS (SELECT 1 FROM archive_batches n WHERE n.still = b.still AND n.started_at > b.started_at)
            """;
        using var reader = command.ExecuteReader();
        var result = new HashSet<(string, string)>();
        while (reader.Read()) result.Add((reader.GetString(0), reader.GetString(1)));
        return result;
    }

    public (BatchState State, string RecipeJson, string Outcome, DateTimeOffset? StateAt)? Load(string id)
    {
        if (!HasTables) return null;
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT state_json, recipe_json, outcome, state_at, still FROM archive_batches WHERE batch_id = @id ORDER BY still";
        Add(command, "@id", DbType.String, id);
        using var reader = command.ExecuteReader();
        if (!reader.Read() || reader.IsDBNull(0)) return null;
        stills[id] = reader.GetString(4);
        BatchState state;
        try
        {
            state = JsonSerializer.Deserialize(reader.GetString(0), JournalJsonContext.Default.BatchState) ?? throw new JsonException("the stored state is empty");
        }
        catch (JsonException ex)
        {
            throw new JournalQuery.DamagedRowException($"{Description}: batch {id}: its stored state is damaged and cannot be read ({ex.Message.Split(". ")[0]}); the other batches are unaffected");
        }
        return (state, reader.GetString(1), reader.IsDBNull(2) ? "unfinished" : reader.GetString(2), reader.IsDBNull(3) ? null : FromMs(reader.GetInt64(3)));
    }

    public BatchMetadata? Metadata(string id)
    {
        if (!HasTables) return null;
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT metadata_json FROM archive_batches WHERE still = @still AND batch_id = @id";
        Add(command, "@still", DbType.String, StillName(id));
        Add(command, "@id", DbType.String, id);
        return BatchMetadata.FromJson(command.ExecuteScalar() as string);
    }

    public string StillName(string batchId)
    {
        if (!stills.TryGetValue(batchId, out var still))
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT still FROM archive_batches WHERE batch_id = @id ORDER BY still";
            Add(command, "@id", DbType.String, batchId);
            still = HasTables ? command.ExecuteScalar() as string : null;
            stills[batchId] = still;
        }
        return still ?? JournalQuery.StillOf(batchId);
    }

    public bool IsRunning(string batchId) => RunningBatches().Contains((StillName(batchId), batchId));

    public List<SampleRow> Samples(string batchId)
    {
        if (!HasTables) return [];
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT t, phase, held, steam_percent, cooling_percent, receiver, strength_percent, readings
            FROM archive_samples WHERE still = @still AND batch_id = @b ORDER BY t, seq
            """;
        Add(command, "@still", DbType.String, StillName(batchId));
        Add(command, "@b", DbType.String, batchId);
        using var reader = command.ExecuteReader();
        var result = new List<SampleRow>();
        while (reader.Read())
        {
            var (values, faults) = JournalQuery.Readings(reader.GetString(7));
            result.Add(new SampleRow(FromMs(reader.GetInt64(0)), reader.GetString(1), Convert.ToInt64(reader.GetValue(2), CultureInfo.InvariantCulture) != 0,
                reader.GetDouble(3), reader.GetDouble(4), reader.IsDBNull(5) ? null : reader.GetString(5), reader.IsDBNull(6) ? null : reader.GetDouble(6), values, faults));
        }
        return result;
    }

    public List<JournalEvent> Events(string batchId)
    {
        if (!HasTables) return [];
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT seq, batch_id, t, kind, code, phase, message, channel FROM archive_events WHERE still = @still AND batch_id = @b ORDER BY seq";
        Add(command, "@still", DbType.String, StillName(batchId));
        Add(command, "@b", DbType.String, batchId);
        using var reader = command.ExecuteReader();
        var result = new List<JournalEvent>();
        while (reader.Read())
        {
            result.Add(new JournalEvent(reader.GetInt64(0), reader.GetString(1), FromMs(reader.GetInt64(2)), reader.GetString(3), reader.GetString(4), reader.GetString(5),
                reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetString(7)));
        }
        return result;
    }

    /// <summary>Samples and events held for one batch of one still: what the tests count against the still's journal.</summary>
    public (long Samples, long Events) Count(string still, string batchId)
    {
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT (SELECT count(*) FROM archive_samples WHERE still = @still AND batch_id = @b),
                   (SELECT count(*) FROM archive_events WHERE still = @still AND batch_id = @b)
            """;
        Add(command, "@still", DbType.String, still);
        Add(command, "@b", DbType.String, batchId);
        using var reader = command.ExecuteReader();
        reader.Read();
        return (Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture), Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture));
    }

    /// <summary>Samples and events held for every batch of every still.</summary>
    public (long Samples, long Events) Count()
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT (SELECT count(*) FROM archive_samples), (SELECT count(*) FROM archive_events)";
        using var reader = command.ExecuteReader();
        reader.Read();
        return (Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture), Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture));
    }

    public void Dispose() => connection.Dispose();

    private void Execute(string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static DbParameter Add(DbCommand command, string name, DbType type, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.DbType = type;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
        return parameter;
    }

    private static DateTimeOffset FromMs(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);
}
