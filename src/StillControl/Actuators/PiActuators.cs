using System.Device.Gpio;
using System.Device.Pwm;
using StillControl.Process;
using StillControl.Sensors;
using StillControl.Sensors.Modbus;

namespace StillControl.Actuators;

/// <summary>
/// The Pi's outputs: steam and cooling valves (PWM or time-proportioned relays), one diverter relay per receiver, horn and
/// beacon. The valves are wired fail-safe (steam normally closed, cooling normally open) and driven so that "de-energised" is
/// the safe state; <see cref="SetSafe"/> de-energises both valves and every receiver and sounds horn and beacon.
/// </summary>
public sealed class PiActuators : IActuators, IDisposable
{
    public bool SteamIsolationFitted => isolation is not null;

    private readonly Valve? steam;
    private readonly Valve? cooling;
    private readonly (string Receiver, Relay Relay)[] receivers;
    private readonly Relay? horn;
    private readonly Relay? beacon;
    private readonly Relay? isolation;
    private readonly TimeProvider time;
    private readonly Lock gate = new();
    private OutputState outputs = OutputState.Safe;

    /// <param name="bestEffort">
    /// <c>safe</c>: open what can be opened, drive it safe, and report the rest in <see cref="Failures"/>. Otherwise (the
    /// service) the outputs that did open are driven safe and then one exception names every output that did not.
    /// </param>
    public PiActuators(PiPlan plan, IPiDevices devices, TimeProvider time, ModbusBuses? buses = null, bool bestEffort = false)
    {
        this.time = time;
        var failures = new List<string>();
        T? Try<T>(Func<T> open) where T : class
        {
            try
            {
                return open();
            }
            catch (HardwareStartException e)
            {
                failures.Add(e.Message);
                return null;
            }
        }
        GpioController Gpio(string key)
        {
            try
            {
                return devices.Gpio;
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or PlatformNotSupportedException)
            {
                throw new HardwareStartException($"{key}: {e.Message}", e);
            }
        }
        ModbusBusSource? Bus(ValvePlan valve)
        {
            if (valve.Modbus is not { } output) return null;
            var bus = (buses ?? throw new InvalidOperationException($"{valve.Key}: a Modbus output needs the buses")).Get(output.Bus);
            try
            {
                bus.Open();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                throw new HardwareStartException($"{valve.Key}:Bus = \"{output.Bus}\": {e.Message}", e);
            }
            return bus;
        }
        Valve OpenValve(ValvePlan plan) => new(plan, plan.Pwm || plan.Modbus is not null ? null : Gpio(plan.Key), devices, Bus(plan));
        steam = Try(() => OpenValve(plan.Steam));
        cooling = Try(() => OpenValve(plan.Cooling));
        receivers = plan.Receivers.Select(r => (r.Receiver, Relay: Try(() => new Relay(Gpio(r.Relay.Key), r.Relay)))).Where(r => r.Relay is not null)
            .Select(r => (r.Receiver, r.Relay!)).ToArray();
        horn = plan.Horn is { } h ? Try(() => new Relay(Gpio(h.Key), h)) : null;
        beacon = plan.Beacon is { } b ? Try(() => new Relay(Gpio(b.Key), b)) : null;
        isolation = plan.SteamIsolation is { } i ? Try(() => new Relay(Gpio(i.Key), i)) : null;
        SetSafe();
        Failures = failures;
        if (failures.Count > 0 && !bestEffort)
        {
            Dispose();
            throw new HardwareStartException(string.Join(Environment.NewLine + "stillcontrol: hardware: ", failures));
        }
    }

    /// <summary>Outputs that could not be opened (best effort only), each under its key.</summary>
    public IReadOnlyList<string> Failures { get; }

    public OutputState Outputs
    {
        get
        {
            lock (gate)
            {
                return outputs;
            }
        }
    }

    /// <summary>Valves on a bus module whose last write was not acknowledged, each named with its key, unit and register.</summary>
    /// <remarks>Read by the control loop every step: nothing is allocated while every output answers.</remarks>
    public string? Fault => (steam?.Fault, cooling?.Fault) switch
    {
        ({ } a, { } b) => $"{a}; {b}",
        (var a, var b) => a ?? b,
    };

    /// <summary>The same, one entry per output.</summary>
    public IReadOnlyList<string> OutputFaults => new[] { steam?.Fault, cooling?.Fault }.OfType<string>().ToList();

    public void Apply(Decisions decisions) =>
        Drive(new OutputState(decisions.SteamValvePercent, decisions.CoolingValvePercent, decisions.Receiver, decisions.Horn, decisions.Beacon, decisions.SteamIsolationOpen));

    public void SetSafe()
    {
        try
        {
            Drive(OutputState.Safe);
        }
        catch (Exception)
        {
            // Must not throw (called from a crash path). Each output is tried on its own below; the valves' springs do the rest.
            foreach (var action in new Action[] { () => isolation?.Set(false), () => steam?.DeEnergise(), () => cooling?.DeEnergise(), () => horn?.Set(true), () => beacon?.Set(true) })
            {
                try
                {
                    action();
                }
                catch (Exception)
                {
                }
            }
        }
    }

