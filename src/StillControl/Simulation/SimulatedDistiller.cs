using StillControl.Hosting;
using StillControl.Process;

namespace StillControl.Simulation;

/// <summary>
/// The person at the simulated still: starts the batch on the first layer, lays a layer each time the controller says to cover,
/// seals when the barrel is full, silences alarms, carries out the scenario's operator actions, and after a power loss (when
/// told to resume) acknowledges and resumes. It also ends the simulation when the batch is over or can go no further.
/// </summary>
public sealed class SimulatedDistiller : ICycleObserver, ICheckpointSource
{
    private static readonly TimeSpan HeldWithNothingToComeLimit = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(30);

    private readonly SimulatedStill still;
    private readonly FaultSchedule schedule;
    private readonly Scenario scenario;
    private readonly bool resumeAfterPowerLoss;
    private readonly TimeSpan maximumSimulated;
    private readonly bool[] issued;
    private readonly bool actAsDistiller;
    private readonly bool endWhenDone;
    private bool startSubmitted;
    private DateTimeOffset? startRetryAt;
    private bool coverWasAdvised;
    private DateTimeOffset? coverDueAt;
    /// <summary>The lid is on; the seal command follows once the lid switch has been read closed.</summary>
    private (DateTimeOffset At, string Operator, string Source)? sealDue;
    private static readonly TimeSpan LidToSeal = TimeSpan.FromSeconds(2);
    private DateTimeOffset? ackDueAt;
    private DateTimeOffset? resumeDueAt;
    private DateTimeOffset? firstStepAt;
    private string? metadataWrittenFor;

    public SimulatedDistiller(SimulatedStill still, FaultSchedule schedule, Scenario scenario, bool resumeAfterPowerLoss, TimeSpan maximumSimulated, bool actAsDistiller = true, bool endWhenDone = true)
    {
        this.still = still;
        this.schedule = schedule;
        this.scenario = scenario;
        this.resumeAfterPowerLoss = resumeAfterPowerLoss;
        this.maximumSimulated = maximumSimulated;
        this.actAsDistiller = actAsDistiller;
        this.endWhenDone = endWhenDone;
        issued = new bool[scenario.Operator.Count];
    }

    /// <summary>Why the simulation ended, once it has.</summary>
    public string? EndReason { get; private set; }

    public void AfterStep(ControlCycle cycle, DateTimeOffset now)
    {
        var state = cycle.State;
        var decisions = cycle.Decisions;
        firstStepAt ??= now;
        schedule.Observe(state);

        if (scenario.Metadata is { } metadata && state.BatchId is { } batch && metadataWrittenFor != batch && !state.Phase.IsFinished())
        {
            // As the start form would: the batch's grain lot, mass, pit and notes, written with the loop's next commit.
            metadataWrittenFor = batch;
            cycle.Journal.SetMetadataOnLoop(batch, metadata);
        }
        if (actAsDistiller) ActAsDistiller(cycle, state, decisions, now);
        else CrewOnly(state, decisions, now);
        ScenarioActions(cycle, now);
        if (sealDue is { } seal && now >= seal.At)
        {
            sealDue = null;
            cycle.Submit(new OperatorCommand(CommandKind.Seal, seal.Operator, seal.Source));
        }
        if (endWhenDone) DecideEnd(cycle, state, now);
    }

    public string? Checkpoint() => still.Checkpoint();

    private void ActAsDistiller(ControlCycle cycle, BatchState state, Decisions decisions, DateTimeOffset now)
    {
        // The distiller starts once the readings have settled: every sensor has reported at least once.
        var settled = now - firstStepAt >= TimeSpan.FromSeconds(3);
        if (settled && !cycle.RestoredAfterPowerLoss && state.Phase == Phase.Idle && (!startSubmitted || (startRetryAt is { } retry && now >= retry)))
        {
            if (still.Model.LoadedLayers == 0) still.Model.AddLayer();
            startSubmitted = true;
            startRetryAt = now + RetryInterval;
            cycle.Submit(new OperatorCommand(CommandKind.Start, "distiller", "simulation"));
        }

        if (state.Phase == Phase.Loading && !state.Held)
        {
            if (decisions.CoverLayerAdvised && !coverWasAdvised)
            {
                coverDueAt = now + TimeSpan.FromSeconds(scenario.Distiller.ReactionSeconds);
            }
            coverWasAdvised = decisions.CoverLayerAdvised;
            if (coverDueAt is { } due && now >= due)
            {
                coverDueAt = null;
                if (!still.Model.Full)
                {
                    still.Model.AddLayer();
                }
                else
                {
                    still.Model.Seal();
                    sealDue = (now + LidToSeal, "distiller", "simulation");
                }
            }
        }

        if (scenario.Distiller.AcknowledgeAlarmsAfterSeconds is { } ackAfter && decisions.Horn)
        {
            ackDueAt ??= now + TimeSpan.FromSeconds(ackAfter);
            if (now >= ackDueAt)
            {
                ackDueAt = null;
                cycle.Submit(new OperatorCommand(CommandKind.Ack, "distiller", "simulation"));
            }
        }
        else if (!decisions.Horn)
        {
            ackDueAt = null;
        }

        if (resumeAfterPowerLoss && cycle.RestoredAfterPowerLoss && state.Held && state.HoldCause == "power-loss")
        {
            if (state.Phase >= Phase.Sealed) still.Model.Seal();
            resumeDueAt ??= now + RetryInterval;
            if (now >= resumeDueAt && !decisions.Horn)
            {
                resumeDueAt = now + RetryInterval;
                cycle.Submit(new OperatorCommand(CommandKind.Resume, "distiller", "simulation"));
            }
        }
    }

