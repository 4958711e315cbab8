using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using StillControl.Actuators;
using StillControl.Journal;
using StillControl.Process;
using StillControl.Recipes;
using StillControl.Sensors;

namespace StillControl.Hosting;

/// <summary>Something that watches each control step: the simulated distiller, the console, a forwarder.</summary>
public interface ICycleObserver
{
    void AfterStep(ControlCycle cycle, DateTimeOffset now);
}

/// <summary>
/// One control step end to end: read the sensors, apply queued operator commands, step the pure controller, drive the outputs,
/// journal what happened. It is the only place these meet, and it runs on one thread: commands from elsewhere are queued.
/// </summary>
/// <summary>A recipe for the next start, from <paramref name="Operator"/> through <paramref name="Source"/> (the panel); <paramref name="Note"/> says where it came from.</summary>
public sealed record RecipeChange(Recipe Recipe, string Operator, string Source, string? Note);

public sealed partial class ControlCycle
{
    private readonly ISensorBank sensors;
    private readonly IActuators actuators;
    private readonly BatchJournal journal;
    private readonly TimeProvider time;
    private readonly ControlOptions options;
    private readonly ILogger logger;
    private readonly List<ICycleObserver> observers = [];
    private readonly ConcurrentQueue<Pending<OperatorCommand>> commands = new();
    private readonly ConcurrentQueue<ControllerEvent> audits = new();
    private readonly ConcurrentQueue<Pending<OutputTestRequest>> outputTestRequests = new();
    private readonly OutputTest outputTest;
    private OutputTestStatus outputTestStatus = OutputTestStatus.Idle;
    private LiveState live = LiveState.Initial;
    private readonly ConcurrentQueue<Pending<RecipeChange>> recipeChanges = new();
    private Recipe recipe;
    private string recipeJson;
    private DateTimeOffset nextSampleAt;
    private DateTimeOffset nextStateSaveAt;
    private bool started;
    private bool stateDirty;

    public ControlCycle(ISensorBank sensors, IActuators actuators, Recipe recipe, BatchJournal journal, TimeProvider time, ControlOptions options, ILogger<ControlCycle> logger)
    {
        this.sensors = sensors;
        this.actuators = actuators;
        outputTest = new OutputTest { SteamIsolationFitted = actuators.SteamIsolationFitted };
        this.recipe = recipe;
        this.journal = journal;
        this.time = time;
        this.options = options;
        this.logger = logger;
        recipeJson = RecipeJson.Serialize(recipe);
    }

    /// <summary>The recipe the running batch follows, or the next start will; changed only between batches (<see cref="ChangeRecipe"/>).</summary>
    public Recipe Recipe => Volatile.Read(ref recipe);
    public BatchState State { get; private set; } = new();
    public Decisions Decisions { get; } = new();
    public ReadingSnapshot Readings { get; } = new();
    public BatchJournal Journal => journal;
    public IActuators Actuators => actuators;

    /// <summary>Largest time from the reading that showed a trip condition to the step that closed steam, in ms.</summary>
    public double? InterlockLatencyMaxMilliseconds { get; private set; }

    /// <summary>True once a batch was restored held after a power loss at start-up.</summary>
    public bool RestoredAfterPowerLoss { get; private set; }

    /// <summary>Set by an observer that wants the loop to stop (a simulation that has run its batch).</summary>
    public bool StopRequested { get; set; }

    public void AddObserver(ICycleObserver observer) => observers.Add(observer);

    /// <summary>The still as it is now, for publishers on other threads; replaced whole, never changed in place.</summary>
    public LiveState Live => Volatile.Read(ref live);

    /// <summary>Channels with a source (a simulated sensor or real wiring): what a dashboard should show.</summary>
    public IReadOnlyList<Channel> ConfiguredChannels => sensors is IChannelSource source ? source.ConfiguredChannels : Channels.All;

    /// <summary>Queues an event that happened outside the loop (a remote command refused before reaching the controller) for the journal.</summary>
    /// <remarks>After the loop has stopped (a simulated batch that ended before the link stopped) it goes to the journal at once.</remarks>
    public void Audit(ControllerEvent e)
    {
        audits.Enqueue(e);
        if (Volatile.Read(ref stopped)) AfterStop();
    }

