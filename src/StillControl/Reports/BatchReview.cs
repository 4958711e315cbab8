using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using StillControl.Journal;
using StillControl.Process;
using StillControl.Recipes;

namespace StillControl.Reports;

/// <param name="Reason">Why the phase began.</param>
/// <param name="EndReason">Why it ended (null while it runs).</param>
public sealed record ReviewPhase(string Phase, DateTimeOffset Start, DateTimeOffset? End, double Seconds, string Reason, string CoolingChannel,
    double? CoolingTargetCelsius, double? CoolingMaximumCelsius, double? CoolingMaxSeenCelsius, string? SteamRule, double? SteamCapPercent, double? SteamMeanPercent,
    string? EndReason = null);

/// <summary>A fraction as the quality manager reads it: pure alcohol in litres and its share of the batch's alcohol.</summary>
/// <param name="Drain">Not spirit: the weak distillate of grain steaming, or anything sent to the drain receiver.</param>
public sealed record FractionRow(string Receiver, string Phase, string? Grade, double VolumeLitres, double MassKilograms, double? AbvPercent, double PureAlcoholLitres, double SharePercent,
    bool Drain = false);

/// <summary>
/// Yield per 100 kg of grain fed (出酒率): the pure alcohol, and the same alcohol as spirit of 65 % vol at 20 °C (折65度), in
/// litres and in kilograms; <see cref="Percent65"/> is the kilograms of 65 % vol spirit per 100 kg of grain, the figure the
/// trade calls 出酒率. Formula and sources: docs/reports.md.
/// </summary>
public sealed record YieldFigures(string Basis, double PureAlcoholLitres, double GrainKilograms, double PureAlcoholLitresPer100Kg, double Litres65Per100Kg, double Percent65)
{
    /// <summary>Density of 65 % vol spirit at 20 °C, kg/L, from the same ethanol-water table the fraction masses use.</summary>
    public static double Density65 => Physics.EthanolWater.DensityKilogramsPerLitreAt(65);

    public static YieldFigures? Of(string basis, double pureAlcoholLitres, double? grainKilograms)
    {
        if (grainKilograms is not { } grain || !(grain > 0)) return null;
        var litres65 = pureAlcoholLitres / 0.65;
        return new YieldFigures(basis, pureAlcoholLitres, grain, pureAlcoholLitres / grain * 100, litres65 / grain * 100, litres65 * Density65 / grain * 100);
    }
}