    /// <summary>Time-proportioned relays need a tick between control decisions; the control loop calls Apply every period, which is enough.</summary>
    private void Drive(OutputState state)
    {
        lock (gate)
        {
            var now = time.GetUtcNow();
            // The isolation valve shuts first, and opens last: it is open only while steam is wanted, nothing trips, and the
            // modulating valve takes its values (a valve that stopped answering is not trusted to close).
            var isolationOpen = state.SteamIsolationOpen && state.SteamValvePercent > 0 && steam?.Fault is null;
            if (!isolationOpen)
            {
                isolation?.Set(false);
            }
            // Steam closes before cooling changes, and opens after it: between two writes there is never more steam or less
            // cooling than either the old or the new decision asked for.
            if (state.SteamValvePercent < outputs.SteamValvePercent)
            {
                steam?.Set(state.SteamValvePercent, now);
                cooling?.Set(state.CoolingValvePercent, now);
            }
            else
            {
                cooling?.Set(state.CoolingValvePercent, now);
                steam?.Set(state.SteamValvePercent, now);
            }
            // Break before make: the old receiver closes before the new one opens, so no spirit goes to two receivers.
            foreach (var (name, relay) in receivers)
            {
                if (name != state.Receiver)
                {
                    relay.Set(false);
                }
            }
            foreach (var (name, relay) in receivers)
            {
                if (name == state.Receiver)
                {
                    relay.Set(true);
                }
            }
            horn?.Set(state.Horn);
            beacon?.Set(state.Beacon);
            if (isolationOpen)
            {
                isolation?.Set(true);
            }
            outputs = state with { SteamIsolationOpen = isolationOpen && isolation is not null };
        }
    }

    public void Dispose()
    {
        SetSafe();
        steam?.Dispose();
        cooling?.Dispose();
    }

    private sealed class Relay(GpioController gpio, RelayPlan plan)
    {
        private readonly bool opened = Open(gpio, plan);
        private bool? last;

        private static bool Open(GpioController gpio, RelayPlan plan)
        {
            try
            {
                gpio.OpenPin(plan.Pin, PinMode.Output, plan.ActiveLow ? PinValue.High : PinValue.Low);
                return true;
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or ArgumentException)
            {
                throw new HardwareStartException($"{plan.Key}:Pin = {plan.Pin}: {e.Message}", e);
            }
        }

        public void Set(bool on)
        {
            if (opened && last != on)
            {
                gpio.Write(plan.Pin, on != plan.ActiveLow ? PinValue.High : PinValue.Low);
                last = on;
            }
        }
    }

    private sealed class Valve : IDisposable
    {
        private readonly ValvePlan plan;
        private readonly PwmChannel? pwm;
        private readonly Relay? relay;
        private readonly ModbusBusSource? bus;
        private DateTimeOffset windowStart;
        private double? lastShare;

        public Valve(ValvePlan plan, GpioController? gpio, IPiDevices devices, ModbusBusSource? bus)
        {
            this.plan = plan;
            this.bus = bus;
            if (bus is not null)
            {
                return;
            }
            if (plan.Pwm)
            {
                try
                {
                    pwm = devices.OpenPwm(plan.Chip, plan.PwmChannel, plan.Frequency);
                    pwm.DutyCycle = 0;
                    pwm.Start();
                }
                catch (Exception e) when (e is IOException or InvalidOperationException or ArgumentException or UnauthorizedAccessException)
                {
                    throw new HardwareStartException($"{plan.Key}: PWM chip {plan.Chip} channel {plan.PwmChannel}: {e.Message}", e);
                }
            }
            else
            {
                relay = new Relay(gpio!, new RelayPlan(plan.Name, plan.Key, plan.Pin, plan.ActiveLow));
            }
        }

        public string? Fault => bus is not null && plan.Modbus is { } output && bus.WriteFault(output.Unit, output.Address) is { } fault
            ? $"{plan.Name} valve ({plan.Key}, unit {output.Unit} register {output.Address}): {fault}"
            : null;

        /// <summary>Energised share for an opening in percent: a normally open valve closes when energised.</summary>
        private double Energised(double openingPercent) =>
            Math.Clamp(plan.OpensWhenDeEnergised ? 100 - openingPercent : openingPercent, 0, 100) / 100.0;

        public void Set(double openingPercent, DateTimeOffset now)
        {
            var share = Energised(openingPercent);
            if (bus is not null && plan.Modbus is { } output)
            {
                if (share == lastShare) return;
                // Reaching the safe value (de-energised: steam shut, cooling fully open) goes out at once, as a trip needs;
                // every other move is queued for the bus thread, which sends it between reads, so the control loop does not
                // wait on the line (a module that stopped answering would cost it a timeout per retry on every trim).
                if (lastShare is null || share == 0)
                {
                    bus.WriteNow(output.Unit, output.Address, output.ValueFor(share));
                }
                else
                {
                    bus.Enqueue(output.Unit, output.Address, output.ValueFor(share));
                }
                lastShare = share;
                return;
            }
            if (pwm is not null)
            {
                pwm.DutyCycle = share;
                return;
            }
            // Time-proportioning: on for share x window at the start of each window; a share of 0 switches off at once.
            if (windowStart == default || now - windowStart >= plan.Window || now < windowStart)
            {
                windowStart = now;
            }
            relay!.Set(share > 0 && (share >= 1 || now - windowStart < plan.Window * share));
        }

        public void DeEnergise()
        {
            if (bus is not null && plan.Modbus is { } output)
            {
                bus.WriteNow(output.Unit, output.Address, output.Zero);
                lastShare = 0;
            }
            if (pwm is not null)
            {
                pwm.DutyCycle = 0;
            }
            relay?.Set(false);
        }

        public void Dispose()
        {
            DeEnergise();
            pwm?.Dispose();
        }
    }
}
