using System.Text.Json;
using System.Text.Json.Serialization;

namespace StillControl.Panel;

/// <summary>How the panel writes JSON: camelCase names, no NaN (a missing reading is null), chart points as short arrays.</summary>
public static class PanelJson
{
    public static readonly JsonSerializerOptions Options = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        options.Converters.Add(new ChartPointConverter());
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    /// <summary>[seconds, vapour, distillate, bedSurface, coolingOut, steamValve, coolingValve, strength], null for no reading.</summary>
    private sealed class ChartPointConverter : JsonConverter<ChartPoint>
    {
        public override ChartPoint Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => throw new NotSupportedException("chart points are only written");

        public override void Write(Utf8JsonWriter writer, ChartPoint value, JsonSerializerOptions options)
        {
            writer.WriteStartArray();
            foreach (var v in (ReadOnlySpan<double>)[value.Seconds, value.Vapour, value.Distillate, value.BedSurface, value.CoolingOut, value.SteamValve, value.CoolingValve, value.Strength])
            {
                if (double.IsFinite(v)) writer.WriteNumberValue(v);
                else writer.WriteNullValue();
            }
            writer.WriteEndArray();
        }
    }
}
