using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using StillControl.Cli;
using StillControl.Web;

namespace StillControl.Panel;

/// <summary>Two finished batches in a journal, made by the simulate verb as a user would, for the Batches and Recipes pages' tests.</summary>
public static class TwoFinishedBatches
{
    public const string MildRecipe = """{ "name": "mild-test", "description": "a recipe for the panel's tests" }""";

    /// <summary>Batch A (1 Nov, grain lot LOT-42, built-in recipe) and batch B (10 Nov, LOT-77, recipe mild-test), both run by the simulated distiller.</summary>
    public static async Task<(string A, string B)> Make(TestFiles files)
    {
        var journal = files.PathOf("journal.db");
        var a = files.Write("a.json", """{ "still": { "layerCount": 3 }, "metadata": { "grainLot": "LOT-42", "grainKilograms": 900 } }""");
        var b = files.Write("b.json", """{ "still": { "layerCount": 3 }, "metadata": { "grainLot": "LOT-77", "pit": "pit-3" } }""");
        var mild = files.Write("mild.json", MildRecipe);
        foreach (var args in new[]
        {
            new[] { "simulate", "--journal", journal, "--mqtt", "off", "--scenario", a, "--start", "2026-11-01T06:00:00Z" },
            new[] { "simulate", "--journal", journal, "--mqtt", "off", "--scenario", b, "--recipe", mild, "--start", "2026-11-10T06:00:00Z" },
        })
        {
            var run = await InProcess.Run(args);
            Assert.True(run.Exit == 0, run.Error);
        }
        var listed = await InProcess.Run("batches", "--journal", journal, "--json");
        var ids = JsonDocument.Parse(listed.Output).RootElement.EnumerateArray().Select(e => e.GetProperty("id").GetString()!).ToList();
        Assert.Equal(2, ids.Count);
        return (ids[1], ids[0]);
    }
}

/// <summary>The Batches and Recipes pages' API against the real server in the service, with a plain HTTP client.</summary>
public sealed class PanelBatchesTests
{
    private static async Task<JsonElement> Json(HttpResponseMessage response) => await response.Content.ReadFromJsonAsync<JsonElement>();

    private static async Task<JsonElement> List(HttpClient client, string query, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var response = await client.GetAsync("/api/batches" + query);
        Assert.Equal(expected, response.StatusCode);
        return await Json(response);
    }

    private static string[] Ids(JsonElement listing) => listing.GetProperty("batches").EnumerateArray().Select(b => b.GetProperty("id").GetString()!).ToArray();

    [Fact]
    public async Task Batches_are_listed_filtered_reported_and_exported_by_the_verbs_own_code()
    {
        using var files = new TestFiles();
        var (a, b) = await TwoFinishedBatches.Make(files);
        var journal = files.PathOf("journal.db");
        await using var panel = await PanelHost.Start(files);
        using var anonymous = panel.Client();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/batches")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/batches/{a}/report")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/api/batches/{a}/export")).StatusCode);