    /// <summary>Commands queued for the next step.</summary>
    public bool HasPendingCommands => !commands.IsEmpty;

    /// <summary>
    /// The write-ahead log is copied into the journal's main file at every phase change and at least this often in between; the timed
    /// checkpoint never sooner than <see cref="BatchJournal.MinimumCheckpointSpacing"/> of wall-clock time after the last (in a
    /// simulation hundreds of times faster than real time it would otherwise flush the disk several times a wall-clock second).
    /// </summary>
    private static readonly TimeSpan CheckpointInterval = TimeSpan.FromMinutes(2);
    private DateTimeOffset nextCheckpointAt;
    private bool checkpointWanted;

    /// <summary>Queues a command for the next step; the task completes with the controller's answer.</summary>
    /// <remarks>Once the loop has stopped, a command queued is answered at once, not run: see <see cref="NotRunReason"/>.</remarks>
    public Task<CommandResult> Submit(OperatorCommand command)
    {
        var result = new TaskCompletionSource<CommandResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        commands.Enqueue(new(command, result));
        if (Volatile.Read(ref stopped)) AfterStop();
        return result.Task;
    }

    /// <summary>
    /// Queues a manual output test request (commissioning) for the next step: the loop stays the only writer of the outputs, and
    /// applies the test after the controller's step, ending it at any doubt. The task completes with the answer.
    /// </summary>
    public Task<CommandResult> SubmitOutputTest(OutputTestRequest request)
    {
        var result = new TaskCompletionSource<CommandResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        outputTestRequests.Enqueue(new(request, result));
        if (Volatile.Read(ref stopped)) RefuseQueuedRequests();
        return result.Task;
    }

    /// <summary>The output test now, published by the loop each step (replaced whole).</summary>
    public OutputTestStatus OutputTestStatus => Volatile.Read(ref outputTestStatus);

    /// <summary>True while an output is driven by hand; only on the loop's thread (an observer).</summary>
    public bool OutputTestActive => outputTest.Active;

    /// <summary>
    /// Queues a new recipe for the next start. The loop takes it at its next step only while no batch runs (idle, or the last batch
    /// ended); a running or held batch keeps the recipe it started on and the change is refused with the reason. Either way the
    /// answer is journaled as an event naming the user: accepted outside any batch, refused in the running batch.
    /// </summary>
    public Task<CommandResult> ChangeRecipe(RecipeChange change)
    {
        var result = new TaskCompletionSource<CommandResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        recipeChanges.Enqueue(new(change, result));
        if (Volatile.Read(ref stopped)) RefuseQueuedRequests();
        return result.Task;
    }

    private void ApplyRecipeChanges(DateTimeOffset now)
    {
        while (recipeChanges.TryDequeue(out var item))
        {
            var (change, answer) = item;
            var who = $"recipe by {change.Operator} ({change.Source})";
            if (State.Phase.IsActive())
            {
                var refusal = CommandResult.Refuse($"batch {State.BatchId} is {(State.Held ? "held in " : "in ")}{State.Phase.Name()}: it keeps recipe '{Recipe.Name}' until it ends; upload the recipe again after the batch");
                Decisions.Events.Add(new ControllerEvent(EventKind.CommandRefused, now, State.Phase, "recipe", $"{who}: {refusal.Reason}"));
                answer.TrySetResult(refusal);
                continue;
            }
            var before = Recipe.Name;
            Volatile.Write(ref recipe, change.Recipe);
            recipeJson = RecipeJson.Serialize(change.Recipe);
            var accepted = CommandResult.Accept($"recipe '{change.Recipe.Name}' replaces '{before}': the next start uses it");
            // Outside any batch: journaled with no batch id, so a finished batch's record never gains it.
            journal.AppendEvent(null, new ControllerEvent(EventKind.CommandAccepted, now, State.Phase, "recipe", $"{who}: {accepted.Reason}{(change.Note is null ? "" : $" ({change.Note})")}"));
            answer.TrySetResult(accepted);
        }
    }

