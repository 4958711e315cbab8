using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StillControl.Plant;
using StillControl.Web;

namespace StillControl.Notifications;

/// <summary>
/// The notifications in <c>stillcontrol plant</c>: section <c>Notifications</c>, the still registry's events posted to the
/// <see cref="NotificationCenter"/>, delivery in the background, and the API: <c>GET /api/notifications</c> (viewer: open
/// incidents, each target's queue) and <c>POST /api/notifications/ack</c> (operator: {"site","still","code"?} stops escalation).
/// </summary>
public sealed class NotificationsPlantModule : IPlantModule
{
    public IEnumerable<(string Section, Type Type)> Sections => [(NotificationOptions.Section, typeof(NotificationOptions))];

    /// <summary>Every problem with <c>Notifications</c> (key, value, what is accepted), for the plant's check before anything starts.</summary>
    public static List<string> Problems(IConfiguration configuration) =>
        NotificationOptionsValidator.Check(configuration.GetSection(NotificationOptions.Section).Get<NotificationOptions>() ?? new NotificationOptions());

    public void AddServices(WebApplicationBuilder builder)
    {
        builder.Services.AddNotifications();
        // Subscribed when the hosted services are built, before any of them (the MQTT link among them) starts: no event is missed.
        builder.Services.AddHostedService(sp => new RegistrySubscription(sp.GetRequiredService<StillRegistry>(), sp.GetRequiredService<NotificationCenter>()));
    }

    public void Map(WebApplication app)
    {
        app.MapGet("/api/notifications", (NotificationCenter center) =>
        {
            var open = center.Outbox.OpenIncidents().Select(i => new
            {
                site = i.Site, still = i.Still, kind = i.Category, code = i.Code, message = i.Message, severity = i.Severity, count = i.Count,
                openedAt = i.OpenedAt, acknowledgedBy = i.AcknowledgedBy, acknowledgedAt = i.AcknowledgedAt, escalatedAt = i.EscalatedAt,
            });
            var targets = center.TargetNames.Select(name =>
            {
                var state = center.Outbox.State(name);
                return new { name, pending = center.Outbox.PendingCount(name), failures = state.Failures, lastError = state.LastError, nextAttempt = state.NextAttempt };
            });
            return Results.Json(new { open, targets });
        }).RequireRole(Role.Viewer);

        app.MapPost("/api/notifications/ack", async (HttpContext context, NotificationCenter center) =>
        {
            var (body, problem) = await WebFoundation.ReadJsonAsync(context);
            if (body is not { } json) return WebFoundation.Problem(StatusCodes.Status400BadRequest, problem!);
            var site = WebFoundation.Text(json, "site");
            var still = WebFoundation.Text(json, "still");
            var code = WebFoundation.Text(json, "code");
            if (string.IsNullOrWhiteSpace(site) || string.IsNullOrWhiteSpace(still))
            {
                return WebFoundation.Problem(StatusCodes.Status400BadRequest, "send {\"site\": \"...\", \"still\": \"...\"} and optionally \"code\" (one condition; without it every open one of the still)");
            }
            var by = WebFoundation.SessionOf(context)?.User ?? "api";
            return Results.Json(new { acknowledged = center.Acknowledge(site, still, code, by) });
        }).RequireRole(Role.Operator);
    }

    private sealed class RegistrySubscription : IHostedService
    {
        private readonly StillRegistry registry;
        private readonly Action<PlantEvent> post;

        public RegistrySubscription(StillRegistry registry, NotificationCenter center)
        {
            this.registry = registry;
            post = center.Post;
            registry.Changed += post;
        }

        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken)
        {
            registry.Changed -= post;
            return Task.CompletedTask;
        }
    }
}
