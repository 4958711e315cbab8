using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using StillControl.Journal;
using StillControl.Process;

namespace StillControl.Reports;

/// <summary>Which batches <c>batches</c> lists: every criterion optional, all must hold.</summary>
/// <param name="Search">Text a batch's id, operator (who started it) or grain lot contains, ignoring case.</param>
public sealed record BatchFilter(DateTimeOffset? From = null, DateTimeOffset? To = null, string? Still = null, string? Recipe = null, string? Outcome = null, string? Alarm = null,
    string? Search = null)
{
    /// <summary>Whether a listed batch holds <see cref="Search"/> in its id, operator or grain lot (always, without a search).</summary>
    public bool MatchesSearch(BatchListing b) =>
        Search is not { Length: > 0 } text
        || b.Id.Contains(text, StringComparison.OrdinalIgnoreCase)
        || (b.Operator?.Contains(text, StringComparison.OrdinalIgnoreCase) ?? false)
        || (b.GrainLot?.Contains(text, StringComparison.OrdinalIgnoreCase) ?? false);
}

/// <summary>A listed batch: the journal's summary, the still it ran on and how many alarms it raised.</summary>
/// <param name="Activity">For a batch that has not ended: "running" while a service has the journal open (the newest such batch),
/// otherwise "interrupted" (power loss, kill or crash; <c>run</c> brings it back held). Null once ended.</param>
/// <param name="Site">The still's site, for batches listed from the plant's archive; absent for a still's own journal.</param>
/// <param name="Operator">Who started the batch (its accepted start command), when the journal says.</param>
/// <param name="GrainLot">The batch's grain lot from its metadata, when it has one.</param>
public sealed record BatchListing(string Id, string Still, DateTimeOffset StartedAt, DateTimeOffset? EndedAt, string Outcome, string Recipe, string Phase, int Trips, int Warnings,
    string? Activity, [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? Site = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? Operator = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? GrainLot = null);

/// <summary>One journal sample as a review reads it: every channel's value (NaN when faulted or absent) and its fault.</summary>
public sealed record SampleRow(DateTimeOffset At, string Phase, bool Held, double SteamPercent, double CoolingPercent, string? Receiver, double? StrengthPercent,
    double[] Values, string?[] Faults);

/// <summary>
/// Read-only questions to a journal for the people who review batches. Its own read-only connection: a report of a batch
/// that is still running reads beside the control loop (WAL) without taking its write lock.
/// </summary>
public sealed class JournalQuery : IBatchSource
{
    private readonly SqliteConnection connection;

    /// <summary>Outcomes as <c>batches --outcome</c> accepts them: unfinished is running now, or interrupted (power loss, kill).</summary>
    public static readonly string[] Outcomes = ["completed", "aborted", "held", "unfinished", "running", "interrupted"];

    /// <summary>The journal writes an outcome when a batch ends; before that, a held batch is held and any other unfinished.</summary>
    /// <remarks>A garbled state row reads as unfinished here (json_valid first): one damaged row never stops the listing.</remarks>
    private const string OutcomeSql = "COALESCE(b.outcome, CASE WHEN json_valid(b.state_json) AND json_extract(b.state_json, '$.held') THEN 'held' ELSE 'unfinished' END)";

    /// <summary>A journal row that cannot be read: named, so a review can skip it with a warning instead of failing whole.</summary>
    public sealed class DamagedRowException(string message) : Exception(message);

    public JournalQuery(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"journal {path}: no such file", path);
        Path = path;
        connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        using (var timeout = connection.CreateCommand())
        {
            timeout.CommandText = "PRAGMA busy_timeout=5000";
            timeout.ExecuteNonQuery();
        }
        using var check = connection.CreateCommand();
        check.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('batches', 'samples', 'events')";
        HasTables = Convert.ToInt64(check.ExecuteScalar(), CultureInfo.InvariantCulture) == 3;
    }

    public string Path { get; }

    public string Description => $"journal {Path}";

    public string Option => $"--journal {Path}";

    public string StillName(string batchId) => StillOf(batchId);

    public bool IsRunning(string batchId) => RunningBatch() == batchId;

    /// <summary>False for an empty file or a database that never held a batch.</summary>
    public bool HasTables { get; }

    /// <summary>The still a batch ran on: its id is STILL-yyyyMMdd-HHmmss.</summary>
    /// <remarks>A second batch started in the same second carries a suffix (STILL-yyyyMMdd-HHmmss-2).</remarks>
    public static string StillOf(string batchId) =>
        System.Text.RegularExpressions.Regex.Match(batchId, @"^(.+)-\d{8}-\d{6}(-\d+)?$") is { Success: true } m ? m.Groups[1].Value : batchId;

    public List<BatchListing> List(BatchFilter filter)
    {
        if (!HasTables) return [];
        using var command = connection.CreateCommand();
        var where = new List<string>();
        if (filter.From is { } from)
        {
            where.Add("b.started_at >= $from");
            command.Parameters.AddWithValue("$from", from.ToUnixTimeMilliseconds());
        }
        if (filter.To is { } to)
        {
            where.Add("b.started_at < $to");
            command.Parameters.AddWithValue("$to", to.ToUnixTimeMilliseconds());
        }

        if (filter.Recipe is { } recipe)
        {
            where.Add("b.recipe_name = $recipe");
            command.Parameters.AddWithValue("$recipe", recipe);
        }
        var activity = filter.Outcome is "running" or "interrupted" ? filter.Outcome : null;
        if (activity is not null)
        {
            where.Add("b.ended_at IS NULL");
        }
        else if (filter.Outcome is { } outcome)
        {
            where.Add($"{OutcomeSql} = $outcome");
            command.Parameters.AddWithValue("$outcome", outcome);
        }
        if (filter.Alarm is { } alarm)
        {
            where.Add("EXISTS (SELECT 1 FROM events e WHERE e.batch_id = b.id AND e.kind = 'alarm-raised' AND e.code = $alarm)");
            command.Parameters.AddWithValue("$alarm", alarm);
        }
        // Who started it and the grain lot, for the listing and its text search; a damaged state or metadata value reads as none.
        var grainLot = BatchJournal.HasColumn(connection, "batches", "metadata_json")
            ? "CASE WHEN json_valid(b.metadata_json) THEN json_extract(b.metadata_json, '$.grainLot') END"
            : "NULL";
        command.CommandText = $"""
            SELECT b.id, b.started_at, b.ended_at, {OutcomeSql}, b.recipe_name, b.phase, coalesce(a.trips, 0), coalesce(a.raised, 0),
                (SELECT json_extract(s.value, '$.operator') FROM json_each(CASE WHEN json_valid(b.state_json) THEN b.state_json ELSE json_object() END, '$.actions') s
                 WHERE json_extract(s.value, '$.command') = 'start' AND json_extract(s.value, '$.accepted') LIMIT 1),
                {grainLot}
            FROM batches b
            LEFT JOIN (SELECT batch_id, sum(kind = 'interlock-trip') AS trips, sum(kind = 'alarm-raised') AS raised
                       FROM events WHERE kind IN ('interlock-trip', 'alarm-raised') GROUP BY batch_id) a ON a.batch_id = b.id
            {(where.Count > 0 ? "WHERE " + string.Join(" AND ", where) : "")}
            ORDER BY (SELECT min(f.seq) FROM events f WHERE f.batch_id = b.id) DESC, b.started_at DESC, b.id DESC
            """;
        var running = RunningBatch();
        using var reader = command.ExecuteReader();
        var result = new List<BatchListing>();
        while (reader.Read())
        {
            var id = reader.GetString(0);
            var trips = reader.GetInt32(6);
            var ended = reader.IsDBNull(2) ? (DateTimeOffset?)null : FromMs(reader.GetInt64(2));
            result.Add(new BatchListing(id, StillOf(id), FromMs(reader.GetInt64(1)), ended,
                reader.GetString(3), reader.GetString(4), reader.GetString(5), trips, reader.GetInt32(7) - trips,
                ended is not null ? null : id == running ? "running" : "interrupted", null,
                reader.IsDBNull(8) ? null : Convert.ToString(reader.GetValue(8), CultureInfo.InvariantCulture),
                reader.IsDBNull(9) ? null : Convert.ToString(reader.GetValue(9), CultureInfo.InvariantCulture)));
        }
        if (filter.Still is { } wanted) result = result.Where(b => b.Still == wanted).ToList();
        if (filter.Search is { Length: > 0 }) result = result.Where(filter.MatchesSearch).ToList();
        return activity is null ? result : result.Where(b => b.Activity == activity).ToList();
    }

    /// <summary>True while a service (<c>run</c>, <c>simulate</c>) has this journal open: see <see cref="Journal.JournalLock"/>.</summary>
    public bool InUse => Journal.JournalLock.InUse(Path);

    /// <summary>True when some batch has not ended (running, or interrupted): what a lost write-ahead log can have cut short.</summary>
    public bool HasUnendedBatch()
    {
        if (!HasTables) return false;
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT EXISTS (SELECT 1 FROM batches WHERE ended_at IS NULL)";
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) == 1;
    }

    /// <summary>The batch a service is running now: the newest that has not ended, while the journal is in use; otherwise null.</summary>
    public string? RunningBatch()
    {
        if (!HasTables || !InUse) return null;
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id FROM batches WHERE ended_at IS NULL ORDER BY started_at DESC, id DESC LIMIT 1";
        return command.ExecuteScalar() as string;
    }

    /// <summary>The stored state, recipe and outcome of one batch; null when the journal has no such batch.</summary>
    public (BatchState State, string RecipeJson, string Outcome, DateTimeOffset? StateAt)? Load(string id)
    {
        if (!HasTables) return null;
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT state_json, recipe_json, outcome, state_at FROM batches WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        using var reader = command.ExecuteReader();
        if (!reader.Read() || reader.IsDBNull(0)) return null;
        BatchState state;
        try
        {
            state = JsonSerializer.Deserialize(reader.GetString(0), JournalJsonContext.Default.BatchState)
                ?? throw new JsonException("the stored state is empty");
        }
        catch (JsonException ex)
        {
            throw new DamagedRowException($"journal {Path}: batch {id}: its stored state is damaged and cannot be read ({ex.Message.Split(". ")[0]}); the other batches are unaffected");
        }
        return (state, reader.GetString(1), reader.IsDBNull(2) ? "unfinished" : reader.GetString(2), reader.IsDBNull(3) ? null : FromMs(reader.GetInt64(3)));
    }

    /// <summary>
    /// A batch's metadata (grain lot and mass, pit, notes); null when it has none, when the stored value is damaged, or when the
    /// journal predates metadata (it is opened read-only here, so its migration waits for the next service to open it).
    /// </summary>
    public BatchMetadata? Metadata(string id)
    {
        if (!HasTables || !BatchJournal.HasColumn(connection, "batches", "metadata_json")) return null;
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT metadata_json FROM batches WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        return BatchMetadata.FromJson(command.ExecuteScalar() as string);
    }

    /// <summary>Every sample of a batch, oldest first.</summary>
    public List<SampleRow> Samples(string batchId)
    {
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT t, phase, held, steam_percent, cooling_percent, receiver, strength_percent, readings
            FROM samples WHERE batch_id = $b ORDER BY t, seq
            """;
        command.Parameters.AddWithValue("$b", batchId);
        using var reader = command.ExecuteReader();
        var result = new List<SampleRow>();
        while (reader.Read())
        {
            var (values, faults) = Readings(reader.GetString(7));
            result.Add(new SampleRow(FromMs(reader.GetInt64(0)), reader.GetString(1), reader.GetInt64(2) != 0, reader.GetDouble(3), reader.GetDouble(4),
                reader.IsDBNull(5) ? null : reader.GetString(5), reader.IsDBNull(6) ? null : reader.GetDouble(6), values, faults));
        }
        return result;
    }

    /// <summary>A sample's readings JSON as values per channel (NaN when faulted or absent) and faults per channel.</summary>
    public static (double[] Values, string?[] Faults) Readings(string json)
    {
        var values = new double[Channels.Count];
        Array.Fill(values, double.NaN);
        var faults = new string?[Channels.Count];
        using var readings = JsonDocument.Parse(json);
        foreach (var channel in readings.RootElement.EnumerateObject())
        {
            if (!Channels.TryParse(channel.Name, out var c)) continue;
            if (channel.Value.TryGetProperty("value", out var value)) values[(int)c] = value.GetDouble();
            else faults[(int)c] = channel.Value.TryGetProperty("fault", out var fault) ? fault.GetString() : "faulted";
        }
        return (values, faults);
    }

    public List<JournalEvent> Events(string batchId)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {JournalEvent.Columns} FROM events WHERE batch_id = $b ORDER BY seq";
        command.Parameters.AddWithValue("$b", batchId);
        using var reader = command.ExecuteReader();
        return JournalEvent.Read(reader);
    }

    private static DateTimeOffset FromMs(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    public void Dispose() => connection.Dispose();
}