    /// <summary>The answer to a command still queued when the loop stops: it never reached the controller.</summary>
    public const string NotRunReason = "not run: the service stopped";

    private bool stopped;
    private readonly Lock stopGate = new();

    /// <summary>Commands queued when (or after) the loop stopped are refused, not run, each with its audit event in the journal.</summary>
    private void RefuseQueued(DateTimeOffset now)
    {
        while (commands.TryDequeue(out var item))
        {
            var command = item.Request;
            var refusal = CommandResult.Refuse(NotRunReason);
            journal.AppendEvent(State.BatchId, new ControllerEvent(EventKind.CommandRefused, now, State.Phase, command.Kind.Name(),
                $"{command.Kind.Name()} by {command.Operator} ({command.Source}{(command.Id is null ? "" : $", id {command.Id}")}): {refusal.Reason}"));
            item.Result.TrySetResult(refusal);
        }
    }

    /// <summary>
    /// Output tests and recipe changes queued when (or after) the loop stopped: answered, never applied (no loop is left to
    /// apply them), so a panel request never waits for a loop that is gone.
    /// </summary>
    private void RefuseQueuedRequests()
    {
        while (outputTestRequests.TryDequeue(out var test)) test.Result.TrySetResult(CommandResult.Refuse(NotRunReason));
        while (recipeChanges.TryDequeue(out var change)) change.Result.TrySetResult(CommandResult.Refuse(NotRunReason));
    }

    /// <summary>A command or an audit event handed in after the loop stopped: journaled and committed on the caller's thread.</summary>
    private void AfterStop()
    {
        lock (stopGate)
        {
            try
            {
                var now = time.GetUtcNow();
                RefuseQueued(now);
                while (audits.TryDequeue(out var audit)) journal.AppendEvent(State.BatchId, audit with { Phase = State.Phase });
                journal.Commit(force: true);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The journal is gone (the host is being disposed) or cannot be written: the answers are still given.
                while (commands.TryDequeue(out var item)) item.Result.TrySetResult(CommandResult.Refuse(NotRunReason));
                LogJournalFailed(ex);
            }
        }
    }

    /// <summary>Outputs safe first; then, if the journal holds an unfinished batch, it comes back held with a power-loss alarm.</summary>
    public void Start()
    {
        actuators.SetSafe();
        var now = time.GetUtcNow();
        var unfinished = journal.FindUnfinished();
        if (unfinished is { } found)
        {
            State = found.State;
            Decisions.Clear(now);
            StillController.RestoreAfterPowerLoss(State, now, Decisions);
            AdoptRecipeOf(found.Id, found.RecipeJson, now);
            RestoredAfterPowerLoss = true;
            LogRestored(found.Id, State.Phase.Name());
            JournalEvents(now);
            journal.SaveState(State, now, null);
            journal.Commit(force: true);
        }
        nextSampleAt = now;
        nextStateSaveAt = now;
        nextCheckpointAt = now + CheckpointInterval;
        started = true;
    }

    /// <summary>
    /// An interrupted batch goes on with the recipe it started on (stored with it), not with whatever the service was started
    /// with since (an upload in the panel, another --recipe): its cuts, limits and receivers are the ones its record names. A
    /// stored recipe that no longer passes the check keeps the service's, said in the batch's events.
    /// </summary>
    private void AdoptRecipeOf(string batchId, string storedJson, DateTimeOffset now)
    {
        if (storedJson == recipeJson) return;
        var (stored, errors) = RecipeJson.Parse(storedJson);
        if (stored is not null)
        {
            var before = recipe.Name;
            Volatile.Write(ref recipe, stored);
            recipeJson = storedJson;
            Decisions.Events.Add(new ControllerEvent(EventKind.Advisory, now, State.Phase, "recipe",
                $"batch {batchId} resumes on recipe '{stored.Name}', the one it started on (the service was started with '{before}')"));
        }
        else
        {
            Decisions.Events.Add(new ControllerEvent(EventKind.Advisory, now, State.Phase, "recipe",
                $"batch {batchId}'s own recipe no longer passes the recipe check ({string.Join("; ", errors.Take(3))}): it resumes held on the service's recipe '{recipe.Name}'; check the cuts and limits before resuming"));
        }
    }

