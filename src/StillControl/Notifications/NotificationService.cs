using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace StillControl.Notifications;

/// <summary>
/// Delivers the outbox in the background: one loop per target (a slow or dead target never holds up another), each woken by a
/// new message or its next retry, rate-limit or escalation time; one loop for escalations. What the outbox held at start
/// (after a restart) goes out first.
/// </summary>
public sealed class NotificationService(NotificationCenter center, TimeProvider clock, ILogger<NotificationService> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var loops = center.TargetNames.Select(name => Task.Run(() => TargetLoop(name, stoppingToken), CancellationToken.None)).ToList();
        loops.Add(Task.Run(() => EscalationLoop(stoppingToken), CancellationToken.None));
        return Task.WhenAll(loops);
    }

    private async Task TargetLoop(string target, CancellationToken stop)
    {
        var signal = center.WakeSignal(target);
        while (!stop.IsCancellationRequested)
        {
            DateTimeOffset? next;
            try
            {
                next = await center.DeliverAsync(target, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // A fault in a sender or the outbox never ends delivery: logged, tried again shortly.
                logger.LogError(ex, "Notifications: delivering to {Target} failed", target);
                next = clock.GetUtcNow() + TimeSpan.FromSeconds(30);
            }
            await WaitAsync(signal, next, stop);
        }
    }

    private async Task EscalationLoop(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var next = center.CheckEscalations();
            await WaitAsync(center.EscalationSignal, next, stop);
        }
    }

    /// <summary>Until <paramref name="until"/> (null: only a signal), or a signal, or the stop.</summary>
    private async Task WaitAsync(SemaphoreSlim signal, DateTimeOffset? until, CancellationToken stop)
    {
        try
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(stop);
            var waits = new List<Task> { signal.WaitAsync(linked.Token) };
            if (until is { } at)
            {
                var delay = at - clock.GetUtcNow();
                waits.Add(delay > TimeSpan.Zero ? Task.Delay(delay, clock, linked.Token) : Task.CompletedTask);
            }
            await Task.WhenAny(waits);
            await linked.CancelAsync();
            // Signals that came together are one wake-up.
            while (signal.CurrentCount > 0 && signal.Wait(0)) { }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }
}

public static class NotificationsModule
{
    /// <summary>
    /// Adds the notifications to a host: <c>Notifications</c> bound and validated at start, the <see cref="NotificationCenter"/>
    /// (post the plant's events to it) and the background delivery.
    /// </summary>
    public static IServiceCollection AddNotifications(this IServiceCollection services)
    {
        services.AddSingleton<IValidateOptions<NotificationOptions>, NotificationOptionsValidator>();
        services.AddOptions<NotificationOptions>().BindConfiguration(NotificationOptions.Section).ValidateOnStart();
        services.AddSingleton(sp => new NotificationCenter(
            sp.GetRequiredService<IOptions<NotificationOptions>>().Value,
            sp.GetService<TimeProvider>() ?? TimeProvider.System,
            sp.GetRequiredService<ILoggerFactory>().CreateLogger<NotificationCenter>()));
        services.AddHostedService(sp => new NotificationService(
            sp.GetRequiredService<NotificationCenter>(), sp.GetService<TimeProvider>() ?? TimeProvider.System, sp.GetRequiredService<ILogger<NotificationService>>()));
        return services;
    }
}
