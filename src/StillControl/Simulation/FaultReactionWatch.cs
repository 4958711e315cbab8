using StillControl.Hosting;
using StillControl.Process;

namespace StillControl.Simulation;

/// <summary>
/// How the controller answered one scenario fault, timed from the moment the fault began in the simulated world (so the
/// sensor's sampling delay is in the figure): to steam commanded closed and to steam actually shut at the still (the modulating
/// valve at zero or the isolation valve closed). A fault during which steam never shut says so instead of giving no figure.
/// </summary>
public sealed record FaultReaction(string Kind, string? Channel, double? OnsetSeconds, bool SteamOpenAtOnset, double? CommandedClosedMs, double? ClosedMs, string Verdict);

/// <summary>Watches every step for the scenario's faults and the steam's answer to each.</summary>
public sealed class FaultReactionWatch(Scenario scenario, FaultSchedule schedule, SimulatedStill still) : ICycleObserver
{
    private sealed class Watch
    {
        public DateTimeOffset Onset;
        public bool SteamOpenAtOnset;
        public DateTimeOffset? CommandedClosed;
        public DateTimeOffset? Closed;
    }

    private readonly Watch?[] watches = new Watch?[scenario.Faults.Count];
    private DateTimeOffset? batchStart;
    private bool steamWasOpen;

    public void AfterStep(ControlCycle cycle, DateTimeOffset now)
    {
        batchStart ??= cycle.State.StartedAt;
        for (var i = 0; i < scenario.Faults.Count; i++)
        {
            var fault = scenario.Faults[i];
            if (watches[i] is null && schedule.DueAt(fault) is { } due && due <= now)
            {
                // The fault began at its due time, between the last step and this one: the steam was as the last step left it.
                watches[i] = new Watch { Onset = due, SteamOpenAtOnset = steamWasOpen };
            }
            if (watches[i] is { } watch)
            {
                if (watch.CommandedClosed is null && cycle.Decisions.SteamValvePercent <= 0) watch.CommandedClosed = now;
                if (watch.Closed is null && still.Outputs.SteamValvePercent <= 0) watch.Closed = now;
            }
        }
        steamWasOpen = still.Outputs.SteamValvePercent > 0;
    }

    public IReadOnlyList<FaultReaction> Reactions()
    {
        var result = new List<FaultReaction>();
        for (var i = 0; i < scenario.Faults.Count; i++)
        {
            var fault = scenario.Faults[i];
            if (watches[i] is not { } watch)
            {
                result.Add(new FaultReaction(fault.Kind, fault.Channel, null, false, null, null, "never began: the batch ended first"));
                continue;
            }
            double? Ms(DateTimeOffset? at) => at is { } t ? Math.Round(Math.Max(0, (t - watch.Onset).TotalMilliseconds), 1) : null;
            var onset = Math.Round((watch.Onset - (batchStart ?? watch.Onset)).TotalSeconds, 2);
            var verdict = !watch.SteamOpenAtOnset ? "steam was already shut when the fault began"
                : watch.Closed is null ? "steam never shut: the still stayed under steam with the fault"
                : watch.CommandedClosed is null ? "steam shut at the still without the controller closing the valve"
                : "steam shut";
            result.Add(new FaultReaction(fault.Kind, fault.Channel, onset, watch.SteamOpenAtOnset, Ms(watch.CommandedClosed), Ms(watch.Closed), verdict));
        }
        return result;
    }
}
