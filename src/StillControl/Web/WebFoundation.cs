using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace StillControl.Web;

/// <summary>
/// What every web page of the program shares: users and roles, cookie sessions, sign-in with a rate limit, a CSRF token on every
/// POST, security headers, languages (zh-CN, en), HTTPS when a certificate is configured, and JSON bodies read with a limit.
/// Use: <see cref="CreateBuilder"/> (or <see cref="AddServices"/> on a builder of your own), then <see cref="MapAuth"/>, then
/// your endpoints with <see cref="RequireRole{TBuilder}"/>.
/// </summary>
public static class WebFoundation
{
    public const string SessionCookie = "stillcontrol_session";
    public const string LanguageCookie = "stillcontrol_lang";
    public const string CsrfHeader = "X-CSRF-Token";
    public static readonly string[] Languages = ["zh-CN", "en"];

    /// <summary>The largest JSON body an API call takes unless it says otherwise.</summary>
    public const int DefaultBodyLimit = 16 * 1024;

    private const string SessionItem = "stillcontrol.session";

    /// <summary>A slim web application with no configuration sources of its own (ASPNETCORE_ variables and files do not count), logging into <paramref name="loggerFactory"/>.</summary>
    public static WebApplicationBuilder CreateBuilder(WebOptions options, ILoggerFactory? loggerFactory)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["AllowedHosts"] = "*" });
        builder.Logging.ClearProviders();
        if (loggerFactory is not null) builder.Services.AddSingleton(loggerFactory);
        AddServices(builder, options);
        return builder;
    }

    public static void AddServices(WebApplicationBuilder builder, WebOptions options)
    {
        var problems = options.Problems();
        if (problems.Count > 0) throw new InvalidOperationException(string.Join("; ", problems));
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(new UserStore(options.UsersFile));
        builder.Services.AddSingleton(new SessionStore(TimeProvider.System, TimeSpan.FromMinutes(options.SessionMinutes)));
        builder.Services.AddSingleton(new LoginLimiter(TimeProvider.System, options.LoginAttempts, TimeSpan.FromSeconds(options.LoginWindowSeconds)));
        builder.WebHost.UseUrls([.. options.UrlList()]);
        var certificate = LoadCertificate(options);
        if (certificate is not null) builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // Every body is read through ReadJsonAsync with its own smaller limit; this only bounds what Kestrel will buffer at all.
            kestrel.Limits.MaxRequestBodySize = 1024 * 1024;
            kestrel.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
            kestrel.Limits.MaxConcurrentConnections = 500;
            if (certificate is not null) kestrel.ConfigureHttpsDefaults(https => https.ServerCertificate = certificate);
        });
    }

    private static X509Certificate2? LoadCertificate(WebOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.CertificatePath)) return null;
        try
        {
            if (!string.IsNullOrWhiteSpace(options.CertificateKeyPath))
            {
                return X509Certificate2.CreateFromPemFile(options.CertificatePath, options.CertificateKeyPath);
            }
            return X509CertificateLoader.LoadPkcs12FromFile(options.CertificatePath, options.CertificatePassword);
        }
        catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or IOException or ArgumentException)
        {
            throw new InvalidOperationException($"Panel:CertificatePath = \"{options.CertificatePath}\": cannot be loaded ({ex.Message}); a PEM certificate with Panel:CertificateKeyPath, or a PKCS#12 (.pfx) file with Panel:CertificatePassword");
        }
    }

    /// <summary>
    /// Security headers, the session lookup and the CSRF check on every POST (before any endpoint), then <c>GET /healthz</c>,
    /// <c>POST /api/login</c>, <c>POST /api/logout</c> and <c>GET /api/me</c>. <paramref name="health"/> adds to what /healthz says.
    /// </summary>
    public static void MapAuth(WebApplication app, Func<object>? health = null)
    {
        app.Use(async (context, next) =>
        {
            var headers = context.Response.Headers;
            context.Response.OnStarting(() =>
            {
                // A page that needs more (a stored report with its own inline style) sets its own policy first.
                if (!headers.ContainsKey("Content-Security-Policy"))
                {
                    headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
                }
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "DENY";
                headers["Referrer-Policy"] = "no-referrer";
                if (!headers.ContainsKey("Cache-Control")) headers.CacheControl = "no-store";
                return Task.CompletedTask;
            });
            var sessions = context.RequestServices.GetRequiredService<SessionStore>();
            var session = sessions.Find(context.Request.Cookies[SessionCookie]);
            if (session is not null) context.Items[SessionItem] = session;
            if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method) && !HttpMethods.IsOptions(context.Request.Method)
                && context.Request.Path != "/api/login")
            {
                if (session is null)
                {
                    await Refuse(context, StatusCodes.Status401Unauthorized, "sign in first");
                    return;
                }
                if (!SessionStore.SameToken(context.Request.Headers[CsrfHeader].ToString(), session.CsrfToken))
                {
                    await Refuse(context, StatusCodes.Status403Forbidden, $"missing or wrong {CsrfHeader} header: reload the page");
                    return;
                }
            }
            await next(context);
        });

        app.MapGet("/healthz", () => Results.Json(health?.Invoke() ?? new { status = "ok" }));

        app.MapPost("/api/login", async (HttpContext context, UserStore users, SessionStore sessions, LoginLimiter limiter, ILoggerFactory loggers) =>
        {
            var (body, problem) = await ReadJsonAsync(context, 4096);
            if (body is not { } json) return Problem(StatusCodes.Status400BadRequest, problem!);
            if (Text(json, "user") is not { } user || Text(json, "password") is not { } password)
            {
                return Problem(StatusCodes.Status400BadRequest, "the body must be {\"user\": text, \"password\": text}");
            }
            var address = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
            if (limiter.Blocked(address, user) is { } wait)
            {
                var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
                context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return Problem(StatusCodes.Status429TooManyRequests, $"too many failed sign-ins: try again in {seconds} s");
            }
            var verified = users.Verify(user, password);
            var logger = loggers.CreateLogger("StillControl.Web.Login");
            if (verified is not { } who)
            {
                limiter.Failed(address, user);
                logger.LogWarning("Failed sign-in for {User} from {Address}", Process.PrintableText.Of(user.Length > 64 ? user[..64] : user), address);
                return Problem(StatusCodes.Status401Unauthorized, "wrong user name or password");
            }
            limiter.Succeeded(who.Name);
            // Whatever session the browser came with is ended: a session id is never carried across a sign-in.
            if (context.Request.Cookies[SessionCookie] is { } old) sessions.End(old);
            var session = sessions.Create(who.Name, who.Role);
            context.Response.Cookies.Append(SessionCookie, session.Id, new CookieOptions
            {
                HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = context.Request.IsHttps, Path = "/", IsEssential = true,
            });
            logger.LogInformation("{User} signed in as {Role} from {Address}", who.Name, who.Role.Name(), address);
            return Results.Json(new { csrfToken = session.CsrfToken, user = who.Name, role = who.Role.Name() });
        });

        app.MapPost("/api/logout", (HttpContext context, SessionStore sessions) =>
        {
            if (SessionOf(context) is { } session) sessions.End(session.Id);
            context.Response.Cookies.Delete(SessionCookie, new CookieOptions { Path = "/" });
            return Results.Json(new { signedOut = true });
        });

        app.MapGet("/api/me", (HttpContext context) =>
        {
            var session = SessionOf(context)!;
            return Results.Json(new { user = session.User, role = session.Role.Name(), csrfToken = session.CsrfToken, language = Language(context) });
        }).RequireRole(Role.Viewer);
    }

    /// <summary>The signed-in session of this request, or null.</summary>
    public static WebSession? SessionOf(HttpContext context) => context.Items.TryGetValue(SessionItem, out var s) ? s as WebSession : null;

    /// <summary>Only for a session whose role is at least <paramref name="minimum"/>: 401 without a session, 403 below the role.</summary>
    public static TBuilder RequireRole<TBuilder>(this TBuilder builder, Role minimum) where TBuilder : IEndpointConventionBuilder
    {
        builder.AddEndpointFilter(async (invocation, next) =>
        {
            var session = SessionOf(invocation.HttpContext);
            if (session is null) return Problem(StatusCodes.Status401Unauthorized, "sign in first");
            if (session.Role < minimum) return Problem(StatusCodes.Status403Forbidden, $"{session.User} is {session.Role.Name()}: this needs {minimum.Name()} or above");
            return await next(invocation);
        });
        return builder;
    }

    /// <summary>zh-CN or en: the language cookie the page sets when switched, else the browser's Accept-Language.</summary>
    public static string Language(HttpContext context)
    {
        var chosen = context.Request.Cookies[LanguageCookie];
        if (chosen is not null && Languages.Contains(chosen, StringComparer.OrdinalIgnoreCase)) return Languages.First(l => string.Equals(l, chosen, StringComparison.OrdinalIgnoreCase));
        return FromAcceptLanguage(context.Request.Headers.AcceptLanguage.ToString());
    }

    public static string FromAcceptLanguage(string header)
    {
        var best = header.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select((part, index) =>
            {
                var pieces = part.Split(';', StringSplitOptions.TrimEntries);
                var q = pieces.Skip(1).Select(p => p.StartsWith("q=", StringComparison.Ordinal) && double.TryParse(p[2..], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : (double?)null).FirstOrDefault(v => v is not null) ?? 1.0;
                return (Tag: pieces[0].ToLowerInvariant(), Q: q, Index: index);
            })
            .Where(t => t.Q > 0 && (t.Tag.StartsWith("zh", StringComparison.Ordinal) || t.Tag.StartsWith("en", StringComparison.Ordinal)))
            .OrderByDescending(t => t.Q).ThenBy(t => t.Index)
            .FirstOrDefault();
        return best.Tag?.StartsWith("zh", StringComparison.Ordinal) == true ? "zh-CN" : "en";
    }

    /// <summary>
    /// The request's JSON body, at most <paramref name="maxBytes"/>; or a reason fit for a 400 (no body, too large, not JSON,
    /// not an object). Never throws on what a client sends.
    /// </summary>
    public static async Task<(JsonElement? Body, string? Problem)> ReadJsonAsync(HttpContext context, int maxBytes = DefaultBodyLimit)
    {
        var request = context.Request;
        if (request.ContentLength is { } length && length > maxBytes)
        {
            return (null, $"the body has {length} bytes: at most {maxBytes} are accepted here");
        }
        if (request.ContentType is { } type && !type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            return (null, $"Content-Type '{type}': send application/json");
        }
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        try
        {
            while (true)
            {
                var read = await request.Body.ReadAsync(chunk, context.RequestAborted);
                if (read == 0) break;
                buffer.Write(chunk, 0, read);
                if (buffer.Length > maxBytes) return (null, $"the body is larger than the {maxBytes} bytes accepted here");
            }
        }
        catch (Exception ex) when (ex is BadHttpRequestException or IOException or OperationCanceledException)
        {
            return (null, $"the body could not be read ({ex.Message})");
        }
        if (buffer.Length == 0) return (null, "no body: send a JSON object");
        try
        {
            using var document = JsonDocument.Parse(buffer.ToArray(), new JsonDocumentOptions { MaxDepth = 16 });
            if (document.RootElement.ValueKind != JsonValueKind.Object) return (null, $"the body is a JSON {document.RootElement.ValueKind.ToString().ToLowerInvariant()}: send a JSON object");
            return (document.RootElement.Clone(), null);
        }
        catch (JsonException ex)
        {
            return (null, $"the body is not valid JSON ({ex.Message})");
        }
    }

    /// <summary>A string property of a JSON object, or null when it is missing or not a string.</summary>
    public static string? Text(JsonElement body, string name) =>
        body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>An error answer: <c>{"error": reason}</c> with the status.</summary>
    public static IResult Problem(int status, string reason) => Results.Json(new { error = reason }, statusCode: status);

    private static async Task Refuse(HttpContext context, int status, string reason)
    {
        context.Response.StatusCode = status;
        await context.Response.WriteAsJsonAsync(new { error = reason });
    }
}
