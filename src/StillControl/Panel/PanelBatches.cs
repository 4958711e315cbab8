using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StillControl.Cli;
using StillControl.Hosting;
using StillControl.Process;
using StillControl.Recipes;
using StillControl.Reports;
using StillControl.Web;

namespace StillControl.Panel;

/// <summary>
/// The panel's Batches and Recipes pages: the journal's batches with filters, each batch's report and exports, the effective
/// recipe, and a supervisor's upload. The journal is read through its own read-only connection (<see cref="JournalQuery"/>, the
/// one the review verbs use), beside the loop's writer; a recipe change goes to the loop (<see cref="ControlCycle.ChangeRecipe"/>),
/// which takes it only between batches. Everything a verb does is done by the verb's own code: <see cref="JournalQuery.List"/>
/// (<c>batches</c>), <see cref="BatchReview.Load"/> with <see cref="HtmlReport.Report"/> (<c>report</c>),
/// <see cref="BatchExport.WriteFile"/> (<c>export</c>), <see cref="RecipeJson.Parse"/> and the messages of <see cref="Files"/>
/// (<c>recipe check</c>).
/// </summary>
public sealed partial class PanelBatches(WebOptions options, ControlCycle cycle, IServiceProvider host, ILogger logger)
{
    /// <summary>Most batches one listing answers (newest first); the page says when there are more.</summary>
    public const int ListLimit = 500;

    /// <summary>Reports and exports load a whole batch: two at a time, so a crowd of phones cannot take the cores from the loop.</summary>
    private readonly SemaphoreSlim heavyReads = new(2);
    private readonly SemaphoreSlim uploading = new(1);
    private readonly RecipeUploads uploads = new(cycle.Journal.Path);

    private string JournalPath => cycle.Journal.Path;

    public void Map(WebApplication web)
    {
        web.MapGet("/api/batches", List).RequireRole(Role.Viewer);
        web.MapGet("/api/batches/{id}/export", Export).RequireRole(Role.Viewer);
        web.MapGet("/batches/{id}/report", Report).RequireRole(Role.Viewer);
        web.MapGet("/api/recipe", Effective).RequireRole(Role.Viewer);
        web.MapPost("/api/recipe/check", (Delegate)(Func<HttpContext, Task<IResult>>)(context => Receive(context, apply: false))).RequireRole(Role.Operator);
        web.MapPost("/api/recipe", (Delegate)(Func<HttpContext, Task<IResult>>)(context => Receive(context, apply: true))).RequireRole(Role.Supervisor);
    }

    // --- Batches ---------------------------------------------------------------------------------------------------------

