namespace StillControl.Control;

/// <summary>
/// A PI controller with conditional-integration anti-windup: the integral stops growing while the output is pinned at a limit
/// in the direction the error pushes, so it comes off the limit as soon as the error turns. State is plain fields so a batch
/// can be saved and restored.
/// </summary>
public struct Pid
{
    /// <summary>The integral term in output units (e.g. valve %).</summary>
    public double Integral;
    public bool Initialised;

    /// <param name="error">Positive when the output should rise.</param>
    public double Update(double error, double deltaSeconds, double proportionalGain, double integralSeconds, double outputMinimum, double outputMaximum, double initialOutput)
    {
        if (!Initialised)
        {
            Integral = Math.Clamp(initialOutput, outputMinimum, outputMaximum);
            Initialised = true;
        }
        var proportional = proportionalGain * error;
        var unclamped = proportional + Integral;
        // Stryker disable once Equality : equivalent at an error of exactly 0, which integrates nothing whether pinned or not
        var pushingUp = error > 0;
        // Stryker disable once Equality : equivalent at an error of exactly 0, which integrates nothing whether pinned or not
        var pushingDown = error < 0;
        var pinnedHigh = unclamped >= outputMaximum && pushingUp;
        var pinnedLow = unclamped <= outputMinimum && pushingDown;
        if (!pinnedHigh && !pinnedLow && integralSeconds > 0)
        {
            Integral += proportionalGain * error * deltaSeconds / integralSeconds;
        }
        Integral = Math.Clamp(Integral, outputMinimum, outputMaximum);
        return Math.Clamp(proportional + Integral, outputMinimum, outputMaximum);
    }

    public void Reset() => this = default;
}

public static class RateLimit
{
    /// <summary>
    /// Limits how fast a valve opens; closing is always immediate because closing is the safe direction for steam (a wanted
    /// opening at or below the previous one is under the cap as it is).
    /// </summary>
    public static double OpeningLimited(double previous, double wanted, double percentPerSecond, double deltaSeconds) =>
        Math.Min(wanted, previous + percentPerSecond * deltaSeconds);
}
