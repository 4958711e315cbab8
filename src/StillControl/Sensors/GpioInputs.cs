using System.Device.Gpio;
using StillControl.Process;

namespace StillControl.Sensors;

/// <summary>A contact on a GPIO pin: emergency stop, cooling-water flow switch, lid closed.</summary>
public sealed record DigitalInput(Channel Channel, int Pin, bool ActiveLow, double ActiveValue, double InactiveValue);

/// <summary>A pulse-output flow meter on a GPIO pin.</summary>
public sealed record PulseInput(Channel Channel, int Pin, double PulsesPerLitre, TimeSpan Window);

/// <summary>
/// GPIO inputs, read on the control thread itself (a pin read takes microseconds): an emergency stop is seen by the very next
/// control step. Pulses are counted by the driver's edge events and turned into L/min over a sliding window.
/// </summary>
public sealed class GpioInputs : IDisposable
{
    private readonly GpioController gpio;
    private readonly DigitalInput[] digital;
    private readonly PulseCounter[] pulses;

    public GpioInputs(GpioController gpio, IEnumerable<DigitalInput> digital, IEnumerable<PulseInput> pulses, TimeProvider time)
    {
        this.gpio = gpio;
        this.digital = digital.ToArray();
        foreach (var input in this.digital)
        {
            // An emergency stop is wired normally closed to ground: a pressed button or a broken wire lets the pull-up read high.
            gpio.OpenPin(input.Pin, PinMode.InputPullUp);
        }
        this.pulses = pulses.Select(p => new PulseCounter(gpio, p, time)).ToArray();
        Channels = this.digital.Select(d => d.Channel).Concat(this.pulses.Select(p => p.Input.Channel)).ToArray();
    }

    public IReadOnlyList<Channel> Channels { get; }

    public void Read(ReadingSnapshot into, DateTimeOffset now)
    {
        foreach (var input in digital)
        {
            try
            {
                var high = gpio.Read(input.Pin) == PinValue.High;
                into[input.Channel] = Reading.Good(high != input.ActiveLow ? input.ActiveValue : input.InactiveValue, now);
            }
            catch (Exception e) when (e is IOException or InvalidOperationException)
            {
                into[input.Channel] = Reading.Faulted(FaultReason.SourceError, now);
            }
        }
        foreach (var counter in pulses)
        {
            into[counter.Input.Channel] = counter.Read(now);
        }
    }

    public void Dispose()
    {
        foreach (var counter in pulses)
        {
            counter.Dispose();
        }
    }

    /// <summary>
    /// Counts rising edges and times them: flow is the pulses between the first and the last edge of the window over the time
    /// between those edges (period measurement), so a steady flow reads with the resolution of the clock, not of whole pulses,
    /// and a meter that really stopped reads 0 once no edge has come for a window.
    /// </summary>
    private sealed class PulseCounter : IDisposable
    {
        private readonly GpioController gpio;
        private readonly PinChangeEventHandler handler;
        private readonly Queue<(long Count, DateTimeOffset LastEdge)> history = new();
        private readonly Lock gate = new();
        private long count;
        private DateTimeOffset lastEdge;
        private Reading last;

        public PulseCounter(GpioController gpio, PulseInput input, TimeProvider time)
        {
            this.gpio = gpio;
            Input = input;
            handler = (_, _) =>
            {
                var at = time.GetUtcNow();
                lock (gate)
                {
                    count++;
                    lastEdge = at;
                }
            };
            gpio.OpenPin(input.Pin, PinMode.InputPullUp);
            gpio.RegisterCallbackForPinValueChangedEvent(input.Pin, PinEventTypes.Rising, handler);
        }

        public PulseInput Input { get; }

        /// <summary>A new value once a second, so the quality layer sees a fresh timestamp each time.</summary>
        public Reading Read(DateTimeOffset now)
        {
            if (last.Quality != ReadingQuality.NotConfigured && now - last.Timestamp < TimeSpan.FromSeconds(1))
            {
                return last;
            }
            long total;
            DateTimeOffset edge;
            lock (gate)
            {
                total = count;
                edge = lastEdge;
            }
            history.Enqueue((total, edge));
            while (history.Count > 2 && now - history.Peek().LastEdge > Input.Window)
            {
                history.Dequeue();
            }
            var (then, thenEdge) = history.Peek();
            var seconds = (edge - thenEdge).TotalSeconds;
            last = total == then || seconds <= 0 || now - edge > Input.Window
                ? Reading.FromPulses(0, now)
                : Reading.FromPulses((total - then) / Input.PulsesPerLitre / seconds * 60.0, now);
            return last;
        }

        public void Dispose() => gpio.UnregisterCallbackForPinValueChangedEvent(Input.Pin, handler);
    }
}
