using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StillControl.Hosting;
using StillControl.Journal;
using StillControl.Process;
using StillControl.Web;

namespace StillControl.Panel;

/// <summary>
/// The still's web panel, served by this process next to the control loop: a Kestrel server of its own, started and stopped
/// with the host, sharing the loop's objects. It only reads what the loop published and submits commands through
/// <see cref="ControlCycle.Submit"/>; if it cannot start (a port in use) it says so and the still runs on without it.
/// </summary>
public sealed partial class PanelServer(WebOptions options, ControlCycle cycle, PanelFeed feed, IServiceProvider host, ILoggerFactory loggers) : IHostedService, IAsyncDisposable
{
    /// <summary>The operator's source in the journal for a command from the panel.</summary>
    public const string Source = "panel";

    private readonly ILogger logger = loggers.CreateLogger<PanelServer>();
    private readonly CancellationTokenSource stopping = new();
    private WebApplication? app;
    private Task? broadcasting;

    public PanelBroadcaster Broadcaster { get; } = new(feed);

    /// <summary>Where it listens once started (the real port when the configured one was 0).</summary>
    public IReadOnlyList<string> Addresses { get; private set; } = [];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            var builder = WebFoundation.CreateBuilder(options, loggers);
            builder.Services.AddSingleton(cycle);
            builder.Services.AddSingleton(feed);
            builder.Services.AddSingleton(Broadcaster);
            var web = builder.Build();
            WebFoundation.MapAuth(web, () => new { status = "ok", still = feed.Snapshot?.Still, phase = cycle.Live.Phase, loopAt = cycle.Live.At == DateTimeOffset.MinValue ? (DateTimeOffset?)null : cycle.Live.At });
            Map(web);
            PanelExtensions?.Invoke(web, host);
            await web.StartAsync(cancellationToken);
            app = web;
            Addresses = web.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];
            broadcasting = Task.Run(() => Broadcaster.RunAsync(stopping.Token), CancellationToken.None);
            var users = new UserStore(options.UsersFile);
            int count;
            try
            {
                count = users.Users().Count;
            }
            catch (UsersFileException ex)
            {
                LogUsersFile(ex.Message);
                count = 0;
            }
            LogListening(string.Join(", ", Addresses), count, options.UsersFile);
            if (count == 0) LogNoUsers(options.UsersFile);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The panel is a window on the still, not part of its control: the loop goes on without it.
            LogCouldNotStart(string.Join(";", options.UrlList()), ex.Message);
        }
    }

    /// <summary>More endpoints on the same server (batches, recipes, commissioning), added where they are built.</summary>
    public static Action<WebApplication, IServiceProvider>? PanelExtensions { get; set; }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await stopping.CancelAsync();
        if (app is { } web)
        {
            try
            {
                await web.StopAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
            }
        }
        if (broadcasting is { } task) await task;
    }

    public async ValueTask DisposeAsync()
    {
        if (app is { } web) await web.DisposeAsync();
        stopping.Dispose();
    }

    private void Map(WebApplication web)
    {
        web.MapGet("/", () => Asset("index.html"));
        web.MapGet("/assets/{name}", (string name) => Asset(name));

        web.MapGet("/api/state", () => feed.Snapshot is { } snapshot
            ? Results.Bytes(PanelBroadcaster.Json(snapshot), "application/json")
            : WebFoundation.Problem(StatusCodes.Status503ServiceUnavailable, "the control loop has not published its state yet"))
            .RequireRole(Role.Viewer);

        web.MapGet("/api/chart", () =>
        {
            var chart = feed.Chart;
            return Results.Json(new { batchId = chart.BatchId, startedAt = chart.StartedAt, points = chart.Sample(2000) }, PanelJson.Options);
        }).RequireRole(Role.Viewer);

        web.MapGet("/api/events", Events).RequireRole(Role.Viewer);

        web.MapPost("/api/commands", (Delegate)(Func<HttpContext, Task<IResult>>)Command).RequireRole(Role.Operator);

        MapCommissioning(web);
        new PanelBatches(options, cycle, host, loggers.CreateLogger<PanelBatches>()).Map(web);
    }

    /// <summary>Server-Sent Events: the current state at once, then every new one; a comment every 15 s keeps proxies from closing it.</summary>
    private async Task Events(HttpContext context)
    {
        var response = context.Response;
        response.Headers.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-store";
        response.Headers["X-Accel-Buffering"] = "no";
        var (id, reader) = Broadcaster.Subscribe();
        try
        {
            var aborted = context.RequestAborted;
            await response.Body.WriteAsync("retry: 2000\n\n"u8.ToArray(), aborted);
            if (Broadcaster.Latest is { } first) await response.Body.WriteAsync(first, aborted);
            await response.Body.FlushAsync(aborted);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(aborted, stopping.Token);
            while (!linked.IsCancellationRequested)
            {
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(linked.Token);
                wait.CancelAfter(TimeSpan.FromSeconds(15));
                byte[] message;
                try
                {
                    message = await reader.ReadAsync(wait.Token);
                }
                catch (OperationCanceledException) when (!linked.IsCancellationRequested)
                {
                    message = PanelBroadcaster.KeepAlive;
                }
                await response.Body.WriteAsync(message, linked.Token);
                await response.Body.FlushAsync(linked.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or System.Threading.Channels.ChannelClosedException)
        {
        }
        finally
        {
            Broadcaster.Unsubscribe(id);
        }
    }

    /// <summary>
    /// <c>POST /api/commands</c> {"command", "argument", "metadata"}: through <see cref="ControlCycle.Submit"/> as the signed-in
    /// user, source "panel"; answers the controller's result <c>{"accepted", "reason"}</c>. A start may carry the batch's metadata.
    /// </summary>
    private async Task<IResult> Command(HttpContext context)
    {
        var session = WebFoundation.SessionOf(context)!;
        var (body, problem) = await WebFoundation.ReadJsonAsync(context);
        if (body is not { } json) return WebFoundation.Problem(StatusCodes.Status400BadRequest, problem!);
        var name = WebFoundation.Text(json, "command");
        if (!CommandKinds.TryParse(name, out var kind))
        {
            return WebFoundation.Problem(StatusCodes.Status400BadRequest, $"\"command\": {(name is null ? "missing or not text" : $"'{PrintableText.Of(name)}'")}; one of {string.Join(", ", CommandKinds.Names)}");
        }
        string? argument = null;
        if (json.TryGetProperty("argument", out var argumentElement) && argumentElement.ValueKind != JsonValueKind.Null)
        {
            if (argumentElement.ValueKind != JsonValueKind.String) return WebFoundation.Problem(StatusCodes.Status400BadRequest, "\"argument\": text or null");
            argument = argumentElement.GetString();
            if (string.IsNullOrWhiteSpace(argument)) argument = null;
            else if (argument.Length > 200) return WebFoundation.Problem(StatusCodes.Status400BadRequest, $"\"argument\": {argument.Length} characters: at most 200");
        }
        BatchMetadata? metadata = null;
        if (json.TryGetProperty("metadata", out var metadataElement) && metadataElement.ValueKind != JsonValueKind.Null)
        {
            if (kind != CommandKind.Start) return WebFoundation.Problem(StatusCodes.Status400BadRequest, "\"metadata\" goes only with start");
            try
            {
                metadata = metadataElement.Deserialize<BatchMetadata>(BatchMetadata.JsonOptions);
            }
            catch (JsonException ex)
            {
                return WebFoundation.Problem(StatusCodes.Status400BadRequest, $"\"metadata\": {ex.Message}; accepted: {{\"grainLot\": text, \"grainKilograms\": number, \"pit\": text, \"notes\": text}}");
            }
            metadata = metadata is null ? null : Trimmed(metadata);
            if (metadata?.Problems() is { Count: > 0 } problems) return WebFoundation.Problem(StatusCodes.Status400BadRequest, "metadata: " + string.Join("; ", problems));
        }

        var before = cycle.Live.BatchId;
        var submitted = cycle.Submit(new OperatorCommand(kind, session.User, Source, argument));
        var finished = await Task.WhenAny(submitted, Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted));
        if (finished != submitted)
        {
            return WebFoundation.Problem(StatusCodes.Status503ServiceUnavailable, "the control loop did not answer within 10 s; the command may still run when it does");
        }
        var result = await submitted;
        LogCommand(kind.Name(), session.User, result.Accepted, PrintableText.Of(result.Reason));
        string? batchId = null;
        bool? metadataSaved = null;
        if (result.Accepted && kind == CommandKind.Start)
        {
            batchId = await NewBatchId(before, context.RequestAborted);
            if (metadata is { IsEmpty: false } m && batchId is not null)
            {
                metadataSaved = await SaveMetadata(batchId, m, context.RequestAborted);
            }
        }
        return Results.Json(new { accepted = result.Accepted, reason = result.Reason, command = kind.Name(), batchId, metadataSaved }, PanelJson.Options);
    }

    private static BatchMetadata Trimmed(BatchMetadata m) =>
        new(Blank(m.GrainLot), m.GrainKilograms, Blank(m.Pit), Blank(m.Notes));

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    /// <summary>The id of the batch a start just began, once the loop has published it.</summary>
    private async Task<string?> NewBatchId(string? before, CancellationToken cancel)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (DateTime.UtcNow < deadline && !cancel.IsCancellationRequested)
        {
            if (cycle.Live.BatchId is { } id && id != before) return id;
            await Task.Delay(20, CancellationToken.None);
        }
        return cycle.Live.BatchId != before ? cycle.Live.BatchId : null;
    }

    /// <summary>The batch row is written by the loop's next commit; the metadata waits for it (a few tries, then gives up and says so).</summary>
    private async Task<bool> SaveMetadata(string batchId, BatchMetadata metadata, CancellationToken cancel)
    {
        for (var attempt = 0; attempt < 50 && !cancel.IsCancellationRequested; attempt++)
        {
            try
            {
                if (await Task.Run(() => cycle.Journal.SetMetadata(batchId, metadata), CancellationToken.None)) return true;
            }
            catch (Microsoft.Data.Sqlite.SqliteException ex)
            {
                LogMetadataFailed(batchId, ex.Message);
            }
            await Task.Delay(100, CancellationToken.None);
        }
        return false;
    }

    private static readonly Assembly Assembly = typeof(PanelServer).Assembly;

    /// <summary>An asset embedded in the program; 404 for anything else (names are looked up, never used as paths).</summary>
    private static IResult Asset(string name)
    {
        if (name.Length > 64 || name.Contains('/') || name.Contains('\\')) return Results.NotFound();
        using var stream = Assembly.GetManifestResourceStream("panel/" + name);
        if (stream is null) return Results.NotFound();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        var type = Path.GetExtension(name) switch
        {
            ".html" => "text/html; charset=utf-8",
            ".js" => "text/javascript; charset=utf-8",
            ".css" => "text/css; charset=utf-8",
            ".svg" => "image/svg+xml",
            ".png" => "image/png",
            ".json" => "application/json",
            _ => "application/octet-stream",
        };
        return Results.Bytes(copy.ToArray(), type);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Panel listening on {Addresses}; {Users} users in {UsersFile}")]
    private partial void LogListening(string addresses, int users, string usersFile);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Panel: no users in {UsersFile} yet: add one with 'stillcontrol users add NAME --role supervisor --password-stdin'")]
    private partial void LogNoUsers(string usersFile);

    [LoggerMessage(Level = LogLevel.Error, Message = "Panel: {Problem}")]
    private partial void LogUsersFile(string problem);

    [LoggerMessage(Level = LogLevel.Error, Message = "Panel could not start on {Urls}: {Reason}; the still runs on without it")]
    private partial void LogCouldNotStart(string urls, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Panel command {Command} by {User}: accepted {Accepted}, {Reason}")]
    private partial void LogCommand(string command, string user, bool accepted, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Panel: metadata of batch {BatchId} not stored yet: {Reason}")]
    private partial void LogMetadataFailed(string batchId, string reason);
}
