using System.Text.Json;
using Microsoft.Data.Sqlite;
using StillControl.Cli;

namespace StillControl.Simulation;

/// <summary>Runs <c>stillcontrol simulate --json</c> through the real command line and host, in this process.</summary>
public sealed class Simulate : IDisposable
{
    private readonly TestFiles files = new();

    public string Journal => files.PathOf("journal.db");

    public string Output { get; private set; } = "";
    public string Progress { get; private set; } = "";
    public int ExitCode { get; private set; }
    public JsonElement Result { get; private set; }

    public static async Task<Simulate> RunAsync(string? scenarioJson = null, string? recipeJson = null, params string[] extra)
    {
        var run = new Simulate();
        var args = new List<string> { "simulate", "--json", "--journal", run.Journal };
        if (scenarioJson is not null) args.AddRange(["--scenario", run.files.Write("scenario.json", scenarioJson)]);
        if (recipeJson is not null) args.AddRange(["--recipe", run.files.Write("recipe.json", recipeJson)]);
        args.AddRange(extra);
        if (!extra.Contains("--mqtt")) args.AddRange(["--mqtt", "off"]);
        var output = new StringWriter();
        var progress = new StringWriter();
        run.ExitCode = await CommandLine.RunAsync(args.ToArray(), output, progress);
        run.Output = output.ToString();
        run.Progress = progress.ToString();
        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}: {run.Progress}");
        using var document = JsonDocument.Parse(run.Output);
        run.Result = document.RootElement.Clone();
        return run;
    }

    public string Outcome => Result.GetProperty("outcome").GetString()!;

    public IEnumerable<JsonElement> Phases => Result.GetProperty("phases").EnumerateArray();

    public JsonElement Phase(string name) => Phases.Single(p => p.GetProperty("phase").GetString() == name);

    public IEnumerable<JsonElement> Alarms => Result.GetProperty("alarms").EnumerateArray();

    public JsonElement Alarm(string code) => Alarms.First(a => a.GetProperty("code").GetString() == code);

    public IEnumerable<JsonElement> Fractions => Result.GetProperty("fractions").EnumerateArray();

    public double? InterlockLatencyMs => Result.GetProperty("interlockLatencyMs").ValueKind == JsonValueKind.Null ? null : Result.GetProperty("interlockLatencyMs").GetDouble();

    /// <summary>Samples from the journal as (seconds from batch start, steam %, phase, held).</summary>
    public List<(double Seconds, double Steam, string Phase, bool Held)> Samples()
    {
        using var connection = new SqliteConnection($"Data Source={Journal};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT s.t - b.started_at, s.steam_percent, s.phase, s.held FROM samples s JOIN batches b ON b.id = s.batch_id ORDER BY s.t";
        using var reader = command.ExecuteReader();
        var result = new List<(double, double, string, bool)>();
        while (reader.Read()) result.Add((reader.GetInt64(0) / 1000.0, reader.GetDouble(1), reader.GetString(2), reader.GetInt64(3) != 0));
        return result;
    }

    public void Dispose() => files.Dispose();
}