        // A viewer may read: the same batches, in the same order, as 'stillcontrol batches' lists them.
        var (viewer, _) = await panel.SignIn(PanelHost.Viewer, PanelHost.ViewerPassword);
        using (viewer)
        {
            var all = await List(viewer, "");
            Assert.Equal([b, a], Ids(all));
            Assert.Equal(2, all.GetProperty("total").GetInt32());
            Assert.Equal("Asia/Shanghai", all.GetProperty("timeZone").GetString());
            Assert.Equal(["mild-test", "strong-aroma-default"], all.GetProperty("recipes").EnumerateArray().Select(r => r.GetString()!).ToArray());
            var first = all.GetProperty("batches")[1];
            Assert.Equal("LOT-42", first.GetProperty("grainLot").GetString());
            Assert.Equal("distiller", first.GetProperty("operator").GetString());
            Assert.Equal("completed", first.GetProperty("outcome").GetString());

            // Filters: days in the still's time zone, outcome, recipe, and a text search on id, operator and grain lot.
            Assert.Equal([b], Ids(await List(viewer, "?from=2026-11-05")));
            Assert.Equal([a], Ids(await List(viewer, "?to=2026-11-05")));
            Assert.Equal([a], Ids(await List(viewer, "?from=2026-11-01&to=2026-11-01")));
            Assert.Equal([b], Ids(await List(viewer, "?recipe=mild-test")));
            Assert.Equal([a], Ids(await List(viewer, "?search=lot-42")));
            Assert.Equal([b, a], Ids(await List(viewer, "?search=DISTILLER")));
            Assert.Equal([a], Ids(await List(viewer, "?search=20261101")));
            Assert.Empty(Ids(await List(viewer, "?outcome=aborted")));
            Assert.Equal([b, a], Ids(await List(viewer, "?outcome=completed")));
            // The CLI's own filter gives the same answer for the same question.
            var cli = await InProcess.Run("batches", "--journal", journal, "--recipe", "mild-test", "--json");
            Assert.Equal([b], JsonDocument.Parse(cli.Output).RootElement.EnumerateArray().Select(e => e.GetProperty("id").GetString()!).ToArray());
            var cliSearch = await InProcess.Run("batches", "--journal", journal, "--search", "lot-42", "--json");
            Assert.Equal([a], JsonDocument.Parse(cliSearch.Output).RootElement.EnumerateArray().Select(e => e.GetProperty("id").GetString()!).ToArray());

            // Bad filters are named with what is accepted.
            Assert.Contains("from = '2026-13-01'", (await List(viewer, "?from=2026-13-01", HttpStatusCode.BadRequest)).GetProperty("error").GetString());
            Assert.Contains("outcome = 'bogus': one of completed", (await List(viewer, "?outcome=bogus", HttpStatusCode.BadRequest)).GetProperty("error").GetString());
            Assert.Contains("search: 201 characters", (await List(viewer, "?search=" + new string('x', 201), HttpStatusCode.BadRequest)).GetProperty("error").GetString());

            // The report: the page 'stillcontrol report' writes (but for the time it was written), with a policy of its own.
            var report = await viewer.GetAsync($"/batches/{a}/report");
            Assert.Equal(HttpStatusCode.OK, report.StatusCode);
            Assert.StartsWith("text/html", report.Content.Headers.ContentType!.ToString());
            Assert.Contains("default-src 'none'", report.Headers.GetValues("Content-Security-Policy").Single());
            var cliReport = await InProcess.Run("report", a, "--journal", journal, "--out", "-");
            Assert.Equal(0, cliReport.Exit);
            Assert.Equal(WithoutWrittenLine(cliReport.Output), WithoutWrittenLine(await report.Content.ReadAsStringAsync()));
            Assert.Contains("LOT-42", await report.Content.ReadAsStringAsync());
            var download = await viewer.GetAsync($"/batches/{a}/report?download=1");
            Assert.Equal($"{a}.html", download.Content.Headers.ContentDisposition?.FileName?.Trim('"'));

            // Every export is byte for byte the file 'stillcontrol export --out' writes.
            foreach (var table in new[] { "samples", "events", "fractions" })
            {
                foreach (var format in new[] { "csv", "json" })
                {
                    var response = await viewer.GetAsync($"/api/batches/{b}/export?table={table}&format={format}");
                    Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                    Assert.Equal($"{b}-{table}.{format}", response.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
                    var file = files.PathOf($"cli-{table}.{format}");
                    var exported = await InProcess.Run("export", b, "--journal", journal, "--table", table, "--out", file);
                    Assert.True(exported.Exit == 0, exported.Error);
                    var bytes = await response.Content.ReadAsByteArrayAsync();
                    Assert.Equal(await File.ReadAllBytesAsync(file), bytes);
                    if (format == "csv") Assert.Equal([0xEF, 0xBB, 0xBF], bytes[..3]);
                }
            }
            var events = await viewer.GetStringAsync($"/api/batches/{b}/export?table=events&format=csv");
            Assert.Contains("batch-started", events);
            Assert.Contains(",0,batch-started,", events);

            // A batch that is not there, a bad table, and names that try to leave the journal: a clear answer, never a file.
            var missing = await viewer.GetAsync("/api/batches/still-1-20990101-000000/export");
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            Assert.Contains("has no batch 'still-1-20990101-000000'", (await Json(missing)).GetProperty("error").GetString());
            foreach (var traversal in new[] { "..%2F..%2F..%2Fetc%2Fpasswd", "..%5C..%5Cjournal.db", "journal.db", "%2E%2E", "..%2F" })
            {
                var export = await viewer.GetAsync($"/api/batches/{traversal}/export?table=samples&format=csv");
                var page = await viewer.GetAsync($"/batches/{traversal}/report");
                foreach (var answer in new[] { export, page })
                {
                    // Either a batch that is not there, or (a dot segment the server resolves first) no such address at all.
                    Assert.Equal(HttpStatusCode.NotFound, answer.StatusCode);
                    var text = await answer.Content.ReadAsStringAsync();
                    Assert.DoesNotContain("SQLite format", text);
                    Assert.DoesNotContain("root:", text);
                    if (!traversal.StartsWith("%2E", StringComparison.Ordinal)) Assert.Contains("has no batch", text);
                }
            }
            var badTable = await viewer.GetAsync($"/api/batches/{a}/export?table=..%2F..%2Fetc%2Fpasswd&format=csv");
            Assert.Equal(HttpStatusCode.BadRequest, badTable.StatusCode);
            Assert.Contains("one of samples, events, fractions", (await Json(badTable)).GetProperty("error").GetString());
            Assert.Equal(HttpStatusCode.BadRequest, (await viewer.GetAsync($"/api/batches/{a}/export?format=xlsx")).StatusCode);

            // Damaged rows: batch A's stored state and one of batch B's samples garbled on disk. Each says what is wrong; the list goes on.
            using (var writer = new SqliteConnection($"Data Source={journal};Pooling=False"))
            {
                writer.Open();
                using var damage = writer.CreateCommand();
                damage.CommandText = """
                    PRAGMA busy_timeout=5000;
                    UPDATE batches SET state_json = '{"phase": "hea' WHERE id = $a;
                    UPDATE samples SET readings = 'not json' WHERE seq = (SELECT min(seq) FROM samples WHERE batch_id = $b);
                    """;
                damage.Parameters.AddWithValue("$a", a);
                damage.Parameters.AddWithValue("$b", b);
                damage.ExecuteNonQuery();
            }
            var damagedState = await viewer.GetAsync($"/batches/{a}/report");
            Assert.Equal(HttpStatusCode.UnprocessableEntity, damagedState.StatusCode);
            Assert.Contains($"batch {a}: its stored state is damaged", await damagedState.Content.ReadAsStringAsync());
            var damagedSample = await viewer.GetAsync($"/api/batches/{b}/export?table=samples&format=csv");
            Assert.Equal(HttpStatusCode.UnprocessableEntity, damagedSample.StatusCode);
            Assert.Contains($"batch {b}: a stored row is damaged", (await Json(damagedSample)).GetProperty("error").GetString());
            Assert.Equal([b, a], Ids(await List(viewer, "")));
        }
    }

