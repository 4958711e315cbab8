using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using StillControl.Journal;
using StillControl.Process;
using StillControl.Recipes;

namespace StillControl.Reports;

public sealed record ReviewPhase(string Phase, DateTimeOffset Start, DateTimeOffset? End, double Seconds, string Reason, string CoolingChannel,
    double? CoolingTargetCelsius, double? CoolingMaximumCelsius, double? CoolingMaxSeenCelsius, string? SteamRule, double? SteamCapPercent, double? SteamMeanPercent);

/// <summary>A fraction as the quality manager reads it: pure alcohol in litres and its share of the batch's alcohol.</summary>
public sealed record FractionRow(string Receiver, string Phase, string? Grade, double VolumeLitres, double MassKilograms, double? AbvPercent, double PureAlcoholLitres, double SharePercent);

public sealed record AlarmRow(string Code, string Severity, string Phase, DateTimeOffset RaisedAt, DateTimeOffset? ClearedAt, DateTimeOffset? AcknowledgedAt,
    double DurationSeconds, bool Ongoing, string Detail);

/// <summary>Time the batch spent outside its recipe, in words and numbers.</summary>
public sealed record Deviation(string Phase, string Kind, double Seconds, double Worst, double Limit, string Unit, string Description);

/// <summary>
/// Everything a review shows about one batch, from the journal alone: header, phases, fractions, alarms with durations, the
/// operator's commands, deviations from the recipe, and every sample. A batch still running is reviewed up to its last sample.
/// </summary>
public sealed class BatchReview
{
    public required string Id { get; init; }
    public required string Still { get; init; }
    public required string RecipeName { get; init; }
    /// <summary>The first 8 hex digits of the SHA-256 of the recipe as the batch ran it: two batches with the same version ran the same recipe.</summary>
    public required string RecipeVersion { get; init; }
    public Recipe? Recipe { get; init; }
    public string? RecipeProblem { get; init; }
    public required string Operator { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset? EndedAt { get; init; }
    /// <summary>completed, aborted, held or unfinished (still running, or interrupted).</summary>
    public required string Outcome { get; init; }
    public string? HoldCause { get; init; }
    /// <summary>The time the review reaches: the end, or the last sample of an unfinished batch.</summary>
    public required DateTimeOffset AsOf { get; init; }
    public required IReadOnlyList<ReviewPhase> Phases { get; init; }
    public required IReadOnlyList<FractionRow> Fractions { get; init; }
    public required IReadOnlyList<AlarmRow> Alarms { get; init; }
    public required IReadOnlyList<OperatorAction> Actions { get; init; }
    public required IReadOnlyList<Deviation> Deviations { get; init; }
    public required IReadOnlyList<SampleRow> Samples { get; init; }
    public required IReadOnlyList<JournalEvent> Events { get; init; }

    public bool Finished => EndedAt is not null;

    /// <summary>For a batch that has not ended: "running" (a service has the journal open now) or "interrupted"; null once ended.</summary>
    public string? Activity { get; init; }

    /// <summary>What an unfinished batch's state means, in words for the report and the command line.</summary>
    public string? ActivityText => Activity switch
    {
        "running" => "running now: a service has this journal open",
        "interrupted" => "interrupted: no service has this journal open (power loss, kill or crash); 'stillcontrol run' brings it back held with a power-loss alarm",
        _ => null,
    };

    public double TotalVolumeLitres => Fractions.Sum(f => f.VolumeLitres);

    public double TotalPureAlcoholLitres => Fractions.Sum(f => f.PureAlcoholLitres);

    public double HeartsPureAlcoholLitres => Fractions.Where(f => f.Phase == "hearts").Sum(f => f.PureAlcoholLitres);

    /// <summary>Loads a batch; null when the journal has no batch with this id.</summary>
    public static BatchReview? Load(IBatchSource journal, string id)
    {
        if (journal.Load(id) is not { } loaded) return null;
        var (state, recipeJson, stored, stateAt) = loaded;
        var samples = journal.Samples(id);
        var events = journal.Events(id);
        var (recipe, errors) = RecipeJson.Parse(recipeJson);
        var start = state.StartedAt ?? samples.FirstOrDefault()?.At ?? DateTimeOffset.UnixEpoch;
        var asOf = state.EndedAt ?? new[] { samples.LastOrDefault()?.At, events.LastOrDefault()?.At, stateAt }.Max() ?? start;
        var outcome = stored != "unfinished" ? stored : state.Held ? "held" : "unfinished";

        var phases = state.Phases.Select(p =>
        {
            var phase = ParsePhase(p.Phase);
            IRunningPhase? settings = recipe is not null && phase is { } ph && ph.IsActive() ? recipe.For(ph) : null;
            var end = p.EndedAt ?? asOf;
            return new ReviewPhase(p.Phase, p.StartedAt, p.EndedAt, Math.Max(0, (end - p.StartedAt).TotalSeconds), p.Reason, p.CoolingChannel,
                settings?.Cooling.TargetCelsius, settings?.Cooling.MaximumCelsius, p.CoolingMaxCelsius, settings?.Steam.Rule,
                settings?.Steam.Rule == SteamRules.Slow ? settings.Steam.ValveMaximumPercent : null, p.SteamMeanPercent);
        }).ToList();

        var totalAlcohol = state.Fractions.Sum(f => f.EthanolLitres);
        var fractions = state.Fractions.Select(f => new FractionRow(f.Receiver, f.Phase, f.Grade, f.VolumeLitres, f.MassKilograms, f.AbvPercent, f.EthanolLitres,
            totalAlcohol > 0 ? f.EthanolLitres / totalAlcohol * 100 : 0)).ToList();

        var alarms = state.AlarmLog.Select(a => new AlarmRow(a.Code, a.Severity, a.Phase, a.RaisedAt, a.ClearedAt, a.AcknowledgedAt,
            Math.Max(0, ((a.ClearedAt ?? asOf) - a.RaisedAt).TotalSeconds), a.ClearedAt is null, a.Detail)).ToList();

        var starter = state.Actions.FirstOrDefault(a => a.Command == "start" && a.Accepted);
        return new BatchReview
        {
            Id = id,
            Still = journal.StillName(id),
            RecipeName = recipe?.Name ?? "(unreadable recipe)",
            RecipeVersion = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(recipeJson)))[..8],
            Recipe = recipe,
            RecipeProblem = recipe is null ? string.Join("; ", errors.Select(e => e.ToString())) : null,
            Operator = starter is null ? "—" : $"{starter.Operator} ({starter.Source})",
            StartedAt = start,
            EndedAt = state.EndedAt,
            Outcome = outcome,
            Activity = state.EndedAt is not null ? null : journal.IsRunning(id) ? "running" : "interrupted",
            HoldCause = state.Held ? state.HoldCause : null,
            AsOf = asOf,
            Phases = phases,
            Fractions = fractions,
            Alarms = alarms,
            Actions = state.Actions.ToList(),
            Deviations = recipe is null ? [] : FindDeviations(recipe, samples),
            Samples = samples,
            Events = events,
        };
    }

    public static Phase? ParsePhase(string name)
    {
        foreach (var phase in Enum.GetValues<Phase>())
        {
            if (phase.Name() == name) return phase;
        }
        return null;
    }

    /// <summary>
    /// Per phase: time with the cooling channel above the phase's maximum, and time with the steam valve above the slow-steam
    /// cap while the rule was slow steam. Each sample counts until the next one (the last for one sample interval).
    /// </summary>
    public static List<Deviation> FindDeviations(Recipe recipe, IReadOnlyList<SampleRow> samples)
    {
        var cooling = new Dictionary<string, (double Seconds, double Worst, double Limit, string Channel)>();
        var steam = new Dictionary<string, (double Seconds, double Worst, double Limit)>();
        var typical = samples.Count > 1 ? (samples[^1].At - samples[0].At).TotalSeconds / (samples.Count - 1) : 1;
        for (var i = 0; i < samples.Count; i++)
        {
            var s = samples[i];
            if (ParsePhase(s.Phase) is not { } phase || !phase.IsActive()) continue;
            var dt = i + 1 < samples.Count ? Math.Min((samples[i + 1].At - s.At).TotalSeconds, 10 * typical) : typical;
            var settings = recipe.For(phase);
            if (Channels.TryParse(settings.Cooling.Channel, out var channel))
            {
                var value = s.Values[(int)channel];
                if (value > settings.Cooling.MaximumCelsius)
                {
                    var c = cooling.GetValueOrDefault(s.Phase, (0, double.MinValue, settings.Cooling.MaximumCelsius, settings.Cooling.Channel));
                    cooling[s.Phase] = (c.Seconds + dt, Math.Max(c.Worst, value), c.Limit, c.Channel);
                }
            }
            if (settings.Steam.Rule == SteamRules.Slow && !s.Held && s.SteamPercent > settings.Steam.ValveMaximumPercent + 1e-6)
            {
                var c = steam.GetValueOrDefault(s.Phase, (0, double.MinValue, settings.Steam.ValveMaximumPercent));
                steam[s.Phase] = (c.Seconds + dt, Math.Max(c.Worst, s.SteamPercent), c.Limit);
            }
        }
        var c2 = CultureInfo.InvariantCulture;
        var result = new List<Deviation>();
        foreach (var (phase, d) in cooling)
        {
            result.Add(new Deviation(phase, "cooling-above-maximum", d.Seconds, d.Worst, d.Limit, "°C",
                string.Create(c2, $"{phase}: {d.Channel} above its {d.Limit:0.#} °C maximum for {Duration(d.Seconds)}, at worst {d.Worst:0.0} °C")));
        }
        foreach (var (phase, d) in steam)
        {
            result.Add(new Deviation(phase, "steam-above-slow-cap", d.Seconds, d.Worst, d.Limit, "%",
                string.Create(c2, $"{phase}: steam valve above the slow-steam cap of {d.Limit:0.#} % for {Duration(d.Seconds)}, at worst {d.Worst:0.0} %")));
        }
        return result;
    }

    public static string Duration(double seconds)
    {
        var t = TimeSpan.FromSeconds(Math.Round(seconds));
        return t.TotalHours >= 1 ? $"{(int)t.TotalHours} h {t.Minutes:00} min" : t.TotalMinutes >= 1 ? $"{t.Minutes} min {t.Seconds:00} s" : $"{t.Seconds} s";
    }
}
