using StillControl.Process;

namespace StillControl.Actuators;

/// <summary>The still's outputs: steam valve, cooling-water valve, receiver diverter, alarm horn and beacon.</summary>
public interface IActuators
{
    void Apply(Decisions decisions);

    /// <summary>Steam closed, cooling open, alarm on. Must not throw: it is called at start, at stop and on a crash.</summary>
    void SetSafe();

    OutputState Outputs { get; }

    /// <summary>
    /// An output that did not take its last value (a bus module that stopped answering), in words naming it; null while every
    /// output answers. The control cycle hands it to the controller, which trips the batch (<c>output-fault</c>).
    /// </summary>
    string? Fault { get; }

    /// <summary>
    /// A steam isolation valve (fail-closed shut-off ahead of the modulating valve) is fitted: with it shut no steam passes
    /// whatever the modulating valve does. Default: none.
    /// </summary>
    bool SteamIsolationFitted => false;
}

/// <param name="SteamIsolationOpen">The steam isolation valve (where fitted) may be open; closed is safe.</param>
public readonly record struct OutputState(double SteamValvePercent, double CoolingValvePercent, string? Receiver, bool Horn, bool Beacon, bool SteamIsolationOpen = false)
{
    public static readonly OutputState Safe = new(0, 100, null, true, true, false);
}
