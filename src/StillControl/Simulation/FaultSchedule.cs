using StillControl.Process;

namespace StillControl.Simulation;

/// <summary>Turns a scenario's timings (from batch start, or after a phase first begins) into times, as the batch unfolds.</summary>
public sealed class FaultSchedule
{
    private readonly DateTimeOffset?[] phaseStarts = new DateTimeOffset?[Enum.GetValues<Phase>().Length];
    private int observed;

    public DateTimeOffset? BatchStart { get; private set; }

    public void Observe(BatchState state)
    {
        if (state.StartedAt != BatchStart || state.Phases.Count < observed)
        {
            BatchStart = state.StartedAt;
            Array.Clear(phaseStarts);
            observed = 0;
        }
        // Phase records are only ever added: those seen at an earlier step are not read again.
        for (; observed < state.Phases.Count; observed++)
        {
            var record = state.Phases[observed];
            if (Phases.TryParse(record.Phase, out var phase) && phaseStarts[(int)phase] is null)
            {
                phaseStarts[(int)phase] = record.StartedAt;
            }
        }
    }

    /// <summary>When the timing comes due, or null while it cannot yet be known (the phase has not begun).</summary>
    public DateTimeOffset? DueAt(IScenarioTiming timing)
    {
        if (BatchStart is not { } start) return null;
        if (timing.AtSeconds is { } at) return start + TimeSpan.FromSeconds(at);
        if (timing.Phase is not null && Phases.TryParse(timing.Phase, out var phase) && phaseStarts[(int)phase] is { } begun)
        {
            return begun + TimeSpan.FromSeconds(timing.AfterSeconds ?? 0);
        }
        return null;
    }

    public bool IsActive(ScenarioFault fault, DateTimeOffset now)
    {
        if (DueAt(fault) is not { } from || now < from) return false;
        return fault.ForSeconds is not { } span || now < from + TimeSpan.FromSeconds(span);
    }
}
