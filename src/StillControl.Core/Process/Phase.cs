namespace StillControl.Process;

/// <summary>Where a batch is in the process. Holding is not a phase: a held batch keeps its phase and is marked held.</summary>
public enum Phase
{
    /// <summary>No batch running.</summary>
    Idle,
    /// <summary>上甑: mash laid in layers over low steam.</summary>
    Loading,
    /// <summary>盖盖: lid on, waiting for the first distillate.</summary>
    Sealed,
    /// <summary>酒头: first distillate, set aside.</summary>
    Heads,
    /// <summary>酒身: the saleable spirit, in one or more grades.</summary>
    Hearts,
    /// <summary>酒尾: weak distillate chased out with strong steam.</summary>
    Tails,
    /// <summary>蒸粮: steam continues until the grain is cooked.</summary>
    Steaming,
    Complete,
    Aborted,
}

public static class Phases
{
    private static readonly string[] names = ["idle", "loading", "sealed", "heads", "hearts", "tails", "steaming", "complete", "aborted"];

    public static string Name(this Phase phase) => names[(int)phase];

    public static bool TryParse(string? text, out Phase phase)
    {
        var index = Array.IndexOf(names, text);
        phase = index < 0 ? default : (Phase)index;
        return index >= 0;
    }

    /// <summary>Phases in which a batch is under way and steam may be wanted.</summary>
    public static bool IsActive(this Phase phase) => phase is >= Phase.Loading and <= Phase.Steaming;

    /// <summary>Phases that collect distillate into a receiver and that <c>cut</c> can end.</summary>
    public static bool IsCollecting(this Phase phase) => phase is Phase.Heads or Phase.Hearts or Phase.Tails;

    public static bool IsFinished(this Phase phase) => phase is Phase.Complete or Phase.Aborted;
}