    /// <summary>Wall-clock tick count (ms) at the start of the last step; the systemd watchdog is fed only while this moves.</summary>
    public long LastTickMilliseconds => Volatile.Read(ref lastTickMilliseconds);

    private long lastTickMilliseconds;

    public void Tick()
    {
        if (!started) throw new InvalidOperationException("Start the control cycle before stepping it.");
        Volatile.Write(ref lastTickMilliseconds, Environment.TickCount64);
        var now = time.GetUtcNow();
        sensors.Read(Readings, now);
        Readings.OutputFault = actuators.Fault;

        Decisions.Clear(now);
        ApplyRecipeChanges(now);
        while (commands.TryDequeue(out var item))
        {
            var command = item.Request;
            if (command.Kind == CommandKind.Start && string.IsNullOrWhiteSpace(command.Argument))
            {
                command = command with { Argument = NewBatchId(now) };
            }
            else if (command.Kind == CommandKind.Start && !State.Phase.IsActive() && journal.HasBatch(command.Argument!))
            {
                // A batch record is never taken over: a start naming an id the journal holds is refused, with a result.
                var refusal = CommandResult.Refuse($"batch id '{command.Argument}' is taken: the journal already holds that batch; start with another id, or none for a new one");
                Decisions.Events.Add(new ControllerEvent(EventKind.CommandRefused, now, State.Phase, command.Kind.Name(),
                    $"{command.Kind.Name()} by {command.Operator} ({command.Source}{(command.Id is null ? "" : $", id {command.Id}")}): {refusal.Reason}"));
                item.Result.TrySetResult(refusal);
                continue;
            }
            if (outputTest.Refusal(command.Kind) is { } testing)
            {
                var refusal = CommandResult.Refuse(testing);
                Decisions.Events.Add(new ControllerEvent(EventKind.CommandRefused, now, State.Phase, command.Kind.Name(),
                    $"{command.Kind.Name()} by {command.Operator} ({command.Source}{(command.Id is null ? "" : $", id {command.Id}")}): {refusal.Reason}"));
                item.Result.TrySetResult(refusal);
                continue;
            }
            var wasBatch = State.BatchId;
            var result = StillController.Apply(command, State, Recipe, now, Decisions);
            if (result.Accepted && command.Kind == CommandKind.Start && State.BatchId != wasBatch)
            {
                journal.BeginBatch(State.BatchId!, now, Recipe.Name, recipeJson);
            }
            item.Result.TrySetResult(result);
        }
        while (audits.TryDequeue(out var audit))
        {
            Decisions.Events.Add(audit with { Phase = State.Phase });
        }
        var steamWasOpen = actuators.Outputs.SteamValvePercent > 0;
        StillController.Step(Readings, State, Recipe, now, Decisions);
        // The output test (commissioning) has the word after the controller, never over it: it only changes an idle still's outputs.
        var testChanged = outputTest.Active;
        List<(TaskCompletionSource<CommandResult> Result, CommandResult Answer)>? answered = null;
        while (outputTestRequests.TryDequeue(out var request))
        {
            testChanged = true;
            (answered ??= []).Add((request.Result, outputTest.Handle(request.Request, State, Recipe, now, Decisions)));
        }
        outputTest.Apply(State, Recipe, now, Decisions);
        // Published before anyone hears the answer, so a page that asks right after sees the test it started.
        if (testChanged) Volatile.Write(ref outputTestStatus, outputTest.Status);
        foreach (var (result, answer) in answered ?? []) result.TrySetResult(answer);
        actuators.Apply(Decisions);

        MeasureInterlockLatency(now, steamWasOpen);
        JournalEvents(now);
        if (now >= nextSampleAt)
        {
            journal.AppendSample(State, Decisions, now);
            nextSampleAt = now + options.SampleInterval;
            PublishLive(now);
        }
        else if (Decisions.Events.Count > 0)
        {
            PublishLive(now);
        }
        var force = State.Phase.IsFinished() && Decisions.Events.Count > 0;
        var phaseChanged = false;
        foreach (var e in Decisions.Events) phaseChanged |= e.Kind is EventKind.PhaseChanged or EventKind.BatchEnded;
        if (Decisions.Events.Count > 0) stateDirty = true;
        // Whether this step commits is decided once: the state is saved with every commit that carries this step's rows (a
        // batch row must never reach the disk without its state, or a kill in between leaves a batch nobody can resume), and
        // no more often than a commit can keep it. A phase change (the start included) and a checkpoint commit too; a timed
        // checkpoint asked for within a second of wall-clock time of the last waits for a later step.
        if (now >= nextCheckpointAt)
        {
            checkpointWanted = true;
            nextCheckpointAt = now + CheckpointInterval;
        }
        // A phase change is checkpointed at once (the main file alone holds the batch up to its last phase change); the timed
        // checkpoint waits for the wall-clock spacing.
        var checkpoint = phaseChanged || (checkpointWanted && journal.CheckpointAllowed);
        var commit = force || phaseChanged || checkpoint || journal.CommitDue;
        if (State.BatchId is not null && (stateDirty || now >= nextStateSaveAt) && commit)
        {
            SaveState(now);
        }
        if (commit) journal.Commit(force: true);
        if (checkpoint)
        {
            journal.Checkpoint();
            checkpointWanted = false;
            nextCheckpointAt = now + CheckpointInterval;
        }

        foreach (var observer in observers)
        {
            observer.AfterStep(this, now);
        }
    }

