using System.Text.Json;
using System.Text.Json.Serialization;

namespace StillControl.Sensors.Modbus;

/// <summary>Where a value lives in a transmitter and how to turn its registers into the channel's unit.</summary>
public sealed record ModbusPoint(byte Function, ushort Address, RegisterType Type, WordOrder Order, double Scale, double Offset)
{
    public ushort Registers => (ushort)ModbusRtu.RegisterCount(Type);

    public double Convert(ReadOnlySpan<byte> registers) => ModbusRtu.Decode(registers, Type, Order) * Scale + Offset;
}

/// <summary>A transmitter's register map as data (firmware-config/registers/*.json), so a new module needs a file, not code.</summary>
public sealed class RegisterMapFile
{
    [JsonPropertyName("model")] public string Model { get; set; } = "";
    [JsonPropertyName("note")] public string? Note { get; set; }
    [JsonPropertyName("serial")] public MapSerial? Serial { get; set; }
    [JsonPropertyName("defaultUnit")] public int? DefaultUnit { get; set; }
    [JsonPropertyName("points")] public Dictionary<string, MapPoint> Points { get; set; } = new(StringComparer.Ordinal);

    public sealed class MapSerial
    {
        [JsonPropertyName("baud")] public int Baud { get; set; }
        [JsonPropertyName("parity")] public string? Parity { get; set; }
        [JsonPropertyName("stopBits")] public int StopBits { get; set; }
    }

    public sealed class MapPoint
    {
        [JsonPropertyName("function")] public int Function { get; set; } = 3;
        [JsonPropertyName("address")] public int Address { get; set; }
        [JsonPropertyName("type")] public string Type { get; set; } = "int16";
        [JsonPropertyName("wordOrder")] public string? WordOrder { get; set; }
        [JsonPropertyName("scale")] public double Scale { get; set; } = 1;
        [JsonPropertyName("offset")] public double Offset { get; set; }
        [JsonPropertyName("unit")] public string? Unit { get; set; }
        [JsonPropertyName("description")] public string? Description { get; set; }
    }

    private static readonly JsonSerializerOptions options = new() { UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow, ReadCommentHandling = JsonCommentHandling.Skip };

    /// <summary>Loads a map; a broken file gives a message naming the file and what is wrong.</summary>
    public static RegisterMapFile Load(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<RegisterMapFile>(File.ReadAllText(path), options) ?? throw new InvalidDataException($"{path}: empty register map");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a register map ({e.Message})", e);
        }
    }

    public static bool TryParseType(string? text, out RegisterType type) =>
        Enum.TryParse(text, ignoreCase: true, out type) && Enum.IsDefined(type) && !int.TryParse(text, out _);

    public static bool TryParseWordOrder(string? text, out WordOrder order)
    {
        switch (text?.ToLowerInvariant())
        {
            case null or "abcd" or "high-first": order = WordOrder.HighFirst; return true;
            case "cdab" or "low-first": order = WordOrder.LowFirst; return true;
            default: order = default; return false;
        }
    }

    public const string Types = "int16, uint16, int32, uint32, float32";
    public const string WordOrders = "high-first (ABCD), low-first (CDAB)";
}
