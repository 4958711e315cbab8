using System.Text.Json;
using Microsoft.Data.Sqlite;
using StillControl.Journal;
using StillControl.Process;

namespace StillControl.Cli;

/// <summary>The executable itself: exit codes, kill -9 and resume, the service under SIGTERM.</summary>
public class ProcessTests
{
    [Fact]
    public async Task A_bad_recipe_exits_2_with_a_message_and_no_stack_trace()
    {
        using var files = new TestFiles();
        var recipe = files.Write("r.json", """{ "hearts": { "cooling": { "channel": "lid" } } }""");
        var (exit, _, error) = await StillControlProcess.RunAsync(files.Folder, "simulate", "--recipe", recipe);
        Assert.Equal(2, exit);
        Assert.Contains("hearts.cooling.channel = \"lid\"", error);
        Assert.DoesNotContain("   at ", error);
    }

    [Fact]
    public async Task Killed_mid_hearts_then_resumed_the_batch_completes_and_keeps_its_hearts()
    {
        using var files = new TestFiles();
        var journal = files.PathOf("journal.db");
        double heartsAtKill;
        using (var running = StillControlProcess.Start(files.Folder, "simulate", "--speed", "400", "--mqtt", "off", "--journal", journal))
        {
            heartsAtKill = await WaitForHearts(journal, minimumLitres: 5, TimeSpan.FromSeconds(90));
            running.Process.Kill(); // SIGKILL: no chance to clean up
            await running.WaitAsync(TimeSpan.FromSeconds(20));
        }
        // What the journal kept is what a restart sees.
        heartsAtKill = HeartsLitres(journal, out var phase);
        Assert.Equal("hearts", phase);
        Assert.True(heartsAtKill >= 5, $"{heartsAtKill} L");

        var (exit, output, error) = await StillControlProcess.RunAsync(files.Folder, "simulate", "--resume", "--json", "--mqtt", "off", "--journal", journal);
        Assert.True(exit == 0, error);
        var result = JsonDocument.Parse(output).RootElement;
        Assert.Equal("completed", result.GetProperty("outcome").GetString());
        var hearts = result.GetProperty("fractions").EnumerateArray().Where(f => f.GetProperty("phase").GetString() == "hearts").Sum(f => f.GetProperty("volumeLitres").GetDouble());
        Assert.True(hearts >= heartsAtKill, $"hearts {hearts} L after resume, {heartsAtKill} L before");
        Assert.Contains(result.GetProperty("alarms").EnumerateArray(), a => a.GetProperty("code").GetString() == "power-loss");
        Assert.Contains(result.GetProperty("operatorActions").EnumerateArray(), a => a.GetProperty("command").GetString() == "resume" && a.GetProperty("accepted").GetBoolean());
        Assert.Equal(["loading", "sealed", "heads", "hearts", "tails", "steaming"], result.GetProperty("phases").EnumerateArray().Select(p => p.GetProperty("phase").GetString()!).ToArray());
    }

    [Fact]
    public async Task The_service_runs_in_real_time_and_stops_cleanly_on_SIGTERM()
    {
        using var files = new TestFiles();
        var journal = files.PathOf("service.db");
        var config = files.Write("config.json", """{ "Mqtt": { "Enabled": false } }""");
        using var service = StillControlProcess.Start(files.Folder, "run", "--config", config, "--journal", journal);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline && !service.Error.Contains("phase-changed: idle → loading")) await Task.Delay(200);
        Assert.Contains("phase-changed: idle → loading", service.Error);
        await Task.Delay(1500);
        service.Terminate();
        Assert.Equal(0, await service.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("outputs safe", service.Error);

        using var reader = new BatchJournal(journal, TimeProvider.System, TimeSpan.FromSeconds(1));
        var batch = Assert.Single(reader.ListBatches());
        Assert.Equal("loading", batch.Phase);
        Assert.True(reader.CountSamples(batch.Id) >= 1);
    }

    [Fact]
    public async Task A_bad_service_configuration_fails_at_start_naming_the_key()
    {
        using var files = new TestFiles();
        var config = files.Write("config.json", """{ "Control": { "PeriodMilliseconds": 5000 }, "Still": { "Name": "still 1" } }""");
        var (exit, _, error) = await StillControlProcess.RunAsync(files.Folder, "run", "--config", config, "--journal", files.PathOf("j.db"));
        Assert.Equal(2, exit);
        Assert.Contains("Control:PeriodMilliseconds = 5000", error);
        Assert.Contains("Still:Name = \"still 1\"", error);
        Assert.DoesNotContain("   at ", error);
    }

    private static async Task<double> WaitForHearts(string journal, double minimumLitres, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (File.Exists(journal))
            {
                try
                {
                    var litres = HeartsLitres(journal, out var phase);
                    if (phase == "hearts" && litres >= minimumLitres) return litres;
                }
                catch (SqliteException)
                {
                    // The writer may be creating the schema.
                }
            }
            await Task.Delay(50);
        }
        throw new TimeoutException("the simulation did not reach hearts in time");
    }

    private static double HeartsLitres(string journal, out string phase)
    {
        using var connection = new SqliteConnection($"Data Source={journal};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT state_json FROM batches ORDER BY started_at DESC LIMIT 1";
        var json = command.ExecuteScalar() as string;
        phase = "";
        if (json is null) return 0;
        var state = JsonSerializer.Deserialize<BatchState>(json, BatchJournal.StateOptions)!;
        phase = state.Phase.Name();
        return state.Fractions.Where(f => f.Phase == "hearts").Sum(f => f.VolumeLitres);
    }
}
