using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;

namespace StillControl.Hosting;

/// <summary>
/// Feeds systemd's watchdog (WatchdogSec in the unit) only while the control loop is stepping: a hung loop stops the feeding,
/// systemd kills the service, ExecStopPost drives the outputs safe and Restart= brings it back held with a power-loss alarm.
/// Does nothing outside systemd or without WatchdogSec.
/// </summary>
/// <param name="lastTick">Environment.TickCount64 at the loop's last step (<see cref="ControlCycle.LastTickMilliseconds"/>); 0 before the first.</param>
/// <param name="interval">The watchdog interval; null: WATCHDOG_USEC from systemd.</param>
public sealed partial class SystemdWatchdog(Func<long> lastTick, TimeSpan period, ISystemdNotifier notifier, ILogger<SystemdWatchdog> logger, TimeSpan? interval = null)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!notifier.IsEnabled || (interval ?? WatchdogInterval()) is not { } every)
        {
            return;
        }
        // systemd advises feeding at half the interval; a loop counts as alive when it stepped within 4 periods (at least 1 s).
        var alive = Math.Max(1000, 4 * period.TotalMilliseconds);
        using var timer = new PeriodicTimer(every / 2);
        var starved = false;
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            var last = lastTick();
            if (last != 0 && Environment.TickCount64 - last <= alive)
            {
                notifier.Notify(new ServiceState("WATCHDOG=1"));
                starved = false;
            }
            else if (!starved && last != 0)
            {
                starved = true;
                LogStarved((Environment.TickCount64 - last) / 1000.0);
            }
        }
    }

    /// <summary>WATCHDOG_USEC as systemd passes it (only when WATCHDOG_PID is this process or unset).</summary>
    public static TimeSpan? WatchdogInterval()
    {
        var pid = Environment.GetEnvironmentVariable("WATCHDOG_PID");
        if (pid is not null && pid != Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture))
        {
            return null;
        }
        return long.TryParse(Environment.GetEnvironmentVariable("WATCHDOG_USEC"), out var usec) && usec > 0 ? TimeSpan.FromMicroseconds(usec) : null;
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "Control loop has not stepped for {Seconds:0.0} s: no longer feeding the systemd watchdog")]
    private partial void LogStarved(double seconds);
}
