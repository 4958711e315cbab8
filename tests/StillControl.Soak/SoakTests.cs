using System.Globalization;
using Xunit.Abstractions;

namespace StillControl.Soak;

/// <summary>
/// The soak as a test: CI-sized by default (four batches at 150 times real time, about one fault of each kind every two
/// batches); SOAK_BATCHES, SOAK_SPEED, SOAK_SEED, SOAK_FAULTS_PER_KIND, SOAK_FLOOD make it larger. The table goes to the test's
/// output and to soak-report.md beside the test assembly (or SOAK_REPORT).
/// </summary>
public sealed class SoakTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Seeded_batches_under_kills_restarts_a_full_disk_floods_replays_and_garbage_lose_nothing_and_run_every_command_once()
    {
        var settings = SoakSettings.FromEnvironment();
        string report;
        List<string> failures;
        using (var run = new SoakRun(settings))
        {
            try
            {
                await run.RunAsync();
                var check = await SoakCheck.RunAsync(run);
                failures = check.Failures;
                report = string.Create(CultureInfo.InvariantCulture,
                    $"Soak: {settings.Batches} batches at {settings.Speed}x, seed {settings.Seed}, {settings.FaultsPerKind} of each fault, floods of {settings.FloodSize}; {run.Elapsed.TotalMinutes:0.0} min\n\n")
                    + check.Table + "\n" + (failures.Count == 0 ? "No failures.\n" : "Failures:\n" + string.Join("\n", failures.Select(f => "- " + f)) + "\n")
                    + "\nLog:\n" + run.Log;
            }
            catch
            {
                output.WriteLine(run.Log);
                throw;
            }
        }
        output.WriteLine(report);
        var path = Environment.GetEnvironmentVariable("SOAK_REPORT") ?? Path.Combine(AppContext.BaseDirectory, "soak-report.md");
        await File.WriteAllTextAsync(path, report);
        Assert.True(failures.Count == 0, string.Join("\n", failures) + "\n\n" + report);
    }
}
