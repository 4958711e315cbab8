using System.Reflection;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using StillControl.Web;

namespace StillControl.Plant;

/// <summary>
/// The plant board: <c>GET /</c> (every still as a tile), <c>GET /still?site=S&amp;name=N</c> (one still's live view, built from its
/// MQTT state and telemetry), <c>GET /api/stills</c>, <c>GET /api/stills/{site}/{name}</c>, and <c>GET /api/stream</c> (server-sent
/// events: a <c>tile</c> for each still that changed, and with <c>?site=&amp;name=</c> that still's new <c>points</c>). Data needs a
/// viewer's sign-in; the pages themselves hold none and ask for it. Pages, scripts and styles are embedded in the program.
/// </summary>
public static class Board
{
    /// <summary>Pushed updates are coalesced over this long: a still's tile goes at most this often, whatever its sample rate.</summary>
    public static readonly TimeSpan Coalesce = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static readonly Dictionary<string, (string Type, byte[] Content)> Assets = LoadAssets();

    public static void Map(WebApplication app)
    {
        app.MapGet("/", (HttpContext context) => Page(context, "board.html"));
        app.MapGet("/still", (HttpContext context) => Page(context, "still.html"));
        app.MapGet("/assets/{file}", (string file) =>
            Assets.TryGetValue(file, out var asset) && !file.EndsWith(".html", StringComparison.Ordinal)
                ? Results.Bytes(asset.Content, asset.Type)
                : WebFoundation.Problem(StatusCodes.Status404NotFound, $"no asset '{Process.PrintableText.Of(file)}'"));

        app.MapGet("/api/stills", (StillRegistry registry) => Results.Json(registry.Snapshot(), Json)).RequireRole(Role.Viewer);

        app.MapGet("/api/stills/{site}/{name}", (string site, string name, StillRegistry registry) =>
        {
            if (registry.Find(site, name) is not { } view)
            {
                return WebFoundation.Problem(StatusCodes.Status404NotFound, $"no still '{Process.PrintableText.Of(name)}' at site '{Process.PrintableText.Of(site)}' has been seen (GET /api/stills lists them)");
            }
            return Results.Json(new { still = view, points = registry.Points(site, name), events = registry.Lines(site, name) }, Json);
        }).RequireRole(Role.Viewer);

        app.MapGet("/api/stream", async (HttpContext context, StillRegistry registry, BoardStream stream) =>
        {
            var site = context.Request.Query["site"].ToString();
            var name = context.Request.Query["name"].ToString();
            var detail = site.Length > 0 && name.Length > 0;
            var response = context.Response;
            response.Headers.ContentType = "text/event-stream; charset=utf-8";
            response.Headers.CacheControl = "no-store";
            response.Headers["X-Accel-Buffering"] = "no";
            var token = context.RequestAborted;
            var sent = new Dictionary<(string, string), long>();
            long lastPoint = long.TryParse(context.Request.Query["after"], out var after) ? after : 0;
            var lastWrite = DateTime.UtcNow;
            try
            {
                await response.WriteAsync("retry: 2000\n\n", token);
                while (!token.IsCancellationRequested)
                {
                    var next = stream.Next;
                    var text = new StringBuilder();
                    foreach (var view in detail ? registry.Find(site, name) is { } one ? [one] : [] : registry.Snapshot())
                    {
                        if (sent.TryGetValue((view.Site, view.Name), out var version) && version >= view.Version) continue;
                        sent[(view.Site, view.Name)] = view.Version;
                        text.Append("event: tile\ndata: ").Append(JsonSerializer.Serialize(view, Json)).Append("\n\n");
                    }
                    if (detail)
                    {
                        var points = registry.Points(site, name, lastPoint);
                        if (points.Count > 0)
                        {
                            lastPoint = points[^1].Sequence;
                            text.Append("event: points\ndata: ").Append(JsonSerializer.Serialize(points, Json)).Append("\n\n");
                        }
                    }
                    if (text.Length == 0 && DateTime.UtcNow - lastWrite >= KeepAlive) text.Append(": still here\n\n");
                    if (text.Length > 0)
                    {
                        await response.WriteAsync(text.ToString(), token);
                        await response.Body.FlushAsync(token);
                        lastWrite = DateTime.UtcNow;
                    }
                    await Task.WhenAny(next, Task.Delay(KeepAlive, token));
                    await Task.Delay(Coalesce, token);
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
            }
            catch (IOException)
            {
                // The browser went away mid-write.
            }
            return Results.Empty;
        }).RequireRole(Role.Viewer);
    }

    /// <summary>A page shell in the visitor's language (the cookie, else Accept-Language); its script fetches the data.</summary>
    private static IResult Page(HttpContext context, string file)
    {
        var html = Encoding.UTF8.GetString(Assets[file].Content).Replace("{{lang}}", WebFoundation.Language(context), StringComparison.Ordinal);
        return Results.Content(html, "text/html; charset=utf-8");
    }

    private static Dictionary<string, (string Type, byte[] Content)> LoadAssets()
    {
        const string prefix = "StillControl.Plant.Assets.";
        var assembly = typeof(Board).Assembly;
        var assets = new Dictionary<string, (string, byte[])>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(r => r.StartsWith(prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            var file = resource[prefix.Length..];
            var type = Path.GetExtension(file) switch
            {
                ".html" => "text/html; charset=utf-8",
                ".js" => "text/javascript; charset=utf-8",
                ".css" => "text/css; charset=utf-8",
                ".svg" => "image/svg+xml",
                _ => "application/octet-stream",
            };
            assets[file] = (type, memory.ToArray());
        }
        return assets;
    }
}
