using System.Globalization;
using System.Text;
using StillControl.Hosting;
using StillControl.Process;

namespace StillControl.Simulation;

/// <summary>What the distiller would watch: every event as it happens and a status line every so often, in batch time.</summary>
public sealed class ConsoleProgress(TextWriter output, TimeSpan statusEvery) : ICycleObserver
{
    private DateTimeOffset nextStatus;
    private readonly StringBuilder line = new(256);

    public void AfterStep(ControlCycle cycle, DateTimeOffset now)
    {
        var state = cycle.State;
        var origin = state.StartedAt ?? now;
        foreach (var e in cycle.Decisions.Events)
        {
            if (e.Kind is EventKind.CommandAccepted && e.Code == "ack") continue;
            output.WriteLine($"[{Clock(now - origin)}] {e.Kind.Name(),-18} {PrintableText.Of(e.Message)}");
        }
        if (now >= nextStatus && state.Phase.IsActive())
        {
            nextStatus = now + statusEvery;
            output.WriteLine(Status(cycle, now - origin));
        }
    }

    private string Status(ControlCycle cycle, TimeSpan elapsed)
    {
        var state = cycle.State;
        var d = cycle.Decisions;
        line.Clear();
        line.Append('[').Append(Clock(elapsed)).Append("] ");
        line.Append(StillController.Describe(state).PadRight(10));
        line.Append(CultureInfo.InvariantCulture, $" steam {d.SteamValvePercent,5:0.0}%  cooling {d.CoolingValvePercent,5:0.0}%");
        Append(state, Channel.SteamPressure, "P", "kPa");
        Append(state, Channel.BedSurface, "bed", "°C");
        Append(state, Channel.Vapour, "vapour", "°C");
        Append(state, Channel.Distillate, "distillate", "°C");
        Append(state, Channel.CoolingOut, "water out", "°C");
        if (d.StrengthPercentVolume is { } strength) line.Append(CultureInfo.InvariantCulture, $"  strength {strength:0.0}%vol");
        if (d.DistillateKilogramsPerMinute is { } flow) line.Append(CultureInfo.InvariantCulture, $"  flow {flow:0.00} kg/min");
        if (d.Receiver is { } receiver) line.Append("  → ").Append(receiver);
        foreach (var fraction in state.Fractions)
        {
            line.Append(CultureInfo.InvariantCulture, $"  [{fraction.Receiver} {fraction.VolumeLitres:0.0} L");
            if (fraction.AbvPercent is { } abv) line.Append(CultureInfo.InvariantCulture, $" {abv:0.0}%");
            line.Append(']');
        }
        if (d.CoverLayerAdvised) line.Append("  COVER NEXT LAYER");
        if (d.Horn) line.Append("  ALARM");
        return line.ToString();
    }

    private void Append(BatchState state, Channel channel, string label, string unit)
    {
        var signal = state.Signal(channel);
        if (!signal.IsConfigured) return;
        line.Append("  ").Append(label).Append(' ');
        if (signal.IsGood) line.Append(signal.Value.ToString("0.0", CultureInfo.InvariantCulture)).Append(unit);
        else line.Append('!').Append(signal.Fault.Name());
    }

    public static string Clock(TimeSpan elapsed) =>
        $"{(int)elapsed.TotalHours:00}:{elapsed.Minutes:00}:{elapsed.Seconds:00}";
}