    /// <summary>
    /// The simulated distiller is off (a person works the batch from the panel): nobody here gives a command, but the crew at the
    /// still still does the physical work the commands stand for: the first layer when a batch starts, a layer on each cover
    /// advice, the lid once the barrel is full or as soon as a seal was accepted.
    /// </summary>
    private void CrewOnly(BatchState state, Decisions decisions, DateTimeOffset now)
    {
        if (state.Phase == Phase.Loading && still.Model.LoadedLayers == 0) still.Model.AddLayer();
        foreach (var e in decisions.Events)
        {
            if (e.Kind == EventKind.CommandAccepted && e.Code == CommandKind.Seal.Name()) still.Model.Seal();
        }
        if (state.Phase != Phase.Loading || state.Held) return;
        if (decisions.CoverLayerAdvised && !coverWasAdvised) coverDueAt = now + TimeSpan.FromSeconds(scenario.Distiller.ReactionSeconds);
        coverWasAdvised = decisions.CoverLayerAdvised;
        if (coverDueAt is { } due && now >= due)
        {
            coverDueAt = null;
            if (!still.Model.Full) still.Model.AddLayer();
            else still.Model.Seal();
        }
    }

    private void ScenarioActions(ControlCycle cycle, DateTimeOffset now)
    {
        for (var i = 0; i < scenario.Operator.Count; i++)
        {
            if (issued[i]) continue;
            var action = scenario.Operator[i];
            if (schedule.DueAt(action) is { } due && now >= due)
            {
                issued[i] = true;
                if (action.Kind == CommandKind.Seal)
                {
                    // Lid on first; the command once the switch has been read closed.
                    still.Model.Seal();
                    sealDue = (now + LidToSeal, action.Operator ?? "scenario", "scenario");
                    continue;
                }
                cycle.Submit(new OperatorCommand(action.Kind, action.Operator ?? "scenario", "scenario", action.Argument));
            }
        }
    }

    private void DecideEnd(ControlCycle cycle, BatchState state, DateTimeOffset now)
    {
        // A command handed in this step runs in the next: the simulation does not end with it still waiting.
        if (cycle.HasPendingCommands) return;
        if (state.Phase.IsFinished() && state.BatchId is not null && (startSubmitted || cycle.RestoredAfterPowerLoss))
        {
            End(cycle, $"batch {state.Phase.Name()}");
            return;
        }
        var from = state.StartedAt ?? firstStepAt ?? now;
        if (now - from >= maximumSimulated)
        {
            End(cycle, $"simulated time limit of {maximumSimulated.TotalHours:0.#} h reached in {StillController.Describe(state)}");
            return;
        }
        if (state.Phase == Phase.Idle && !cycle.RestoredAfterPowerLoss && now - (firstStepAt ?? now) >= TimeSpan.FromMinutes(10))
        {
            End(cycle, "the batch could not be started within 10 simulated minutes");
            return;
        }
        if (state.Held && state.HeldSince is { } since && now - since >= HeldWithNothingToComeLimit && !SomethingToCome(now, state))
        {
            End(cycle, $"held ({state.HoldCause}) with no operator action to come");
        }
    }

    private bool SomethingToCome(DateTimeOffset now, BatchState state)
    {
        if (resumeAfterPowerLoss && state.HoldCause == "power-loss") return true;
        for (var i = 0; i < scenario.Operator.Count; i++)
        {
            if (!issued[i] && schedule.DueAt(scenario.Operator[i]) is { } due && due > now) return true;
        }
        return false;
    }


    private void End(ControlCycle cycle, string reason)
    {
        EndReason ??= reason;
        cycle.StopRequested = true;
    }
}