/// <summary>A cut on the strength-against-volume curve: where the receiver changed, with the volume run off by then.</summary>
public sealed record CutPoint(string Label, DateTimeOffset At, double CumulativeLitres, double? StrengthPercent);

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

    /// <summary>Grain lot and mass, pit, notes as entered at the start; null when none was entered.</summary>
    public BatchMetadata? Metadata { get; init; }

    /// <summary>The first sample with distillate running (over 0.05 L/min), or the heads phase's start when no flow was measured.</summary>
    public DateTimeOffset? FirstDistillateAt { get; init; }

    /// <summary>Spirit: the heads, hearts and tails receivers. The drain (grain-steaming water) is kept apart.</summary>
    public IEnumerable<FractionRow> Spirit => Fractions.Where(f => !f.Drain);

    public IEnumerable<FractionRow> Drain => Fractions.Where(f => f.Drain);

    public double SpiritVolumeLitres => Spirit.Sum(f => f.VolumeLitres);

    public double SpiritPureAlcoholLitres => Spirit.Sum(f => f.PureAlcoholLitres);

    public double DrainVolumeLitres => Drain.Sum(f => f.VolumeLitres);

    public double DrainPureAlcoholLitres => Drain.Sum(f => f.PureAlcoholLitres);

    /// <summary>Mean strength of what was assayed (litres collected before any strength was known are left out, as in each fraction).</summary>
    public static double? MeanStrength(IEnumerable<FractionRow> rows)
    {
        var assayed = rows.Where(f => f.AbvPercent is > 0).ToList();
        var litres = assayed.Sum(f => f.PureAlcoholLitres / f.AbvPercent!.Value * 100);
        return litres > 1e-9 ? assayed.Sum(f => f.PureAlcoholLitres) / litres * 100 : null;
    }

    /// <summary>Yield per 100 kg of grain for the hearts and for all spirit, when the grain mass is known.</summary>
    public IReadOnlyList<YieldFigures> Yields =>
        new[] { YieldFigures.Of("hearts", HeartsPureAlcoholLitres, Metadata?.GrainKilograms), YieldFigures.Of("all spirit (heads, hearts, tails)", SpiritPureAlcoholLitres, Metadata?.GrainKilograms) }
            .OfType<YieldFigures>().ToList();

    /// <summary>
    /// The spirit's strength against the volume run off since the first drop (distillate flow integrated over the samples), up
    /// to the end of the tails: the curve a distiller cuts on.
    /// </summary>
    public (double[] Litres, double[] Strength) StrengthAgainstVolume()
    {
        var litres = new List<double>();
        var strength = new List<double>();
        var meter = Samples.Any(s => !double.IsNaN(s.Values[(int)Channel.Strength]));
        var end = Phases.FirstOrDefault(p => p.Phase == "steaming")?.Start;
        var volume = 0.0;
        var typical = Samples.Count > 1 ? (Samples[^1].At - Samples[0].At).TotalSeconds / (Samples.Count - 1) : 1;
        for (var i = 0; i < Samples.Count; i++)
        {
            var s = Samples[i];
            if (end is { } e && s.At >= e) break;
            if (ParsePhase(s.Phase) is not ({ } phase and (Phase.Sealed or Phase.Heads or Phase.Hearts or Phase.Tails))) continue;
            var flow = s.Values[(int)Channel.DistillateFlow];
            var value = meter ? s.Values[(int)Channel.Strength] : s.StrengthPercent ?? double.NaN;
            if (volume > 0 || flow > 0.05)
            {
                litres.Add(volume);
                strength.Add(value);
            }
            var dt = i + 1 < Samples.Count ? Math.Min((Samples[i + 1].At - s.At).TotalSeconds, 10 * typical) : typical;
            if (!double.IsNaN(flow) && flow > 0) volume += flow * dt / 60;
        }
        return (litres.ToArray(), strength.ToArray());
    }

    /// <summary>The volume run off by a given time, on the same integration as <see cref="StrengthAgainstVolume"/>.</summary>
    public double LitresBy(DateTimeOffset at)
    {
        var volume = 0.0;
        var typical = Samples.Count > 1 ? (Samples[^1].At - Samples[0].At).TotalSeconds / (Samples.Count - 1) : 1;
        for (var i = 0; i < Samples.Count && Samples[i].At < at; i++)
        {
            var s = Samples[i];
            if (ParsePhase(s.Phase) is not (Phase.Sealed or Phase.Heads or Phase.Hearts or Phase.Tails)) continue;
            var next = i + 1 < Samples.Count ? Samples[i + 1].At : s.At + TimeSpan.FromSeconds(typical);
            var dt = Math.Min(((next < at ? next : at) - s.At).TotalSeconds, 10 * typical);
            var flow = s.Values[(int)Channel.DistillateFlow];
            if (!double.IsNaN(flow) && flow > 0) volume += flow * dt / 60;
        }
        return volume;
    }

    /// <summary>The cuts: heads to hearts, each change of hearts grade, hearts to tails, and the end of the spirit (tails to the drain).</summary>
    public IReadOnlyList<CutPoint> Cuts()
    {
        var cuts = new List<(string Label, DateTimeOffset At)>();
        foreach (var p in Phases)
        {
            if (p.Phase == "hearts") cuts.Add(("hearts", p.Start));
            if (p.Phase == "tails") cuts.Add(("tails", p.Start));
            if (p.Phase == "steaming") cuts.Add(("end of spirit", p.Start));
        }
        foreach (var e in Events.Where(e => e.Kind == "grade-changed")) cuts.Add((e.Code, e.At));
        var strength = StrengthAt;
        return cuts.OrderBy(c => c.At).Select(c => new CutPoint(c.Label, c.At, LitresBy(c.At), strength(c.At))).ToList();
    }

    private Func<DateTimeOffset, double?> StrengthAt => at =>
    {
        var meter = Samples.Any(s => !double.IsNaN(s.Values[(int)Channel.Strength]));
        var before = Samples.LastOrDefault(s => s.At <= at);
        if (before is null) return null;
        var value = meter ? before.Values[(int)Channel.Strength] : before.StrengthPercent ?? double.NaN;
        return double.IsNaN(value) ? null : value;
    };

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
                settings?.Steam.Rule == SteamRules.Slow ? settings.Steam.ValveMaximumPercent : null, p.SteamMeanPercent, EndReasonOf(state, p, events));
        }).ToList();

        var drainReceiver = recipe?.Steaming.Receiver ?? "drain";
        var totalAlcohol = state.Fractions.Sum(f => f.EthanolLitres);
        var fractions = state.Fractions.Select(f => new FractionRow(f.Receiver, f.Phase, f.Grade, f.VolumeLitres, f.MassKilograms, f.AbvPercent, f.EthanolLitres,
            totalAlcohol > 0 ? f.EthanolLitres / totalAlcohol * 100 : 0, f.Phase == "steaming" || f.Receiver == drainReceiver)).ToList();
        var flowing = samples.FirstOrDefault(s => s.Values[(int)Channel.DistillateFlow] > 0.05)?.At
            ?? phases.FirstOrDefault(p => p.Phase == "heads")?.Start;

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
            Metadata = journal.Metadata(id),
            FirstDistillateAt = flowing,
        };
    }

    /// <summary>
    /// What ended a phase: the record's own end reason; for journals written before it was kept, the next phase's reason for
    /// beginning, or the batch-ended event at the phase's end. Null while the phase runs.
    /// </summary>
    private static string? EndReasonOf(BatchState state, PhaseRecord p, IReadOnlyList<JournalEvent> events)
    {
        if (p.EndedAt is not { } ended) return null;
        if (!string.IsNullOrEmpty(p.EndReason)) return p.EndReason;
        var index = state.Phases.IndexOf(p);
        if (index >= 0 && index + 1 < state.Phases.Count) return state.Phases[index + 1].Reason;
        var change = events.LastOrDefault(e => e.Kind is "phase-changed" && e.At == ended);
        if (change is not null && change.Message.IndexOf(": ", StringComparison.Ordinal) is var colon and > 0) return change.Message[(colon + 2)..];
        return null;
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