    /// <summary>Outputs safe and everything committed. Called on stop and after a crash; must not throw.</summary>
    public void Stop()
    {
        try
        {
            actuators.SetSafe();
        }
        finally
        {
            // From here on a command or audit event handed in goes to the journal on its caller's thread, under the same lock.
            lock (stopGate)
            {
                Volatile.Write(ref stopped, true);
                // A full fence: a caller enqueues (a full fence of its own) and then reads the flag; without this one the
                // queue could be read before the flag is seen, and a request handed in at this instant answered by neither.
                Interlocked.MemoryBarrier();
                RefuseQueuedRequests();
                try
                {
                    RefuseQueued(time.GetUtcNow());
                    // Audit events handed in since the last step (a command answered just before the stop) are kept too.
                    while (audits.TryDequeue(out var audit))
                    {
                        journal.AppendEvent(State.BatchId, audit with { Phase = State.Phase });
                    }
                    if (State.BatchId is not null) SaveState(time.GetUtcNow());
                    journal.Commit(force: true);
                }
                catch (Exception ex)
                {
                    while (commands.TryDequeue(out var item)) item.Result.TrySetResult(CommandResult.Refuse(NotRunReason));
                    LogJournalFailed(ex);
                }
            }
        }
    }

    private void PublishLive(DateTimeOffset now)
    {
        List<string>? active = null, unacknowledged = null;
        for (var i = 0; i < State.AlarmSlots.Length; i++)
        {
            if (State.AlarmSlots[i].Active) (active ??= []).Add(Alarms.Code(i));
            if (State.AlarmSlots[i].Unacknowledged) (unacknowledged ??= []).Add(Alarms.Code(i));
        }
        // The cooling threshold the loop holds now, so a remote board can say "on target" without the recipe.
        CoolingThreshold? cooling = State.Phase.IsActive() ? Recipe.CoolingFor(State.Phase) : null;
        var measured = cooling is null ? default : State.Signal(cooling.MeasuredChannel);
        Volatile.Write(ref live, new LiveState(now, State.BatchId, State.Phase.Name(), State.Held, State.Held ? State.HoldCause : null,
            Math.Round(Decisions.SteamValvePercent, 2), Math.Round(Decisions.CoolingValvePercent, 2), Decisions.Receiver,
            Decisions.StrengthPercentVolume is { } s ? Math.Round(s, 2) : null, Decisions.CoverLayerAdvised,
            (IReadOnlyList<string>?)active ?? [], (IReadOnlyList<string>?)unacknowledged ?? [],
            State.BatchId is null ? null : State.StartedAt, cooling?.Channel,
            cooling is not null && measured.IsGood ? Math.Round(measured.Value, 2) : null, cooling?.TargetCelsius, cooling?.MaximumCelsius) { Readings = ReadingsNow() });
    }

