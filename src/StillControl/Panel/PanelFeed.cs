using Channels = System.Threading.Channels;
using StillControl.Hosting;
using StillControl.Process;
using StillControl.Recipes;

namespace StillControl.Panel;

public sealed record PanelReading(string Channel, double? Value, string Unit, string Quality, string? Fault);
public sealed record PanelPhase(string Phase, DateTimeOffset StartedAt, DateTimeOffset? EndedAt, string Reason, double? CoolingTargetCelsius, double? CoolingMaximumCelsius, string? CoolingChannel);
public sealed record PanelFraction(string Receiver, string Phase, string? Grade, double VolumeLitres, double? AbvPercent, bool InUse);
public sealed record PanelAlarm(string Code, bool Active, bool Unacknowledged, bool Trip, string Detail);
public sealed record PanelEvent(DateTimeOffset At, string Kind, string Code, string Message);
public sealed record PanelCooling(string Channel, double TargetCelsius, double MaximumCelsius);

/// <summary>The last transition: where the batch came from, where it went and why.</summary>
public sealed record PanelTransition(string? From, string To, string Reason, DateTimeOffset At);

/// <summary>
/// Everything the panel shows of the still at one moment, built on the loop's thread right after the loop published its live
/// state (so every part is from the same step), then only read. <see cref="Live"/> is the loop's own published state.
/// </summary>
public sealed record PanelSnapshot(
    LiveState Live, string Still, string Recipe, DateTimeOffset? StartedAt, DateTimeOffset? PhaseStartedAt, PanelTransition? LastTransition,
    IReadOnlyList<PanelPhase> Phases, IReadOnlyList<PanelReading> Readings, bool SteamIsolationOpen, bool Horn, PanelCooling? Cooling,
    IReadOnlyList<PanelFraction> Fractions, IReadOnlyList<string> Interlocks, string InterlocksFor, IReadOnlyList<PanelAlarm> Alarms,
    IReadOnlyList<PanelEvent> Advisories, IReadOnlyList<PanelEvent> Events, ChartPoint? Point, bool OutputTestRunning, string TimeZone);

/// <summary>One point of the batch chart: seconds from the batch start, then the traces the chart draws (NaN: no reading).</summary>
public readonly record struct ChartPoint(double Seconds, double Vapour, double Distillate, double BedSurface, double CoolingOut, double SteamValve, double CoolingValve, double Strength);

/// <summary>
/// Append-only points of one batch, written by the loop's thread and read by any number of others without locks: fixed chunks
/// that never move, and a count published after the point it covers.
/// </summary>
public sealed class ChartLog(string? batchId, DateTimeOffset? startedAt)
{
    private const int ChunkSize = 4096;
    private readonly List<ChartPoint[]> chunks = [];
    private ChartPoint[][] published = [];
    private int count;

    public string? BatchId { get; } = batchId;
    public DateTimeOffset? StartedAt { get; } = startedAt;
    public int Count => Volatile.Read(ref count);

    /// <summary>Only from the loop's thread.</summary>
    public void Add(ChartPoint point)
    {
        var n = count;
        if (n / ChunkSize >= chunks.Count)
        {
            chunks.Add(new ChartPoint[ChunkSize]);
            Volatile.Write(ref published, chunks.ToArray());
        }
        chunks[n / ChunkSize][n % ChunkSize] = point;
        Volatile.Write(ref count, n + 1);
    }

    /// <summary>At most <paramref name="maximum"/> points spread over the whole batch (the last one always included).</summary>
    public List<ChartPoint> Sample(int maximum)
    {
        var n = Count;
        var arrays = Volatile.Read(ref published);
        var result = new List<ChartPoint>(Math.Min(n, maximum));
        if (n == 0) return result;
        var step = Math.Max(1, (int)Math.Ceiling(n / (double)maximum));
        for (var i = 0; i < n; i += step) result.Add(arrays[i / ChunkSize][i % ChunkSize]);
        if ((n - 1) % step != 0) result.Add(arrays[(n - 1) / ChunkSize][(n - 1) % ChunkSize]);
        return result;
    }
}

