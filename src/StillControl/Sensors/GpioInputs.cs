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
    private readonly PinChangeEventHandler?[] latches;
    /// <summary>Per digital input: an edge to its active level came since the loop last read it (set by the driver's event thread).</summary>
    private readonly int[] latched;

    public GpioInputs(GpioController gpio, IEnumerable<DigitalInput> digital, IEnumerable<PulseInput> pulses, TimeProvider time)
    {
        this.gpio = gpio;
        this.digital = digital.ToArray();
        latches = new PinChangeEventHandler?[this.digital.Length];
        latched = new int[this.digital.Length];
        for (var i = 0; i < this.digital.Length; i++)
        {
            var input = this.digital[i];
            // An emergency stop is wired normally closed to ground: a pressed button or a broken wire lets the pull-up read high.
            gpio.OpenPin(input.Pin, PinMode.InputPullUp);
            if (input.Channel == Channel.EmergencyStop)
            {
                // A press shorter than a control period would slip between two reads: the edge is latched until the loop has
                // seen it once.
                var index = i;
                latches[i] = (_, e) =>
                {
                    var high = e.ChangeType == PinEventTypes.Rising;
                    if (high != input.ActiveLow) Interlocked.Exchange(ref latched[index], 1);
                };
                gpio.RegisterCallbackForPinValueChangedEvent(input.Pin, PinEventTypes.Rising | PinEventTypes.Falling, latches[i]!);
            }
        }
        this.pulses = pulses.Select(p => new PulseCounter(gpio, p, time)).ToArray();
        Channels = this.digital.Select(d => d.Channel).Concat(this.pulses.Select(p => p.Input.Channel)).ToArray();
    }

    public IReadOnlyList<Channel> Channels { get; }

    public void Read(ReadingSnapshot into, DateTimeOffset now)
    {
        for (var i = 0; i < digital.Length; i++)
        {
            var input = digital[i];
            try
            {
                var high = gpio.Read(input.Pin) == PinValue.High;
                var edgeSeen = Interlocked.Exchange(ref latched[i], 0) == 1;
                var active = high != input.ActiveLow || edgeSeen;
                into[input.Channel] = Reading.Good(active ? input.ActiveValue : input.InactiveValue, now);
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
        for (var i = 0; i < digital.Length; i++)
        {
            if (latches[i] is { } handler) gpio.UnregisterCallbackForPinValueChangedEvent(digital[i].Pin, handler);
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