    /// <summary>A report without what differs between two renderings: the time it was written and the charts' random clip-path ids.</summary>
    private static string WithoutWrittenLine(string html) =>
        System.Text.RegularExpressions.Regex.Replace(
            string.Join('\n', html.Split('\n').Where(line => !line.Contains("StillControl report, written", StringComparison.Ordinal))), "cl_[0-9A-Za-z]+", "cl_");

    private static async Task<HttpResponseMessage> Upload(HttpClient client, string? token, string body, string file = "mine.json", bool check = false) =>
        await Upload(client, token, new StringContent(body, Encoding.UTF8, "application/json"), file, check);

    private static async Task<HttpResponseMessage> Upload(HttpClient client, string? token, HttpContent content, string file = "mine.json", bool check = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, (check ? "/api/recipe/check" : "/api/recipe") + "?file=" + Uri.EscapeDataString(file)) { Content = content };
        if (token is not null) request.Headers.Add(WebFoundation.CsrfHeader, token);
        return await client.SendAsync(request);
    }

    private const string BadRecipe = """{ "name": "too-hot", "interlocks": { "steamPressureTripKilopascals": 500 }, "hearts": { "strengthConfirmSeconds": -3 } }""";
    private const string GoodRecipe = """
        // a supervisor's recipe: comments and trailing commas as in a file on disk
        { "name": "uploaded-test", "description": "from the panel", }
        """;

    [Fact]
    public async Task Recipe_upload_needs_a_supervisor_a_token_and_a_body_within_the_limit_and_the_next_start_uses_it()
    {
        using var files = new TestFiles();
        var journal = files.PathOf("journal.db");
        var folder = journal + ".recipes";
        await using (var panel = await PanelHost.Start(files))
        {
            using var anonymous = panel.Client();
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/recipe")).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await Upload(anonymous, null, GoodRecipe)).StatusCode);

            // A viewer reads the effective recipe; it may not upload, nor may an operator: 403, and nothing changes.
            var (viewer, viewerToken) = await panel.SignIn(PanelHost.Viewer, PanelHost.ViewerPassword);
            var (op, operatorToken) = await panel.SignIn(PanelHost.Operator, PanelHost.OperatorPassword);
            var (boss, bossToken) = await panel.SignIn(PanelHost.Supervisor, PanelHost.SupervisorPassword);
            using (viewer)
            using (op)
            using (boss)
            {
                var effective = await Json(await viewer.GetAsync("/api/recipe"));
                Assert.Equal("strong-aroma-default", effective.GetProperty("name").GetString());
                Assert.Equal("built-in", effective.GetProperty("origin").GetProperty("kind").GetString());
                Assert.Contains("Recipe strong-aroma-default", effective.GetProperty("text").GetString());
                Assert.Equal(Recipes.SafetyEnvelope.RecipeFileMaximumBytes, effective.GetProperty("limitBytes").GetInt32());

                var byViewer = await Upload(viewer, viewerToken, GoodRecipe);
                Assert.Equal(HttpStatusCode.Forbidden, byViewer.StatusCode);
                Assert.Contains("this needs supervisor", (await Json(byViewer)).GetProperty("error").GetString());
                Assert.Equal(HttpStatusCode.Forbidden, (await Upload(viewer, viewerToken, GoodRecipe, check: true)).StatusCode);
                Assert.Equal(HttpStatusCode.Forbidden, (await Upload(op, operatorToken, GoodRecipe)).StatusCode);
                // The supervisor without the token, or with a wrong one: 403 too.
                Assert.Equal(HttpStatusCode.Forbidden, (await Upload(boss, null, GoodRecipe)).StatusCode);
                Assert.Equal(HttpStatusCode.Forbidden, (await Upload(boss, operatorToken, GoodRecipe)).StatusCode);
                Assert.Equal("strong-aroma-default", panel.Cycle.Recipe.Name);
                Assert.False(Directory.Exists(folder) && Directory.EnumerateFiles(folder).Any());

                // An operator may check: recipe check's own messages, line for line.
                var badFile = files.Write("too-hot.json", BadRecipe);
                var cli = await InProcess.Run("recipe", "check", badFile);
                Assert.Equal(2, cli.Exit);
                var cliLines = cli.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                    .Select(l => l.TrimEnd('\r').Replace("stillcontrol: ", "", StringComparison.Ordinal).Replace(badFile, "too-hot.json", StringComparison.Ordinal)).ToArray();
                var checkedBad = await Upload(op, operatorToken, BadRecipe, badFile, check: true);
                Assert.Equal(HttpStatusCode.UnprocessableEntity, checkedBad.StatusCode);
                var bad = await Json(checkedBad);
                Assert.Equal(cliLines, bad.GetProperty("messages").EnumerateArray().Select(m => m.GetString()!).ToArray());
                Assert.Contains(bad.GetProperty("errors").EnumerateArray(), e => e.GetProperty("key").GetString() == "interlocks.steamPressureTripKilopascals"
                    && e.GetProperty("value").GetString() == "500" && e.GetProperty("accepted").GetString()!.StartsWith("at most 100 kPa", StringComparison.Ordinal));
                var uploadedBad = await Upload(boss, bossToken, BadRecipe, "too-hot.json");
                Assert.Equal(HttpStatusCode.UnprocessableEntity, uploadedBad.StatusCode);
                Assert.False((await Json(uploadedBad)).GetProperty("accepted").GetBoolean());

                // Oversized (the recipe file limit), not JSON, empty, not UTF-8: each told, nothing kept.
                var huge = "{ \"name\": \"huge\", \"description\": \"" + new string('x', Recipes.SafetyEnvelope.RecipeFileMaximumBytes) + "\" }";
                var tooLarge = await Upload(boss, bossToken, huge, "huge.json");
                Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
                Assert.Contains($"recipe huge.json: {Encoding.UTF8.GetByteCount(huge)} bytes, larger than the {Recipes.SafetyEnvelope.RecipeFileMaximumBytes} bytes a recipe file may have",
                    (await Json(tooLarge)).GetProperty("messages")[0].GetString());
                var notJson = await Json(await Upload(boss, bossToken, "{ \"name\": ", "broken.json"));
                Assert.Contains("recipe broken.json: line", notJson.GetProperty("messages")[0].GetString());
                Assert.Contains("(not JSON)", notJson.GetProperty("messages")[0].GetString());
                Assert.Equal(HttpStatusCode.BadRequest, (await Upload(boss, bossToken, "")).StatusCode);
                var latin = await Upload(boss, bossToken, new ByteArrayContent([0x7B, 0xFF, 0xFE, 0x7D]));
                Assert.Equal(HttpStatusCode.BadRequest, latin.StatusCode);
                Assert.Contains("not UTF-8 text", (await Json(latin)).GetProperty("error").GetString());
                Assert.Equal("strong-aroma-default", panel.Cycle.Recipe.Name);

                // The supervisor's good upload (named like a path out of the folder): the loop takes it, the next start uses it.
                var accepted = await Upload(boss, bossToken, GoodRecipe, "../../../etc/uploaded.json");
                Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
                var answer = await Json(accepted);
                Assert.True(answer.GetProperty("accepted").GetBoolean());
                Assert.Equal(["recipe uploaded.json: valid (uploaded-test)"], answer.GetProperty("messages").EnumerateArray().Select(m => m.GetString()!).ToArray());
                Assert.Equal("uploaded-test", panel.Cycle.Recipe.Name);
                effective = await Json(await viewer.GetAsync("/api/recipe"));
                Assert.Equal("uploaded-test", effective.GetProperty("name").GetString());
                Assert.Equal("uploaded", effective.GetProperty("origin").GetProperty("kind").GetString());
                Assert.Equal(PanelHost.Supervisor, effective.GetProperty("origin").GetProperty("user").GetString());
                Assert.Equal("uploaded.json", effective.GetProperty("origin").GetProperty("file").GetString());
                // Kept in the folder beside the journal, as uploaded, and nowhere else.
                var kept = Directory.GetFiles(folder).Select(f => Path.GetFileName(f)).Order().ToArray();
                Assert.Equal(3, kept.Length);
                Assert.Contains("effective.json", kept);
                Assert.Contains("history.jsonl", kept);
                Assert.Equal(GoodRecipe, await File.ReadAllTextAsync(Path.Combine(folder, kept.Single(k => k.EndsWith($"-{effective.GetProperty("version").GetString()}.json", StringComparison.Ordinal)))));
                Assert.False(File.Exists(Path.Combine(files.Folder, "..", "..", "..", "etc", "uploaded.json")));

                // The change is journaled with the user who made it.
                await PanelHost.WaitFor(() => RecipeEvents(journal).Any(e => e.Contains($"recipe by {PanelHost.Supervisor} (panel)", StringComparison.Ordinal)), TimeSpan.FromSeconds(10), "the recipe change in the journal");

                // A start now runs on it; while it runs, another upload is refused with the reason and the batch keeps its recipe.
                await PanelHost.WaitFor(() => panel.Cycle.State.SettledAt is not null, TimeSpan.FromSeconds(30), "the readings to settle");
                var start = await Json(await PanelHost.Command(op, operatorToken, new { command = "start" }));
                Assert.True(start.GetProperty("accepted").GetBoolean(), start.ToString());
                var batch = start.GetProperty("batchId").GetString()!;
                // The batch's row carries who started it once the loop has saved its state (a commit or two later).
                JsonElement listed = default;
                await PanelHost.WaitFor(() =>
                {
                    listed = Json(viewer.GetAsync("/api/batches?search=" + Uri.EscapeDataString(PanelHost.Operator)).Result).Result;
                    return listed.GetProperty("batches").GetArrayLength() == 1;
                }, TimeSpan.FromSeconds(20), "the running batch listed with its operator");
                Assert.Equal(batch, listed.GetProperty("batches")[0].GetProperty("id").GetString());
                Assert.Equal("uploaded-test", listed.GetProperty("batches")[0].GetProperty("recipe").GetString());
                Assert.Equal(PanelHost.Operator, listed.GetProperty("batches")[0].GetProperty("operator").GetString());
                var during = await Upload(boss, bossToken, TwoFinishedBatches.MildRecipe, "mild.json");
                Assert.Equal(HttpStatusCode.Conflict, during.StatusCode);
                Assert.Contains($"batch {batch} is in loading: it keeps recipe 'uploaded-test' until it ends", (await Json(during)).GetProperty("reason").GetString());
                Assert.Equal("uploaded-test", panel.Cycle.Recipe.Name);
                Assert.True((await Json(await viewer.GetAsync("/api/recipe"))).GetProperty("batchRunning").GetBoolean());
                var abort = await Json(await PanelHost.Command(op, operatorToken, new { command = "abort" }));
                Assert.True(abort.GetProperty("accepted").GetBoolean(), abort.ToString());
            }
        }

        // A restart keeps it: simulate (as run) starts from the upload beside the journal unless --recipe names a file.
        Assert.Equal("uploaded-test", RecipeUploads.Starting(null, null, journal).Name);
        var restarted = await InProcess.Run("simulate", "--journal", journal, "--mqtt", "off", "--scenario", files.Write("short.json", """{ "still": { "layerCount": 3 } }"""));
        Assert.True(restarted.Exit == 0, restarted.Error);
        var newest = JsonDocument.Parse((await InProcess.Run("batches", "--journal", journal, "--json")).Output).RootElement[0];
        Assert.Equal("uploaded-test", newest.GetProperty("recipe").GetString());
        Assert.Equal("strong-aroma-default", RecipeUploads.Starting(files.Write("default.json", """{ "name": "strong-aroma-default" }"""), null, journal).Name);
        // A damaged record of the upload stops a start with a message naming it, never a silent other recipe.
        await File.WriteAllTextAsync(Path.Combine(folder, "effective.json"), "{ not json");
        var damaged = await InProcess.Run("simulate", "--journal", journal, "--mqtt", "off");
        Assert.Equal(2, damaged.Exit);
        Assert.Contains($"recipe uploads: {Path.Combine(folder, "effective.json")} cannot be read", damaged.Error);
    }

    private static List<string> RecipeEvents(string journal)
    {
        using var connection = new SqliteConnection($"Data Source={journal};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT message FROM events WHERE code = 'recipe' ORDER BY seq";
        using var reader = command.ExecuteReader();
        var messages = new List<string>();
        while (reader.Read()) messages.Add(reader.GetString(0));
        return messages;
    }
}