    /// <summary>Each configured channel's accepted value now, null while faulted: what a live watcher shows as current.</summary>
    private ChannelReadings ReadingsNow()
    {
        var configured = 0;
        foreach (var signal in State.Signals) if (signal.IsConfigured) configured++;
        var channels = new Channel[configured];
        var values = new double?[configured];
        var n = 0;
        for (var i = 0; i < State.Signals.Length; i++)
        {
            var signal = State.Signals[i];
            if (!signal.IsConfigured) continue;
            channels[n] = (Channel)i;
            values[n++] = signal.IsGood && double.IsFinite(signal.Value) ? Math.Round(signal.Value, 2) : null;
        }
        return new ChannelReadings(channels, values);
    }

    private void SaveState(DateTimeOffset now)
    {
        journal.SaveState(State, now, Outcome(State));
        nextStateSaveAt = now + options.StateSaveInterval;
        stateDirty = false;
        foreach (var observer in observers)
        {
            if (observer is ICheckpointSource source && source.Checkpoint() is { } checkpoint)
            {
                journal.SaveCheckpoint(State.BatchId!, now, checkpoint);
            }
        }
    }

    /// <summary>The outcome the journal records: only a finished batch has one.</summary>
    public static string? Outcome(BatchState state) => state.Phase.IsFinished() ? Reports.BatchReport.OutcomeOf(state) : null;

    private void MeasureInterlockLatency(DateTimeOffset now, bool steamWasOpen)
    {
        foreach (var e in Decisions.Events)
        {
            if (e.Kind == EventKind.InterlockTrip && e.Channel is { } channel && Readings[channel].Timestamp != default)
            {
                // Stale readings have no reading that showed the fault: only count trips a reading caused.
                if (State.Signal(channel).Fault == FaultReason.Stale) continue;
                var latency = (now - Readings[channel].Timestamp).TotalMilliseconds;
                if (Decisions.SteamValvePercent <= 0 && (InterlockLatencyMaxMilliseconds is null || latency > InterlockLatencyMaxMilliseconds))
                {
                    InterlockLatencyMaxMilliseconds = latency;
                }
                if (steamWasOpen) LogTrip(e.Code, PrintableText.Of(e.Message), latency);
            }
        }
    }

    private void JournalEvents(DateTimeOffset now)
    {
        foreach (var e in Decisions.Events)
        {
            journal.AppendEvent(State.BatchId, e);
            if (e.Kind is EventKind.PhaseChanged or EventKind.GradeChanged or EventKind.Held or EventKind.Resumed or EventKind.AlarmRaised or EventKind.CommandRefused)
            {
                LogEvent(e.Kind.Name(), PrintableText.Of(e.Message));
            }
        }
    }

