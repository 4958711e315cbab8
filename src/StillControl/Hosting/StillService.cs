using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace StillControl.Hosting;

/// <summary>What the service ended with, for the command line's exit code.</summary>
public sealed class ServiceOutcome
{
    public Exception? Failure { get; set; }

    /// <summary>Wall time from the first control step to the last: what a simulated batch cost, without host start-up.</summary>
    public TimeSpan LoopWallTime { get; set; }
}

/// <summary>
/// The control loop as a hosted service. Outputs go safe before the first step and after the last, whether the loop ended by a
/// stop, by the batch finishing in a simulation, or by an exception (which then stops the host with a non-zero exit).
/// </summary>
public sealed partial class StillService(ControlCycle cycle, IControlPacer pacer, IHostApplicationLifetime lifetime, ServiceOutcome outcome, ILogger<StillService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        var started = TimeProvider.System.GetTimestamp();
        try
        {
            cycle.Start();
            LogStarted(cycle.Recipe.Name);
            await ControlThread.Run(
                token => cycle.StopRequested ? new ValueTask<bool>(false) : pacer.WaitForNextStepAsync(token),
                cycle.Tick,
                stoppingToken,
                elevated => { if (!elevated) LogNotElevated(); });
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            outcome.Failure = ex;
            LogCrashed(ex);
        }
        finally
        {
            cycle.Stop();
            outcome.LoopWallTime = TimeProvider.System.GetElapsedTime(started);
            LogStopped();
            lifetime.StopApplication();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Control loop started on recipe {Recipe}; outputs safe until the first step")]
    private partial void LogStarted(string recipe);

    [LoggerMessage(Level = LogLevel.Information, Message = "Control loop runs at normal priority (raising it needs root or CAP_SYS_NICE)")]
    private partial void LogNotElevated();

    [LoggerMessage(Level = LogLevel.Critical, Message = "Control loop failed; outputs set safe (steam closed, cooling open, alarm on)")]
    private partial void LogCrashed(Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Control loop stopped; outputs safe")]
    private partial void LogStopped();
}
