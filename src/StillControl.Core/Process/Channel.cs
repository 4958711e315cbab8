namespace StillControl.Process;

/// <summary>A measured quantity on the still. Any channel may come from any source (simulator, 1-Wire, Modbus, SPI).</summary>
public enum Channel
{
    /// <summary>Live steam temperature at the still inlet, °C.</summary>
    Steam,
    /// <summary>Steam gauge pressure into the still, kPa.</summary>
    SteamPressure,
    /// <summary>Still-head vapour temperature, °C: the source of the strength estimate.</summary>
    Vapour,
    /// <summary>Bed-surface temperature while loading, °C: where vapour is about to break through.</summary>
    BedSurface,
    /// <summary>Cooling-water inlet temperature, °C.</summary>
    CoolingIn,
    /// <summary>Cooling-water outlet temperature, °C.</summary>
    CoolingOut,
    /// <summary>Cooling-water flow, L/min.</summary>
    CoolingFlow,
    /// <summary>Distillate outlet temperature (流酒温度), °C.</summary>
    Distillate,
    /// <summary>Distillate flow, L/min.</summary>
    DistillateFlow,
    /// <summary>Air pressure, hPa, for the boiling-point correction.</summary>
    Barometer,
    /// <summary>Online strength (ABV) meter on the distillate, % vol.</summary>
    Strength,
    /// <summary>Emergency stop input: 1 pressed, 0 released.</summary>
    EmergencyStop,
    /// <summary>Still lid (甑盖) position switch: 1 closed, 0 open. Optional; when fitted, steam needs it closed from sealing on.</summary>
    LidClosed,
    /// <summary>
    /// A second distillate outlet thermometer beside the first, °C. Optional; when fitted, the two must agree, so a probe that
    /// drifts or steps away inside the plausible band (which the cooling loop would follow, warming the real spirit) is caught.
    /// </summary>
    DistillateCheck,
    /// <summary>
    /// Where the steam valve actually stands, % open, from its position feedback (a 4-20 mA position transmitter or limit
    /// switch). Optional; when fitted, a valve that does not follow its command trips the batch and shuts the isolation valve.
    /// </summary>
    SteamValvePosition,
}

public static class Channels
{
    public const int Count = 15;

    private static readonly string[] names =
    [
        "steam", "steam-pressure", "vapour", "bed-surface", "cooling-in", "cooling-out",
        "cooling-flow", "distillate", "distillate-flow", "barometer", "strength", "emergency-stop", "lid-closed", "distillate-check", "steam-valve-position",
    ];

    private static readonly string[] units =
    [
        "°C", "kPa", "°C", "°C", "°C", "°C", "L/min", "°C", "L/min", "hPa", "% vol", "", "", "°C", "%",
    ];

    public static readonly Channel[] All = Enum.GetValues<Channel>();

    public static IReadOnlyList<string> Names => names;

    public static string Name(this Channel channel) => names[(int)channel];

    public static string Unit(this Channel channel) => units[(int)channel];

    public static bool IsTemperature(this Channel channel) => units[(int)channel] == "°C";

    public static bool TryParse(string? text, out Channel channel)
    {
        var index = Array.IndexOf(names, text);
        channel = index < 0 ? default : (Channel)index;
        return index >= 0;
    }
}