/// <summary>
/// The panel's side of the control loop: an observer that, each time the loop publishes its live state, builds one
/// <see cref="PanelSnapshot"/> and hands it on without waiting (a bounded channel that keeps only the newest). Costs the loop
/// a few small allocations per published state; never a lock, never I/O, never a client.
/// </summary>
public sealed class PanelFeed : ICycleObserver
{
    private const int EventsKept = 40;
    private readonly string still;
    private readonly Channels.Channel<PanelSnapshot> updates = Channels.Channel.CreateBounded<PanelSnapshot>(new Channels.BoundedChannelOptions(1) { FullMode = Channels.BoundedChannelFullMode.DropOldest, SingleWriter = true });
    private readonly LinkedList<PanelEvent> events = new();
    private readonly LinkedList<PanelEvent> advisories = new();
    private LiveState? lastLive;
    private PanelSnapshot? snapshot;
    private ChartLog chart = new(null, null);

    private readonly string timeZone;

    /// <param name="recipe">The recipe at start; each snapshot shows the loop's own (<see cref="ControlCycle.Recipe"/>), which a supervisor may change between batches.</param>
    public PanelFeed(Recipe recipe, string still, string timeZone)
    {
        _ = recipe;
        this.still = still;
        this.timeZone = timeZone;
    }

    /// <summary>The newest snapshot; null until the loop first published.</summary>
    public PanelSnapshot? Snapshot => Volatile.Read(ref snapshot);

    /// <summary>The running (or last) batch's chart.</summary>
    public ChartLog Chart => Volatile.Read(ref chart);

    /// <summary>New snapshots as they come; a reader that falls behind sees only the newest.</summary>
    public Channels.ChannelReader<PanelSnapshot> Updates => updates.Reader;

    /// <summary>Set by the output test (commissioning) so every page shows it; read on the loop's thread.</summary>
    public Func<bool>? OutputTestRunning { get; set; }

    public void AfterStep(ControlCycle cycle, DateTimeOffset now)
    {
        foreach (var e in cycle.Decisions.Events)
        {
            var item = new PanelEvent(e.At, e.Kind.Name(), e.Code, PrintableText.Of(e.Message));
            events.AddLast(item);
            if (events.Count > EventsKept) events.RemoveFirst();
            if (e.Kind == EventKind.Advisory)
            {
                advisories.AddLast(item);
                if (advisories.Count > 10) advisories.RemoveFirst();
            }
        }
        var live = cycle.Live;
        if (ReferenceEquals(live, lastLive)) return;
        lastLive = live;
        var built = Build(cycle, live);
        Volatile.Write(ref snapshot, built);
        updates.Writer.TryWrite(built);
    }

