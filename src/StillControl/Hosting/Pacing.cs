namespace StillControl.Hosting;

/// <summary>Decides when the next control step runs. Real time on the Pi; accelerated or flat out in a simulation.</summary>
public interface IControlPacer
{
    /// <summary>Waits for the next step; false when the loop should end.</summary>
    ValueTask<bool> WaitForNextStepAsync(CancellationToken cancellationToken);
}

/// <summary>The service's pace: a <see cref="PeriodicTimer"/> on the injected <see cref="TimeProvider"/>.</summary>
public sealed class RealTimePacer(TimeProvider time, TimeSpan period) : IControlPacer, IDisposable
{
    private readonly PeriodicTimer timer = new(period, time);

    public async ValueTask<bool> WaitForNextStepAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public void Dispose() => timer.Dispose();
}

/// <summary>A clock that only moves when a simulation moves it.</summary>
public sealed class SimulationClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset now = start;

    public override DateTimeOffset GetUtcNow() => now;

    public void Advance(TimeSpan by) => now += by;
}

/// <summary>
/// Runs simulated time at <c>speed</c> times real time: the simulated clock moves one period per step, and steps are paced by a
/// wall-clock timer. Timers do not fire much faster than every few milliseconds, so at high speeds several steps run per tick.
/// </summary>
public sealed class AcceleratedPacer : IControlPacer, IDisposable
{
    private static readonly TimeSpan ShortestWallTick = TimeSpan.FromMilliseconds(10);
    private readonly SimulationClock clock;
    private readonly TimeSpan period;
    private readonly PeriodicTimer timer;
    private readonly int stepsPerTick;
    private int stepsLeft;

    public AcceleratedPacer(SimulationClock clock, TimeSpan period, double speed, TimeProvider wallClock)
    {
        this.clock = clock;
        this.period = period;
        var wall = period / speed;
        stepsPerTick = wall >= ShortestWallTick ? 1 : (int)Math.Ceiling(ShortestWallTick / wall);
        timer = new PeriodicTimer(wall * stepsPerTick, wallClock);
    }

    public async ValueTask<bool> WaitForNextStepAsync(CancellationToken cancellationToken)
    {
        if (stepsLeft == 0)
        {
            try
            {
                if (!await timer.WaitForNextTickAsync(cancellationToken)) return false;
            }
            catch (OperationCanceledException)
            {
                return false;
            }
            stepsLeft = stepsPerTick;
        }
        stepsLeft--;
        clock.Advance(period);
        return true;
    }

    public void Dispose() => timer.Dispose();
}

/// <summary>Simulated time as fast as the machine runs; yields now and then so cancellation and logging keep working.</summary>
public sealed class MaximumSpeedPacer(SimulationClock clock, TimeSpan period) : IControlPacer
{
    private int steps;

    public async ValueTask<bool> WaitForNextStepAsync(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested) return false;
        if (++steps % 4096 == 0) await Task.Yield();
        clock.Advance(period);
        return true;
    }
}
