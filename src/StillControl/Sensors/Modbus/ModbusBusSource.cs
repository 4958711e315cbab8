using StillControl.Process;

namespace StillControl.Sensors.Modbus;

/// <summary>One input on a bus: the channel it feeds, the transmitter's unit id and the point in its registers.</summary>
public sealed record ModbusInput(Channel Channel, byte Unit, ModbusPoint Point);

/// <summary>
/// Every transmitter on one RS-485 bus, polled in one cycle by one master. A failed transaction is a fault with its reason
/// (timeout: disconnected; CRC: checksum; exception reply: the exception by name) for that channel only; the others keep
/// reading. A line that fails (adapter unplugged) faults every channel on it and is reopened on the next cycle.
/// </summary>
public sealed class ModbusBusSource : IPolledSource
{
    private readonly Func<ISerialLine> open;
    private readonly SerialSettings settings;
    private readonly ModbusInput[] inputs;
    private readonly TimeSpan responseTimeout;
    private readonly TimeSpan silence;
    private readonly int retries;
    private readonly byte[] registers = new byte[2 * ModbusRtu.MaximumRegisters];
    private ISerialLine? line;
    private ModbusMaster? master;
    private string? lineError;

    public ModbusBusSource(string name, Func<ISerialLine> open, SerialSettings settings, IEnumerable<ModbusInput> inputs, TimeSpan period,
        TimeSpan responseTimeout, TimeSpan silence, int retries)
    {
        Name = $"Modbus bus {name} ({settings.Port}, {settings.Baud} baud)";
        this.open = open;
        this.settings = settings;
        this.inputs = inputs.ToArray();
        Period = period;
        this.responseTimeout = responseTimeout;
        this.silence = silence;
        this.retries = retries;
        Channels = this.inputs.Select(i => i.Channel).ToArray();
    }

    public string Name { get; }

    public TimeSpan Period { get; }

    public IReadOnlyList<Channel> Channels { get; }

    /// <summary>Counters survive a reopened line.</summary>
    public BusHealth Counters { get; private set; } = new();

    public string? Health => lineError is null ? Counters.ToString() : $"line error: {lineError}; {Counters}";

    /// <summary>Opens the line now, so a port that will not open fails at start-up.</summary>
    public void Open()
    {
        line = open();
        master = new ModbusMaster(line, settings, responseTimeout, silence, retries);
        master.Health.CopyFrom(Counters);
        Counters = master.Health;
        lineError = null;
    }

    public void Poll(LatestReadings into, TimeProvider time)
    {
        var now = time.GetUtcNow();
        try
        {
            if (master is null)
            {
                Open();
            }
            foreach (var input in inputs)
            {
                var span = registers.AsSpan(0, 2 * input.Point.Registers);
                var reply = master!.ReadRegisters(input.Unit, input.Point.Function, input.Point.Address, input.Point.Registers, span);
                var at = time.GetUtcNow();
                if (reply.IsOk)
                {
                    var value = input.Point.Convert(span);
                    into.Publish(input.Channel, double.IsFinite(value) ? Reading.Good(value, at) : Reading.Faulted(FaultReason.SourceError, at),
                        double.IsFinite(value) ? $"unit {input.Unit} register {input.Point.Address}: {value:0.###}" : $"unit {input.Unit} register {input.Point.Address}: not a number");
                }
                else
                {
                    var reason = reply.Outcome switch
                    {
                        ModbusOutcome.Timeout => FaultReason.Disconnected,
                        ModbusOutcome.BadCrc => FaultReason.ChecksumError,
                        _ => FaultReason.SourceError,
                    };
                    into.Publish(input.Channel, Reading.Faulted(reason, at), reply.Detail);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            lineError = $"{settings.Port}: {e.Message}";
            foreach (var input in inputs)
            {
                into.Publish(input.Channel, Reading.Faulted(FaultReason.Disconnected, now), lineError);
            }
            line?.Dispose();
            line = null;
            master = null;
        }
    }

    public void Dispose() => line?.Dispose();
}