    /// <summary>The still and the start time to the second; a second batch in the same second (or a clock set back) gets a suffix, so an id is never reused.</summary>
    private string NewBatchId(DateTimeOffset now)
    {
        var id = $"{options.StillName}-{now.UtcDateTime.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}";
        var candidate = id;
        for (var n = 2; journal.HasBatch(candidate); n++)
        {
            candidate = $"{id}-{n}";
        }
        return candidate;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Journal held unfinished batch {BatchId} in {Phase}: restored held with a power-loss alarm, outputs safe")]
    private partial void LogRestored(string batchId, string phase);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Kind}: {Message}")]
    private partial void LogEvent(string kind, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Interlock trip {Code}: {Message}; steam closed {LatencyMs:0} ms after the reading")]
    private partial void LogTrip(string code, string message, double latencyMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not commit the journal while stopping")]
    private partial void LogJournalFailed(Exception exception);
}

/// <summary>What a remote watcher sees of the still: phase, valves, receiver, strength and alarms, at one moment.</summary>
public sealed record LiveState(DateTimeOffset At, string? BatchId, string Phase, bool Held, string? HoldCause, double SteamValvePercent, double CoolingValvePercent,
    string? Receiver, double? StrengthPercentVolume, bool CoverLayerAdvised, IReadOnlyList<string> ActiveAlarms, IReadOnlyList<string> UnacknowledgedAlarms,
    DateTimeOffset? StartedAt = null, string? CoolingChannel = null, double? CoolingCelsius = null, double? CoolingTargetCelsius = null, double? CoolingMaximumCelsius = null)
{
    public static readonly LiveState Initial = new(DateTimeOffset.MinValue, null, "idle", false, null, 0, 100, null, null, false, [], []);

    /// <summary>
    /// Each configured channel's reading at <see cref="At"/> (null while faulted), by channel name: the current values for a live
    /// watcher (Home Assistant's sensors), unlike the telemetry topic, which also carries the journal's backlog after an outage.
    /// </summary>
    public IReadOnlyDictionary<string, double?> Readings { get; init; } = ChannelReadings.Empty;

    /// <summary>The same still apart from the time: a publisher sends state again only when this differs.</summary>
    public bool SameAs(LiveState other) =>
        BatchId == other.BatchId && Phase == other.Phase && Held == other.Held && HoldCause == other.HoldCause && Receiver == other.Receiver
        && Math.Abs(SteamValvePercent - other.SteamValvePercent) < 0.5 && Math.Abs(CoolingValvePercent - other.CoolingValvePercent) < 0.5
        && CoverLayerAdvised == other.CoverLayerAdvised && ActiveAlarms.SequenceEqual(other.ActiveAlarms) && UnacknowledgedAlarms.SequenceEqual(other.UnacknowledgedAlarms);
}

/// <summary>
/// Channel values by channel name, in channel order: two arrays filled by the loop at each publish, read as a dictionary by whoever
/// watches (no hash table built four times a second for readers who mostly never look).
/// </summary>
public sealed class ChannelReadings(Channel[] channels, double?[] values) : IReadOnlyDictionary<string, double?>
{
    public static readonly ChannelReadings Empty = new([], []);

    public int Count => channels.Length;

    public double? this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"no configured channel '{key}'");

    public IEnumerable<string> Keys => channels.Select(c => c.Name());

    public IEnumerable<double?> Values => values;

    public bool ContainsKey(string key) => IndexOf(key) >= 0;

    public bool TryGetValue(string key, out double? value)
    {
        var i = IndexOf(key);
        value = i >= 0 ? values[i] : null;
        return i >= 0;
    }

    public IEnumerator<KeyValuePair<string, double?>> GetEnumerator()
    {
        for (var i = 0; i < channels.Length; i++) yield return new(channels[i].Name(), values[i]);
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    private int IndexOf(string key)
    {
        for (var i = 0; i < channels.Length; i++) if (string.Equals(channels[i].Name(), key, StringComparison.Ordinal)) return i;
        return -1;
    }
}

/// <summary>
/// A request waiting for the next step and the answer its caller awaits. A class, not a tuple: a queue of references runs the
/// framework's precompiled code, where a queue of tuples would be compiled while the loop runs.
/// </summary>
internal sealed record Pending<T>(T Request, TaskCompletionSource<CommandResult> Result);

/// <summary>An observer whose state belongs in the journal next to the batch (the simulated still's physics).</summary>
public interface ICheckpointSource
{
    string? Checkpoint();
}

public sealed class ControlOptions
{
    public string StillName { get; set; } = "still-1";
    public TimeSpan Period { get; set; } = TimeSpan.FromMilliseconds(250);
    public TimeSpan SampleInterval { get; set; } = TimeSpan.FromSeconds(1);
    public TimeSpan StateSaveInterval { get; set; } = TimeSpan.FromSeconds(5);
}