    /// <summary><c>GET /api/batches?from=&amp;to=&amp;outcome=&amp;recipe=&amp;search=</c>: what <c>batches</c> lists, with the same filters; days in the still's time zone.</summary>
    private IResult List(HttpContext context)
    {
        var q = context.Request.Query;
        var zone = StillZone();
        var problems = new List<string>();
        var from = Day(q["from"], "from", zone, endOfDay: false, problems);
        var to = Day(q["to"], "to", zone, endOfDay: true, problems);
        var outcome = Blank(q["outcome"]);
        if (outcome is not null && !JournalQuery.Outcomes.Contains(outcome)) problems.Add($"outcome = '{PrintableText.Of(outcome)}': one of {string.Join(", ", JournalQuery.Outcomes)}");
        var recipe = Blank(q["recipe"]);
        var search = Blank(q["search"]);
        foreach (var (name, value) in new[] { ("recipe", recipe), ("search", search) })
        {
            if (value is { Length: > 200 }) problems.Add($"{name}: {value.Length} characters: at most 200");
        }
        if (problems.Count > 0) return WebFoundation.Problem(StatusCodes.Status400BadRequest, string.Join("; ", problems));

        var (query, problem) = Open();
        if (query is null) return problem!;
        using (query)
        {
            try
            {
                var all = query.List(new BatchFilter());
                var batches = from is null && to is null && outcome is null && recipe is null && search is null
                    ? all
                    : query.List(new BatchFilter(from, to, null, recipe, outcome, null, search));
                return Results.Json(new
                {
                    journal = JournalPath,
                    timeZone = options.TimeZoneId(),
                    total = all.Count,
                    matching = batches.Count,
                    batches = batches.Take(ListLimit),
                    recipes = all.Select(b => b.Recipe).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal),
                    outcomes = JournalQuery.Outcomes,
                    tables = BatchExport.Tables,
                    formats = BatchExport.Formats,
                }, PanelJson.Options);
            }
            catch (Exception ex) when (Unreadable(ex))
            {
                return WebFoundation.Problem(StatusCodes.Status503ServiceUnavailable, $"journal {JournalPath}: the batch list cannot be read ({ex.Message})");
            }
        }
    }

    /// <summary><c>GET /batches/{id}/report[?download=1]</c>: the batch's report, the same page <c>stillcontrol report</c> writes.</summary>
    private async Task<IResult> Report(string id, HttpContext context)
    {
        var (review, problem, status) = await Review(id, context.RequestAborted);
        if (review is null) return ErrorPage(status, problem!);
        string html;
        try
        {
            html = HtmlReport.Report(review);
        }
        catch (Exception ex) when (Unreadable(ex))
        {
            LogUnreadable(PrintableText.Of(review.Id), ex.Message);
            return ErrorPage(StatusCodes.Status422UnprocessableEntity, $"batch {PrintableText.Of(review.Id)}: its report cannot be written from what the journal holds ({ex.Message})");
        }
        // The report is a document of its own: its style is inline, it runs no script and loads nothing.
        context.Response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
        if (context.Request.Query["download"] == "1")
        {
            context.Response.Headers.ContentDisposition = $"attachment; filename=\"{SafeName(review.Id)}.html\"";
        }
        return Results.Text(html, "text/html; charset=utf-8", Encoding.UTF8);
    }

    /// <summary><c>GET /api/batches/{id}/export?table=samples|events|fractions&amp;format=csv|json</c>: the file <c>stillcontrol export --out</c> writes.</summary>
    private async Task<IResult> Export(string id, HttpContext context)
    {
        var table = Blank(context.Request.Query["table"]) ?? "samples";
        var format = Blank(context.Request.Query["format"]) ?? "csv";
        if (!BatchExport.Tables.Contains(table)) return WebFoundation.Problem(StatusCodes.Status400BadRequest, $"table = '{PrintableText.Of(Cut(table))}': one of {string.Join(", ", BatchExport.Tables)}");
        if (!BatchExport.Formats.Contains(format)) return WebFoundation.Problem(StatusCodes.Status400BadRequest, $"format = '{PrintableText.Of(Cut(format))}': one of {string.Join(", ", BatchExport.Formats)}");
        var (review, problem, status) = await Review(id, context.RequestAborted);
        if (review is null) return WebFoundation.Problem(status, problem!);
        using var buffer = new MemoryStream();
        try
        {
            BatchExport.WriteFile(review, table, format, buffer);
        }
        catch (Exception ex) when (Unreadable(ex))
        {
            LogUnreadable(PrintableText.Of(review.Id), ex.Message);
            return WebFoundation.Problem(StatusCodes.Status422UnprocessableEntity, $"batch {PrintableText.Of(review.Id)}: its {table} cannot be exported from what the journal holds ({ex.Message})");
        }
        return Results.File(buffer.ToArray(), format == "csv" ? "text/csv; charset=utf-8" : "application/json; charset=utf-8", BatchExport.FileName(review.Id, table, format));
    }

    /// <summary>One batch loaded for review, or why not: no such batch (404), a damaged row (422), the journal unreadable (503).</summary>
    private async Task<(BatchReview? Review, string? Problem, int Status)> Review(string id, CancellationToken cancel)
    {
        if (id.Length is 0 or > 200) return (null, $"batch id: {id.Length} characters: 1 to 200", StatusCodes.Status400BadRequest);
        var printable = PrintableText.Of(id);
        try
        {
            await heavyReads.WaitAsync(cancel);
        }
        catch (OperationCanceledException)
        {
            return (null, "the request was cancelled", StatusCodes.Status400BadRequest);
        }
        try
        {
            var (query, _) = Open();
            if (query is null) return (null, $"journal {JournalPath} cannot be read", StatusCodes.Status503ServiceUnavailable);
            using (query)
            {
                if (!query.HasTables) return (null, $"journal {JournalPath} holds no batches yet", StatusCodes.Status404NotFound);
                try
                {
                    var review = BatchReview.Load(query, id);
                    return review is null
                        ? (null, $"journal {JournalPath} has no batch '{printable}' (the Batches page lists them)", StatusCodes.Status404NotFound)
                        : (review, null, StatusCodes.Status200OK);
                }
                catch (JournalQuery.DamagedRowException ex)
                {
                    return (null, ex.Message, StatusCodes.Status422UnprocessableEntity);
                }
                catch (Exception ex) when (Unreadable(ex))
                {
                    LogUnreadable(printable, ex.Message);
                    return (null, $"journal {JournalPath}: batch {printable}: a stored row is damaged and cannot be read ({ex.Message}); the other batches are unaffected", StatusCodes.Status422UnprocessableEntity);
                }
            }
        }
        finally
        {
            heavyReads.Release();
        }
    }

    private (JournalQuery? Query, IResult? Problem) Open()
    {
        try
        {
            return (new JournalQuery(JournalPath), null);
        }
        catch (FileNotFoundException)
        {
            return (null, WebFoundation.Problem(StatusCodes.Status503ServiceUnavailable, $"journal {JournalPath}: no such file yet"));
        }
        catch (Microsoft.Data.Sqlite.SqliteException ex)
        {
            return (null, WebFoundation.Problem(StatusCodes.Status503ServiceUnavailable, $"journal {JournalPath}: not a usable SQLite journal ({ex.Message})"));
        }
    }

    /// <summary>What a damaged or unreadable journal row throws while it is read back.</summary>
    private static bool Unreadable(Exception ex) =>
        ex is Microsoft.Data.Sqlite.SqliteException or JsonException or InvalidOperationException or FormatException or InvalidCastException or KeyNotFoundException or ArgumentException or OverflowException;

    /// <summary>A day (2026-11-28) in the still's time zone, from its start or to its end, or an ISO 8601 time with its offset.</summary>
    private static DateTimeOffset? Day(string? text, string name, TimeZoneInfo zone, bool endOfDay, List<string> problems)
    {
        text = Blank(text);
        if (text is null) return null;
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            if (endOfDay && day == DateOnly.MaxValue) return DateTimeOffset.MaxValue;
            var local = (endOfDay ? day.AddDays(1) : day).ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified);
            return new DateTimeOffset(local, zone.GetUtcOffset(local)).ToUniversalTime();
        }
        if (text.Contains('T') && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)) return at;
        problems.Add($"{name} = '{PrintableText.Of(Cut(text))}': a day (2026-11-28, in the still's time zone {zone.Id}) or a time (2026-11-28T06:00:00+08:00)");
        return null;
    }

    private TimeZoneInfo StillZone() => TimeZoneInfo.TryFindSystemTimeZoneById(options.TimeZoneId(), out var zone) ? zone : TimeZoneInfo.Utc;

    // --- Recipes ---------------------------------------------------------------------------------------------------------

    /// <summary><c>GET /api/recipe</c>: the recipe the loop runs, or the next start uses; where it came from; the uploads so far.</summary>
    private IResult Effective()
    {
        var recipe = cycle.Recipe;
        var live = cycle.Live;
        string? problem = null;
        (Recipe Recipe, RecipeUpload Upload)? uploaded = null;
        try
        {
            uploaded = uploads.Effective();
        }
        catch (BadInputException ex)
        {
            problem = ex.Message;
        }
        List<RecipeUpload> history;
        try
        {
            history = uploads.History();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            history = [];
            problem ??= $"recipe uploads: {uploads.Folder}: the history cannot be read ({ex.Message})";
        }
        var version = RecipeUploads.Version(recipe);
        var batchRunning = Phases.TryParse(live.Phase, out var phase) && phase.IsActive();
        return Results.Json(new
        {
            name = recipe.Name,
            description = recipe.Description,
            version,
            origin = Origin(recipe, version, uploaded),
            batchRunning,
            batchId = batchRunning ? live.BatchId : null,
            text = RecipeText.Describe(recipe),
            json = RecipeJson.Serialize(recipe),
            limitBytes = SafetyEnvelope.RecipeFileMaximumBytes,
            timeZone = options.TimeZoneId(),
            folder = uploads.Folder,
            uploads = history,
            problem,
        }, PanelJson.Options);
    }

    /// <summary>Where the loop's recipe came from: the panel's upload, Recipe:Path, the built-in recipe, or a file given with --recipe.</summary>
    private object Origin(Recipe recipe, string version, (Recipe Recipe, RecipeUpload Upload)? uploaded)
    {
        if (uploaded is { } u && u.Upload.Version == version)
        {
            return new { kind = "uploaded", user = u.Upload.User, at = u.Upload.At, file = u.Upload.UploadedAs };
        }
        if (host.GetService<IConfiguration>()?["Recipe:Path"] is { Length: > 0 } configured)
        {
            try
            {
                if (RecipeUploads.Version(Files.LoadRecipe(configured)) == version) return new { kind = "configured", file = configured };
            }
            catch (BadInputException)
            {
            }
        }
        if (RecipeUploads.Version(DefaultRecipe.Create()) == version) return new { kind = "built-in" };
        return new { kind = "given" };
    }

    /// <summary>
    /// <c>POST /api/recipe/check?file=NAME</c> (operator) and <c>POST /api/recipe?file=NAME</c> (supervisor): the body is the recipe
    /// file as it is on disk (JSON, comments allowed), at most the size a recipe file may have. Both answer <c>recipe check</c>'s
    /// messages; an upload that passes is handed to the loop, which takes it unless a batch is running, and then kept on disk.
    /// </summary>
    private async Task<IResult> Receive(HttpContext context, bool apply)
    {
        var session = WebFoundation.SessionOf(context)!;
        var file = FileLabel(context.Request.Query["file"]);
        var (text, tooLarge, unreadable) = await ReadText(context, file);
        if (tooLarge is not null) return Checked(StatusCodes.Status413PayloadTooLarge, false, [tooLarge], [], null, tooLarge);
        if (text is null) return WebFoundation.Problem(StatusCodes.Status400BadRequest, unreadable!);

        var (recipe, errors) = RecipeJson.Parse(text);
        if (recipe is null)
        {
            var messages = errors.Select(e => Files.RecipeProblem(file, e)).ToList();
            return Checked(StatusCodes.Status422UnprocessableEntity, false, messages, errors, null, apply ? "not used: the recipe check found problems" : null);
        }
        // On the Pi every receiver a recipe sends spirit to needs its diverter output, as at start-up.
        var wiring = WiringProblems(recipe);
        var valid = new List<string> { Files.RecipeValid(file, recipe) };
        if (wiring.Count > 0)
        {
            return Checked(StatusCodes.Status422UnprocessableEntity, false, [.. valid, .. wiring.Select(w => $"recipe {file}: {w}")], [], recipe, apply ? "not used: this still is not wired for it" : null);
        }
        if (!apply) return Checked(StatusCodes.Status200OK, true, valid, [], recipe, null);

        await uploading.WaitAsync(CancellationToken.None);
        try
        {
            if (Phases.TryParse(cycle.Live.Phase, out var phase) && phase.IsActive())
            {
                // Said at once; the loop judges again when it takes the change (a start may come first).
                return Checked(StatusCodes.Status409Conflict, false, valid, [], recipe,
                    $"batch {cycle.Live.BatchId} is {(cycle.Live.Held ? "held in " : "in ")}{phase.Name()}: it keeps recipe '{cycle.Recipe.Name}' until it ends; upload the recipe again after the batch");
            }
            RecipeUpload staged;
            try
            {
                staged = uploads.Stage(text, recipe, file, session.User, DateTimeOffset.UtcNow);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return Checked(StatusCodes.Status503ServiceUnavailable, false, valid, [], recipe, $"not used: it cannot be kept in {uploads.Folder} ({ex.Message})");
            }
            var submitted = cycle.ChangeRecipe(new RecipeChange(recipe, session.User, PanelServer.Source, $"uploaded as {file}, version {staged.Version}"));
            if (await Task.WhenAny(submitted, Task.Delay(TimeSpan.FromSeconds(10), CancellationToken.None)) != submitted)
            {
                return Checked(StatusCodes.Status503ServiceUnavailable, false, valid, [], recipe, "the control loop did not answer within 10 s; the change may still be taken when it does");
            }
            var result = await submitted;
            LogRecipe(session.User, file, recipe.Name, result.Accepted, result.Reason);
            if (!result.Accepted)
            {
                uploads.Discard(staged);
                return Checked(StatusCodes.Status409Conflict, false, valid, [], recipe, result.Reason);
            }
            try
            {
                uploads.MakeEffective(staged);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return Checked(StatusCodes.Status200OK, true, valid, [], recipe, $"{result.Reason}; but it could not be kept for a restart ({uploads.EffectivePath}: {ex.Message})");
            }
            return Checked(StatusCodes.Status200OK, true, valid, [], recipe, result.Reason);
        }
        finally
        {
            uploading.Release();
        }
    }

    private static IResult Checked(int status, bool ok, IReadOnlyList<string> messages, IReadOnlyList<RecipeError> errors, Recipe? recipe, string? reason) =>
        Results.Json(new
        {
            accepted = ok,
            messages,
            errors = errors.Select(e => new { key = e.Path, value = e.Value, accepted = e.Accepted }),
            recipe = recipe is null ? null : new { name = recipe.Name, version = RecipeUploads.Version(recipe) },
            reason,
        }, PanelJson.Options, statusCode: status);

    /// <summary>On the Pi: receivers the recipe names that have no diverter output (the same message as at start-up).</summary>
    private List<string> WiringProblems(Recipe recipe)
    {
        var hardware = host.GetService<Microsoft.Extensions.Options.IOptions<HardwareOptions>>()?.Value;
        if (hardware is not { Mode: "Pi" }) return [];
        return Sensors.PiPlan.RecipeReceivers(recipe).Where(r => !hardware.Outputs.Receivers.ContainsKey(r))
            .Select(r => $"Hardware:Outputs:Receivers:{r} is missing: the recipe sends spirit to '{r}', so it needs a diverter output").ToList();
    }

    /// <summary>The body as UTF-8 text, at most a recipe file's size; or the <c>recipe check</c> message for a file too large; or why it cannot be read.</summary>
    private static async Task<(string? Text, string? TooLarge, string? Problem)> ReadText(HttpContext context, string file)
    {
        var limit = SafetyEnvelope.RecipeFileMaximumBytes;
        if (context.Request.ContentLength is { } length && length > limit) return (null, Files.RecipeTooLarge(file, length), null);
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        try
        {
            while (true)
            {
                var read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted);
                if (read == 0) break;
                buffer.Write(chunk, 0, read);
                if (buffer.Length > limit) return (null, Files.RecipeTooLarge(file, buffer.Length) + " (or more)", null);
            }
        }
        catch (Exception ex) when (ex is BadHttpRequestException or IOException or OperationCanceledException)
        {
            return (null, null, $"the body could not be read ({ex.Message})");
        }
        if (buffer.Length == 0) return (null, null, "no body: send the recipe file (JSON)");
        try
        {
            return (new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(buffer.ToArray()).TrimStart('\uFEFF'), null, null);
        }
        catch (DecoderFallbackException)
        {
            return (null, null, $"recipe {file}: not UTF-8 text: a recipe file is JSON in UTF-8");
        }
    }

    /// <summary>The uploaded file's name for messages: its last part, printable, at most 100 characters; upload.json when none.</summary>
    private static string FileLabel(string? given)
    {
        var name = Blank(given);
        if (name is null) return "upload.json";
        name = name.Replace('\\', '/');
        name = name[(name.LastIndexOf('/') + 1)..];
        name = PrintableText.Of(name);
        return name.Length == 0 ? "upload.json" : Cut(name, 100);
    }

    // --- Shared ----------------------------------------------------------------------------------------------------------

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    private static string Cut(string text, int length = 60) => text.Length <= length ? text : text[..length] + "…";

    private static string SafeName(string id) => System.Text.RegularExpressions.Regex.Replace(id, "[^A-Za-z0-9._-]", "_");

    /// <summary>A small page for a report that cannot be shown (it opens in its own tab, where JSON would help no one).</summary>
    private static IResult ErrorPage(int status, string message)
    {
        var html = $$"""
            <!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>StillControl</title>
            <style>body{font-family:system-ui,sans-serif;margin:2rem;font-size:1.1rem} #problem{color:#a51d2d;font-weight:600}</style></head>
            <body><h1>StillControl</h1><p id="problem">{{System.Net.WebUtility.HtmlEncode(message)}}</p><p><a href="/#batches">Batches · 批次</a></p></body></html>
            """;
        return new HtmlProblem(status, html);
    }

    private sealed class HtmlProblem(int status, string html) : IResult
    {
        public async Task ExecuteAsync(HttpContext context)
        {
            context.Response.StatusCode = status;
            context.Response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
            context.Response.ContentType = "text/html; charset=utf-8";
            await context.Response.WriteAsync(html, Encoding.UTF8);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Panel: batch {BatchId} cannot be read: {Reason}")]
    private partial void LogUnreadable(string batchId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Panel recipe upload by {User} ({File}, '{Name}'): accepted {Accepted}, {Reason}")]
    private partial void LogRecipe(string user, string file, string name, bool accepted, string reason);
}
