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
/// Keeps a simulated clock from passing the wall clock, so that nothing stamped by it (a sample, an event, an MQTT message, a
/// history point) is ever later than the moment it is written: a step that would pass the wall clock waits for it. Cheap: the
/// wall clock is read again only once the headroom last measured is used up.
/// </summary>
public sealed class WallClockLimit(SimulationClock clock, TimeProvider wall)
{
    private TimeSpan headroom;

    /// <summary>Takes the step at once when the headroom allows it (measured again once used up); false when the caller must wait.</summary>
    public bool TryStep(TimeSpan step)
    {
        if (headroom < step) headroom = wall.GetUtcNow() - clock.GetUtcNow();
        if (headroom < step) return false;
        headroom -= step;
        return true;
    }

    /// <summary>Waits until the clock may move on by <paramref name="step"/>; false when cancelled.</summary>
    public async ValueTask<bool> BeforeStepAsync(TimeSpan step, CancellationToken cancellationToken)
    {
        while (headroom < step)
        {
            headroom = wall.GetUtcNow() - clock.GetUtcNow();
            if (headroom >= step) break;
            try
            {
                await Task.Delay(step - headroom, wall, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }
        headroom -= step;
        return true;
    }
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
    private readonly WallClockLimit limit;
    private int stepsLeft;

    public AcceleratedPacer(SimulationClock clock, TimeSpan period, double speed, TimeProvider wallClock)
    {
        this.clock = clock;
        this.period = period;
        limit = new WallClockLimit(clock, wallClock);
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
        if (!await limit.BeforeStepAsync(period, cancellationToken)) return false;
        clock.Advance(period);
        return true;
    }

    public void Dispose() => timer.Dispose();
}

/// <summary>
/// Simulated time as fast as the machine runs, but never past the wall clock (see <see cref="WallClockLimit"/>); yields now and
/// then so cancellation and logging keep working.
/// </summary>
public sealed class MaximumSpeedPacer(SimulationClock clock, TimeSpan period, TimeProvider wallClock) : IControlPacer
{
    private readonly WallClockLimit limit = new(clock, wallClock);
    private int steps;

    public ValueTask<bool> WaitForNextStepAsync(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested) return new(false);
        // Nearly every step: no wait, no state machine.
        if (++steps % 4096 != 0 && limit.TryStep(period))
        {
            clock.Advance(period);
            return new(true);
        }
        return WaitAsync(cancellationToken);
    }

    private async ValueTask<bool> WaitAsync(CancellationToken cancellationToken)
    {
        if (steps % 4096 == 0) await Task.Yield();
        if (!await limit.BeforeStepAsync(period, cancellationToken)) return false;
        clock.Advance(period);
        return true;
    }
}