    private PanelSnapshot Build(ControlCycle cycle, LiveState live)
    {
        var recipe = cycle.Recipe;
        var state = cycle.State;
        var decisions = cycle.Decisions;
        if (state.BatchId != chart.BatchId)
        {
            Volatile.Write(ref chart, new ChartLog(state.BatchId, state.StartedAt));
            advisories.Clear();
        }

        var readings = new List<PanelReading>();
        foreach (var channel in cycle.ConfiguredChannels)
        {
            var signal = state.Signal(channel);
            if (!signal.IsConfigured) continue;
            readings.Add(new PanelReading(channel.Name(), signal.IsGood && double.IsFinite(signal.Value) ? Math.Round(signal.Value, 2) : null, channel.Unit(),
                signal.IsGood ? "good" : "faulted", signal.IsGood ? null : signal.Fault.Name()));
        }

        var phases = new List<PanelPhase>(state.Phases.Count);
        foreach (var p in state.Phases)
        {
            CoolingThreshold? cooling = Phases.TryParse(p.Phase, out var ph) && ph.IsActive() ? recipe.CoolingFor(ph) : null;
            phases.Add(new PanelPhase(p.Phase, p.StartedAt, p.EndedAt, p.Reason, cooling?.TargetCelsius, cooling?.MaximumCelsius, cooling?.Channel));
        }
        PanelTransition? transition = state.Phases.Count switch
        {
            0 => null,
            1 => new PanelTransition(Phase.Idle.Name(), state.Phases[0].Phase, state.Phases[0].Reason, state.Phases[0].StartedAt),
            var n => new PanelTransition(state.Phases[n - 2].Phase, state.Phases[n - 1].Phase, state.Phases[n - 1].Reason, state.Phases[n - 1].StartedAt),
        };
        if (state.Phase.IsFinished() && state.Phases.Count > 0 && state.Phases[^1].EndReason is { } endReason && state.EndedAt is { } ended)
        {
            transition = new PanelTransition(state.Phases[^1].Phase, state.Phase.Name(), endReason, ended);
        }

        var fractions = new List<PanelFraction>(state.Fractions.Count);
        for (var i = 0; i < state.Fractions.Count; i++)
        {
            var f = state.Fractions[i];
            fractions.Add(new PanelFraction(f.Receiver, f.Phase, f.Grade, Math.Round(f.VolumeLitres, 2), f.AbvPercent is { } abv ? Math.Round(abv, 1) : null,
                i == state.CurrentFraction && decisions.Receiver == f.Receiver));
        }

        var alarms = new List<PanelAlarm>();
        for (var i = 0; i < state.AlarmSlots.Length; i++)
        {
            var slot = state.AlarmSlots[i];
            if (slot.Active || slot.Unacknowledged) alarms.Add(new PanelAlarm(Alarms.Code(i), slot.Active, slot.Unacknowledged, slot.Trip, PrintableText.Of(slot.Detail ?? "")));
        }

        // What keeps steam closed now, judged for the running phase, or for loading (what a start needs) outside a batch.
        var judged = state.Phase.IsActive() ? state.Phase : Phase.Loading;
        var blocking = StillController.Blocking(state, recipe, judged);
        var interlocks = blocking.Length == 0 ? [] : blocking.Split("; ", StringSplitOptions.RemoveEmptyEntries).Select(PrintableText.Of).ToList();

        PanelCooling? coolingNow = state.Phase.IsActive() && recipe.CoolingFor(state.Phase) is { } c ? new PanelCooling(c.Channel, c.TargetCelsius, c.MaximumCelsius) : null;

        ChartPoint? point = null;
        if (state.BatchId is not null && state.StartedAt is { } started && state.Phase.IsActive())
        {
            point = new ChartPoint(Math.Round((live.At - started).TotalSeconds, 1), Value(state, Channel.Vapour), Value(state, Channel.Distillate), Value(state, Channel.BedSurface),
                Value(state, Channel.CoolingOut), Math.Round(decisions.SteamValvePercent, 1), Math.Round(decisions.CoolingValvePercent, 1),
                decisions.StrengthPercentVolume is { } s ? Math.Round(s, 1) : double.NaN);
            chart.Add(point.Value);
        }

        return new PanelSnapshot(live, still, recipe.Name, state.StartedAt, state.Phase.IsActive() || state.Phase.IsFinished() ? state.PhaseStartedAt : null, transition,
            phases, readings, decisions.SteamIsolationOpen, decisions.Horn, coolingNow, fractions, interlocks, judged.Name(), alarms,
            advisories.ToList(), events.Reverse().ToList(), point, OutputTestRunning?.Invoke() ?? false, timeZone);
    }

    private static double Value(BatchState state, Channel channel)
    {
        var signal = state.Signal(channel);
        return signal.IsGood && double.IsFinite(signal.Value) ? Math.Round(signal.Value, 2) : double.NaN;
    }
}
