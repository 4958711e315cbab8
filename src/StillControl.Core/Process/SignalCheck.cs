using StillControl.Recipes;

namespace StillControl.Process;

/// <summary>
/// Turns raw readings into values the controller may act on. A reading is rejected, with a reason, when its source says it failed,
/// when it is outside the channel's plausible range, when it is a DS18B20's 85.0 °C power-on value, when it moved faster than
/// the process can, when the identical value has repeated too long, or when it is too old.
/// </summary>
public static class SignalCheck
{
    /// <summary>The DS18B20 reports this before its first conversion.</summary>
    public const double PowerOnCelsius = 85.0;

    /// <summary>How long a source may hold one value between conversions before a step is judged over the poll interval alone.</summary>
    public const double HoldAllowanceSeconds = 1.0;

    /// <summary>An 85.0 °C is believed only within this of where the reading's own trend says it should be.</summary>
    public const double PowerOnTrendToleranceCelsius = 0.5;

    /// <summary>
    /// An exact 85.0 °C repeated this long is a thermometer that keeps resetting (its power-on value, again and again), not a still
    /// head holding 85.0 to the last bit: real readings near there move by a resolution step within seconds.
    /// </summary>
    public const double PowerOnRepeatSeconds = 5.0;

    /// <summary>Weight of the newest step in the trend (an exponential average of the accepted readings' slope).</summary>
    private const double TrendWeight = 0.3;

    public static void Update(ReadingSnapshot readings, SignalMemory[] memory, Recipe recipe, DateTimeOffset now)
    {
        for (var i = 0; i < Channels.Count; i++)
        {
            var channel = (Channel)i;
            Update(channel, readings[channel], ref memory[i], recipe.LimitsFor(channel), now);
        }
    }

    private static void Update(Channel channel, Reading reading, ref SignalMemory m, SensorLimits limits, DateTimeOffset now)
    {
        if (reading.Quality == ReadingQuality.NotConfigured)
        {
            m = default;
            return;
        }

        // Stryker disable once Equality : equivalent: the same sample judged again gets the same verdict (its times and values are unchanged)
        if (reading.Timestamp != m.LastTimestamp || m.Status == ReadingQuality.NotConfigured)
        {
            m.LastTimestamp = reading.Timestamp;
            if (reading.Quality == ReadingQuality.Faulted)
            {
                Reject(ref m, reading.Fault == FaultReason.None ? FaultReason.SourceError : reading.Fault);
            }
            else
            {
                var value = reading.Value;
                var fault = Judge(channel, value, reading.Timestamp, reading.Counted, ref m, limits);
                if (value != m.LastRaw || m.RawSince == default)
                {
                    m.RawSince = reading.Timestamp;
                }
                m.LastRaw = value;
                if (fault == FaultReason.None)
                {
                    m.Status = ReadingQuality.Good;
                    m.Fault = FaultReason.None;
                    m.Value = value;
                    if (!m.HasAccepted || value != m.LastAccepted)
                    {
                        m.LastAcceptedSince = reading.Timestamp;
                    }
                    if (m.HasAccepted && (reading.Timestamp - m.LastAcceptedAt).TotalSeconds is var seconds and > 0)
                    {
                        m.SlopePerSecond += ((value - m.LastAccepted) / seconds - m.SlopePerSecond) * TrendWeight;
                    }
                    m.HasAccepted = true;
                    m.LastAccepted = value;
                    m.LastAcceptedAt = reading.Timestamp;
                }
                else
                {
                    Reject(ref m, fault);
                }
            }
        }

        if ((now - reading.Timestamp).TotalSeconds > limits.StaleSeconds)
        {
            Reject(ref m, FaultReason.Stale);
        }
    }

    private static FaultReason Judge(Channel channel, double value, DateTimeOffset at, bool counted, ref SignalMemory m, SensorLimits limits)
    {
        if (double.IsNaN(value) || value < limits.MinimumValue || value > limits.MaximumValue)
        {
            return FaultReason.OutOfRange;
        }
        // A real 85.0 is possible in a still head, so the power-on value is judged against the reading's own history: believed only
        // where the trend of the accepted readings leads to it, and never when it repeats to the last bit for seconds.
        if (channel.IsTemperature() && value == PowerOnCelsius)
        {
            // Stryker disable once Block : equivalent: with no history the trend below starts at 0 °C, never within reach of 85
            if (!m.HasAccepted)
            {
                return FaultReason.PowerOnValue;
            }
            var expected = m.LastAccepted + m.SlopePerSecond * Math.Min((at - m.LastAcceptedAt).TotalSeconds, limits.StaleSeconds);
            var repeatedSeconds = m.LastRaw == PowerOnCelsius && m.RawSince != default ? (at - m.RawSince).TotalSeconds : 0;
            if (Math.Abs(expected - PowerOnCelsius) > PowerOnTrendToleranceCelsius || repeatedSeconds >= PowerOnRepeatSeconds)
            {
                return FaultReason.PowerOnValue;
            }
        }
        if (limits.MaximumRatePerSecond is { } rate && m.HasAccepted)
        {
            // A source polled faster than it converts (a PT100 module, a DS18B20 behind a gateway) repeats its last value and
            // then moves in one step: the rate counts from when that value first appeared, up to a hold of one second, so a
            // real outlier after a long steady spell is still a spike.
            var sinceChange = Math.Min((at - m.LastAcceptedSince).TotalSeconds, HoldAllowanceSeconds);
            var seconds = Math.Max(Math.Max((at - m.LastAcceptedAt).TotalSeconds, sinceChange), 0.05);
            if (Math.Abs(value - m.LastAccepted) / seconds > rate)
            {
                return FaultReason.Spike;
            }
        }
        if (limits.StuckSeconds is { } stuck && !counted && value != 0 && value == m.LastRaw && m.RawSince != default && (at - m.RawSince).TotalSeconds >= stuck)
        {
            return FaultReason.Stuck;
        }
        return FaultReason.None;
    }

    private static void Reject(ref SignalMemory m, FaultReason reason)
    {
        m.Status = ReadingQuality.Faulted;
        m.Fault = reason;
        m.Value = double.NaN;
    }
}
