using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace StillControl.Journal;

/// <summary>
/// What the distiller knows about a batch beyond the controller's record: the grain lot and its mass, the fermentation pit the
/// grain came from, and free notes. Every part optional. Stored as JSON in <c>batches.metadata_json</c>; written by the panel's
/// start form (or a simulation scenario) through <see cref="BatchJournal.SetMetadata"/>, read by the review and the report.
/// </summary>
/// <param name="GrainKilograms">Grain fed for this batch (投粮量, raw grain), kg: the report gives the yield (出酒率) per 100 kg of it.</param>
public sealed record BatchMetadata(string? GrainLot, double? GrainKilograms, string? Pit, string? Notes)
{
    /// <summary>Longest text kept in any one field.</summary>
    public const int MaximumTextLength = 2000;

    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public bool IsEmpty => GrainLot is null && GrainKilograms is null && Pit is null && Notes is null;

    /// <summary>What is wrong with it, one message per field naming the field, the value and what is accepted; empty when it is fine.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (GrainKilograms is { } kg && !(double.IsFinite(kg) && kg > 0 && kg <= 100_000))
        {
            problems.Add($"grainKilograms = {kg.ToString(CultureInfo.InvariantCulture)}: a mass in kg above 0 and at most 100000, or omitted");
        }
        foreach (var (name, value) in new[] { ("grainLot", GrainLot), ("pit", Pit), ("notes", Notes) })
        {
            if (value is { Length: > MaximumTextLength })
            {
                problems.Add($"{name}: {value.Length} characters: at most {MaximumTextLength}");
            }
        }
        return problems;
    }

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>The stored JSON read back; null for none, and null (not an exception) for a damaged value, so a review still opens.</summary>
    public static BatchMetadata? FromJson(string? json)
    {
        if (string.IsNullOrWhiteSpace(json)) return null;
        try
        {
            return JsonSerializer.Deserialize<BatchMetadata>(json, JsonOptions);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
