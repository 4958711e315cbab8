using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging.Abstractions;

namespace StillControl.Hosting;

public class SystemdWatchdogTests
{
    private sealed class Notifier : ISystemdNotifier
    {
        public ConcurrentQueue<(long At, string State)> Sent { get; } = new();
        public bool IsEnabled => true;
        public void Notify(ServiceState state) => Sent.Enqueue((Environment.TickCount64, state.ToString()));
    }

    [Fact]
    public async Task The_watchdog_is_fed_while_the_loop_steps_and_starves_when_it_hangs()
    {
        var notifier = new Notifier();
        long last = 0;
        using var watchdog = new SystemdWatchdog(() => Interlocked.Read(ref last), TimeSpan.FromMilliseconds(250), notifier,
            NullLogger<SystemdWatchdog>.Instance, interval: TimeSpan.FromMilliseconds(100));
        await watchdog.StartAsync(CancellationToken.None);

        // Before the first step nothing is sent: a loop that never starts must not look alive.
        await Task.Delay(300);
        Assert.Empty(notifier.Sent);

        // The loop steps every 250 ms for a while.
        for (var i = 0; i < 6; i++)
        {
            Interlocked.Exchange(ref last, Environment.TickCount64);
            await Task.Delay(250);
        }
        var fedWhileStepping = notifier.Sent.Count;
        Assert.True(fedWhileStepping >= 5, $"{fedWhileStepping} pings while the loop stepped");
        Assert.All(notifier.Sent, s => Assert.Equal("WATCHDOG=1", s.State));

        // The loop hangs: after 1 s (4 periods, at least 1 s) no more pings, so systemd kills the service.
        var hungAt = Interlocked.Read(ref last);
        await Task.Delay(1600);
        await watchdog.StopAsync(CancellationToken.None);
        // 200 ms of slack for a thread preempted between its check and the send; without the check pings go on to 1600 ms.
        var late = notifier.Sent.Where(s => s.At > hungAt + 1000 + 200).ToList();
        Assert.Empty(late);
        Assert.Contains(notifier.Sent, s => s.At > hungAt + 300);
    }
}
