using System.Text.Json;

namespace StillControl.Simulation;

public class DefaultBatchTests
{
    [Fact]
    public async Task The_default_batch_runs_every_phase_in_order_under_both_rules()
    {
        using var run = await Simulate.RunAsync();
        Assert.Equal("completed", run.Outcome);
        Assert.Equal(["loading", "sealed", "heads", "hearts", "tails", "steaming"], run.Phases.Select(p => p.GetProperty("phase").GetString()!).ToArray());
        var starts = run.Phases.Select(p => p.GetProperty("start").GetDouble()).ToArray();
        Assert.True(starts.SequenceEqual(starts.Order()), "phases start in order");

        // Hearts not above 30 °C on the distillate outlet.
        Assert.True(run.Phase("hearts").GetProperty("coolingMaxCelsius").GetDouble() <= 30.0, run.Phase("hearts").ToString());
        Assert.InRange(run.Phase("heads").GetProperty("coolingMaxCelsius").GetDouble(), 25, 33);

        // Slow steam while distilling, strong steam to chase the tails.
        double Steam(string phase) => run.Phase(phase).GetProperty("steamMeanPercent").GetDouble();
        var slow = Math.Max(Steam("heads"), Steam("hearts"));
        Assert.True(Steam("tails") > slow * 2, $"tails {Steam("tails")} vs {slow}");
        Assert.True(Steam("steaming") > slow * 2, $"steaming {Steam("steaming")} vs {slow}");
        Assert.True(run.Phase("steaming").GetProperty("end").GetDouble() - run.Phase("steaming").GetProperty("start").GetDouble() >= 45 * 60);

        // Strengths fall from heads through hearts to tails.
        double Abv(string receiver) => run.Fractions.Single(f => f.GetProperty("receiver").GetString() == receiver).GetProperty("abvPercent").GetDouble();
        Assert.True(Abv("heads") > Abv("hearts-1"));
        Assert.True(Abv("hearts-1") > Abv("hearts-2"));
        Assert.True(Abv("hearts-2") > Abv("tails"));
        Assert.InRange(Abv("hearts-1"), 60, 80);
        Assert.InRange(Abv("tails"), 10, 45);
        var hearts = run.Fractions.Where(f => f.GetProperty("phase").GetString() == "hearts").Sum(f => f.GetProperty("volumeLitres").GetDouble());
        Assert.InRange(hearts, 20, 150);

        Assert.Null(run.InterlockLatencyMs);
        Assert.True(run.Result.GetProperty("simulatedSeconds").GetDouble() > 3600);
        Assert.DoesNotContain(run.Alarms, a => a.GetProperty("severity").GetString() == "trip");
    }

    [Fact]
    public async Task Standard_output_carries_exactly_one_JSON_object_and_progress_goes_elsewhere()
    {
        using var run = await Simulate.RunAsync(extra: ["--seed", "3"]);
        var reader = new Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(run.Output.Trim()));
        Assert.True(JsonDocument.TryParseValue(ref reader, out var document));
        Assert.Equal(JsonValueKind.Object, document!.RootElement.ValueKind);
        Assert.False(reader.Read(), "nothing after the object");
        foreach (var key in new[] { "batchId", "outcome", "phases", "fractions", "alarms", "interlockLatencyMs", "simulatedSeconds", "wallSeconds" })
        {
            Assert.True(document.RootElement.TryGetProperty(key, out _), key);
        }
        Assert.Contains("phase-changed", run.Progress);
    }

    [Fact]
    public async Task The_same_seed_gives_the_same_batch()
    {
        using var first = await Simulate.RunAsync(extra: ["--seed", "11"]);
        using var second = await Simulate.RunAsync(extra: ["--seed", "11"]);
        using var other = await Simulate.RunAsync(extra: ["--seed", "12"]);
        Assert.Equal(first.Result.GetProperty("phases").ToString(), second.Result.GetProperty("phases").ToString());
        Assert.Equal(first.Result.GetProperty("fractions").ToString(), second.Result.GetProperty("fractions").ToString());
        Assert.NotEqual(first.Result.GetProperty("fractions").ToString(), other.Result.GetProperty("fractions").ToString());
    }

    [Fact]
    public async Task An_online_strength_meter_replaces_the_vapour_estimate()
    {
        using var run = await Simulate.RunAsync("""{ "strengthMeter": true }""");
        Assert.Equal("completed", run.Outcome);
    }
}
