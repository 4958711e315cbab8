using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using StillControl.Process;

namespace StillControl.Reports;

/// <param name="Reason">Why the phase began.</param>
/// <param name="EndReason">What ended it; null while it runs.</param>
public sealed record PhaseReport(string Phase, double Start, double? End, string Reason, string CoolingChannel, double? CoolingMaxCelsius, double? SteamMeanPercent,
    string? EndReason = null);

public sealed record FractionReport(string Receiver, string Phase, string? Grade, double VolumeLitres, double? AbvPercent, double MassKilograms);

public sealed record AlarmReport(string Code, string Severity, string Phase, double RaisedAt, double? ClearedAt, double? AcknowledgedAt, string Detail);

public sealed record ActionReport(double At, string Command, string Operator, string Source, string? Argument, bool Accepted, string Reason);

/// <summary>A batch as the quality manager reviews it. Times in phases, alarms and actions are seconds from batch start.</summary>
public sealed record BatchReport(
    string BatchId, string Recipe, string Outcome, DateTimeOffset StartedAt, DateTimeOffset? EndedAt, string Phase, string? HoldCause,
    IReadOnlyList<PhaseReport> Phases, IReadOnlyList<FractionReport> Fractions, IReadOnlyList<AlarmReport> Alarms, IReadOnlyList<ActionReport> OperatorActions)
{
    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>completed, aborted, held (stopped by a trip, a hold or a power loss), or running.</summary>
    public static string OutcomeOf(BatchState state) => state.Phase switch
    {
        Process.Phase.Complete => "completed",
        Process.Phase.Aborted => "aborted",
        _ when state.Held => "held",
        _ => "running",
    };

    public static BatchReport From(BatchState state, string recipeName)
    {
        var start = state.StartedAt ?? DateTimeOffset.UnixEpoch;
        double At(DateTimeOffset t) => Math.Round((t - start).TotalSeconds, 2);
        double? AtOrNull(DateTimeOffset? t) => t is { } v ? At(v) : null;
        return new BatchReport(
            state.BatchId ?? "",
            recipeName,
            OutcomeOf(state),
            start,
            state.EndedAt,
            state.Phase.Name(),
            state.Held ? state.HoldCause : null,
            state.Phases.Select(p => new PhaseReport(p.Phase, At(p.StartedAt), AtOrNull(p.EndedAt), p.Reason, p.CoolingChannel,
                Round(p.CoolingMaxCelsius, 2), Round(p.SteamMeanPercent, 2), p.EndReason)).ToList(),
            state.Fractions.Select(f => new FractionReport(f.Receiver, f.Phase, f.Grade, Math.Round(f.VolumeLitres, 3), Round(f.AbvPercent, 2), Math.Round(f.MassKilograms, 3))).ToList(),
            state.AlarmLog.Select(a => new AlarmReport(a.Code, a.Severity, a.Phase, At(a.RaisedAt), AtOrNull(a.ClearedAt), AtOrNull(a.AcknowledgedAt), a.Detail)).ToList(),
            state.Actions.Select(a => new ActionReport(At(a.At), a.Command, a.Operator, a.Source, a.Argument, a.Accepted, a.Reason)).ToList());
    }

    public string ToText()
    {
        var text = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        text.AppendLine(c, $"Batch {BatchId} ({Recipe}): {Outcome}{(HoldCause is null ? "" : $" ({HoldCause})")}");
        text.AppendLine(c, $"  started {StartedAt:u}{(EndedAt is { } e ? $", ended {e:u}" : "")}");
        text.AppendLine();
        text.AppendLine("  phase       start     end   cooling max   steam mean  ended by");
        foreach (var p in Phases)
        {
            text.AppendLine(c, $"  {p.Phase,-9} {Clock(p.Start),8} {(p.End is { } end ? Clock(end) : "…"),8} {Show(p.CoolingMaxCelsius, "°C"),10} {Show(p.SteamMeanPercent, "%"),10}   {p.EndReason ?? (p.End is null ? "(running)" : "—")}");
        }
        text.AppendLine();
        text.AppendLine("  receiver    phase       litres    % vol      kg");
        foreach (var f in Fractions)
        {
            text.AppendLine(c, $"  {f.Receiver,-11} {f.Phase,-9} {f.VolumeLitres,8:0.000} {Show(f.AbvPercent, ""),8} {f.MassKilograms,8:0.000}");
        }
        if (Alarms.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("  alarms");
            foreach (var a in Alarms)
            {
                text.AppendLine(c, $"  {Clock(a.RaisedAt)} {a.Severity,-7} {a.Code,-28} cleared {(a.ClearedAt is { } t ? Clock(t) : "—"),8}  ack {(a.AcknowledgedAt is { } k ? Clock(k) : "—"),8}  {a.Detail}");
            }
        }
        if (OperatorActions.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("  operator actions");
            foreach (var a in OperatorActions)
            {
                text.AppendLine(c, $"  {Clock(a.At)} {a.Command,-7} {a.Operator,-10} {(a.Accepted ? "accepted" : "REFUSED"),-9} {a.Reason}");
            }
        }
        return text.ToString();
    }

    private static double? Round(double? value, int digits) => value is { } v ? Math.Round(v, digits) : null;

    private static string Show(double? value, string unit) => value is { } v ? v.ToString("0.0", CultureInfo.InvariantCulture) + unit : "—";

    private static string Clock(double seconds) => Simulation.ConsoleProgress.Clock(TimeSpan.FromSeconds(seconds));
}
