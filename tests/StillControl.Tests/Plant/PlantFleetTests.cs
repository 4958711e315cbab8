using System.Net;
using System.Text.Json;
using StillControl.Cli;
using StillControl.Telemetry;

namespace StillControl.Plant;

/// <summary>
/// The plant against a real Mosquitto and real <c>stillcontrol simulate</c> processes: stills appear on the board by themselves,
/// a still killed with SIGKILL is still-offline through its will, a still whose data stops mid-batch is still-offline by silence.
/// </summary>
public class PlantFleetTests
{
    private static bool Running(JsonElement still) =>
        still.GetProperty("phase").GetString() is "loading" or "sealed" or "heads" or "hearts" or "tails" or "steaming";

    private static JsonElement? Find(List<JsonElement> stills, string site, string name) =>
        stills.Cast<JsonElement?>().FirstOrDefault(s => s!.Value.GetProperty("site").GetString() == site && s.Value.GetProperty("name").GetString() == name);

    [Fact]
    public async Task Simulated_stills_appear_on_the_board_by_themselves_and_only_a_signed_in_user_sees_them()
    {
        using var broker = new Mosquitto();
        await using var plant = await PlantRig.StartAsync(broker.AnonymousPort);
        using var anonymous = await plant.ClientAsync(signIn: false);
        using (var refused = await anonymous.GetAsync("/api/stills")) Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        using (var health = await anonymous.GetAsync("/healthz")) Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        using (var wrong = await anonymous.PostAsync("/api/login", new StringContent("""{"user":"board-viewer","password":"not-it"}""", System.Text.Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        }
        using var viewer = await plant.ClientAsync();
        Assert.Empty(await PlantRig.StillsAsync(viewer));

        var fleet = new[] { ("north", "still-a"), ("north", "still-b"), ("south", "still-a") };
        foreach (var (site, name) in fleet) plant.StartStill(site, name, broker.AnonymousPort);

        var stills = await PlantRig.Until(() => PlantRig.StillsAsync(viewer),
            list => fleet.All(f => Find(list, f.Item1, f.Item2) is { } s && s.GetProperty("online").GetBoolean() && Running(s) && s.GetProperty("lastSeen").ValueKind == JsonValueKind.String),
            TimeSpan.FromSeconds(90));
        Assert.True(fleet.All(f => Find(stills, f.Item1, f.Item2) is not null), $"board: {JsonSerializer.Serialize(stills)}\nstills: {plant.StillOutput()}");
        Assert.Equal(fleet.OrderBy(f => f.Item1).ThenBy(f => f.Item2), stills.Select(s => (s.GetProperty("site").GetString()!, s.GetProperty("name").GetString()!)));
        foreach (var still in stills)
        {
            Assert.True(still.GetProperty("online").GetBoolean());
            Assert.True(Running(still), still.ToString());
            var lastSeen = still.GetProperty("lastSeen").GetDateTimeOffset();
            Assert.InRange(DateTimeOffset.UtcNow - lastSeen, TimeSpan.Zero, TimeSpan.FromSeconds(30));
            // The batch id is the still's own name: two stills never share a batch.
            Assert.StartsWith(still.GetProperty("name").GetString()! + "-", still.GetProperty("batchId").GetString());
            Assert.True(still.GetProperty("elapsedSeconds").GetDouble() >= 0);
        }

        // One still's live view, built from what it published.
        using var detail = await viewer.GetAsync("/api/stills/south/still-a");
        Assert.Equal(HttpStatusCode.OK, detail.StatusCode);
        using var live = JsonDocument.Parse(await detail.Content.ReadAsStringAsync());
        Assert.Equal("still-a", live.RootElement.GetProperty("still").GetProperty("name").GetString());
        var points = await PlantRig.Until(async () =>
        {
            using var again = JsonDocument.Parse(await viewer.GetStringAsync("/api/stills/south/still-a"));
            return again.RootElement.GetProperty("points").GetArrayLength();
        }, n => n > 0, TimeSpan.FromSeconds(30));
        Assert.True(points > 0);
        using (var unknown = await viewer.GetAsync("/api/stills/south/no-such-still")) Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);

        // No event was raised for stills that are simply running.
        Assert.DoesNotContain(plant.Events, e => e.Kind == PlantEventKinds.Offline);
    }

    [Fact]
    public async Task A_still_killed_goes_offline_by_its_will_and_a_still_whose_data_stops_mid_batch_by_silence_and_both_come_back()
    {
        const int silentAfter = 5;
        using var broker = new Mosquitto();
        await using var plant = await PlantRig.StartAsync(broker.AnonymousPort, silentAfterSeconds: silentAfter);
        using var viewer = await plant.ClientAsync();
        var killed = plant.StartStill("west", "killed", broker.AnonymousPort);
        var frozen = plant.StartStill("west", "frozen", broker.AnonymousPort);
        var stills = await PlantRig.Until(() => PlantRig.StillsAsync(viewer),
            list => list.Count == 2 && list.All(s => s.GetProperty("online").GetBoolean() && Running(s)), TimeSpan.FromSeconds(90));
        Assert.True(stills.Count == 2 && stills.All(Running), $"board: {JsonSerializer.Serialize(stills)}\nstills: {plant.StillOutput()}");

        // The batch must be in the still's journal before the kill (the state on the board may run ahead of the first commit),
        // or there is nothing to resume afterwards.
        Assert.True(await PlantRig.Until(() => Task.FromResult(Committed(plant.Files.PathOf("west-killed.db"))), committed => committed, TimeSpan.FromSeconds(30)),
            "the killed still's batch never reached its journal");

        // kill -9: no clean "offline" of its own; the broker publishes its will when the socket closes.
        var killedAt = DateTimeOffset.UtcNow;
        killed.Process.Kill();
        var offline = await plant.EventAsync(e => e.Still == "killed" && e.Kind == PlantEventKinds.Offline, TimeSpan.FromSeconds(silentAfter + 10));
        Assert.NotNull(offline);
        Assert.Equal(PlantEventKinds.StillOffline, offline.Code);
        Assert.Contains("went offline while batch killed-", offline.Message);
        Assert.InRange(offline.At - killedAt, TimeSpan.Zero, TimeSpan.FromSeconds(silentAfter));
        var board = await PlantRig.StillsAsync(viewer);
        Assert.False(Find(board, "west", "killed")!.Value.GetProperty("online").GetBoolean());
        Assert.Equal("availability offline", Find(board, "west", "killed")!.Value.GetProperty("offlineReason").GetString());

        // SIGSTOP: the process, its socket and its session stay (the broker's keepalive is 15 s x 1.5), but nothing is sent.
        var stoppedAt = DateTimeOffset.UtcNow;
        Signal(frozen, "STOP");
        try
        {
            var silent = await plant.EventAsync(e => e.Still == "frozen" && e.Kind == PlantEventKinds.Offline, TimeSpan.FromSeconds(silentAfter + 10));
            Assert.NotNull(silent);
            Assert.Contains("has sent nothing for", silent.Message);
            Assert.InRange(silent.At - stoppedAt, TimeSpan.FromSeconds(silentAfter - 1), TimeSpan.FromSeconds(silentAfter + 3));
            var view = plant.Registry.Find("west", "frozen")!;
            Assert.True(view.Silent);
            Assert.False(view.Online);
            Assert.Equal("online", view.Availability);
        }
        finally
        {
            Signal(frozen, "CONT");
        }
        var back = await plant.EventAsync(e => e.Still == "frozen" && e.Kind == PlantEventKinds.Online, TimeSpan.FromSeconds(20));
        Assert.NotNull(back);
        Assert.True(plant.Registry.Find("west", "frozen")!.Online);

        // The killed still, started again on its journal, resumes its batch held and is online again.
        var again = StillControlProcess.Start(plant.Files.Folder, "simulate", "--still", "killed", "--site", "west", "--speed", "5", "--resume",
            "--mqtt", $"127.0.0.1:{broker.AnonymousPort}", "--journal", plant.Files.PathOf("west-killed.db"));
        try
        {
            var online = await plant.EventAsync(e => e.Still == "killed" && e.Kind == PlantEventKinds.Online, TimeSpan.FromSeconds(60));
            Assert.True(online is not null, again.Error);
            Assert.Single(plant.Events, e => e.Still == "killed" && e.Kind == PlantEventKinds.Offline);
        }
        finally
        {
            again.Dispose();
        }
    }

    private static void Signal(StillControlProcess process, string signal)
    {
        using var kill = System.Diagnostics.Process.Start("kill", [$"-{signal}", process.Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    private static bool Committed(string journal)
    {
        if (!File.Exists(journal)) return false;
        try
        {
            using var query = new Reports.JournalQuery(journal);
            return query.HasUnendedBatch();
        }
        catch (Microsoft.Data.Sqlite.SqliteException)
        {
            return false;
        }
    }
}
