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
    private readonly Block[] blocks;
    private readonly TimeSpan responseTimeout;
    private readonly TimeSpan silence;
    private readonly int retries;
    private readonly byte[] registers = new byte[2 * ModbusRtu.MaximumRegisters];
    private readonly bool keepFrameGap;
    private ISerialLine? line;
    private ModbusMaster? master;
    private string? lineError;

    public ModbusBusSource(string name, Func<ISerialLine> open, SerialSettings settings, IEnumerable<ModbusInput> inputs, TimeSpan period,
        TimeSpan responseTimeout, TimeSpan silence, int retries, bool keepFrameGap = true)
    {
        this.keepFrameGap = keepFrameGap;
        Name = $"Modbus bus {name} ({settings.Port}, {settings.Baud} baud)";
        this.open = open;
        this.settings = settings;
        this.inputs = inputs.ToArray();
        blocks = Group(this.inputs);
        // A bus with only valve outputs has nothing to poll: it wakes for queued writes, and retries failed ones this often.
        Period = this.inputs.Length == 0 && period < TimeSpan.FromMilliseconds(100) ? TimeSpan.FromMilliseconds(100) : period;
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

    public string? Health => (lineError is null ? "" : $"line error: {lineError}; ") + (OutputFault is null ? "" : $"output write failed: {OutputFault}; ") + Counters;

    /// <summary>Opens the line now, so a port that will not open fails at start-up.</summary>
    /// <summary>
    /// Opens the line unless it is open: the outputs and the inputs of one bus both ask at start, and a second open would
    /// leave the first handle on the port behind.
    /// </summary>
    public void Open()
    {
        lock (lineGate)
        {
            if (master is not null)
            {
                return;
            }
            line = open();
            master = new ModbusMaster(line, settings, responseTimeout, silence, retries, keepFrameGap);
            master.Health.CopyFrom(Counters);
            Counters = master.Health;
            lineError = null;
        }
    }

    /// <summary>Wakes the bus thread when an output write is waiting.</summary>
    public WaitHandle Wake => wake;

    private readonly AutoResetEvent wake = new(false);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(byte Unit, ushort Address), ushort> pendingWrites = new();
    private readonly Lock lineGate = new();

    /// <summary>The last output write that failed, in words; null once writes succeed again.</summary>
    public string? OutputFault { get; private set; }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<(byte Unit, ushort Address), string> writeFaults = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(byte Unit, ushort Address), ushort> retryWrites = new();

    /// <summary>Why the last write to this register failed; null once one succeeds.</summary>
    public string? WriteFault(byte unit, ushort address) => writeFaults.TryGetValue((unit, address), out var fault) ? fault : null;

    /// <summary>Queues a register write for the bus thread (only the newest value per register is sent); never blocks the caller.</summary>
    public void Enqueue(byte unit, ushort address, ushort value)
    {
        retryWrites.TryRemove((unit, address), out _);
        pendingWrites[(unit, address)] = value;
        wake.Set();
    }

    /// <summary>
    /// Writes now, on the caller's thread, between the bus thread's transactions (the safe state must not wait in a queue).
    /// A write that fails is tried again at the start of every poll cycle (not between reads, where a dead module's timeouts
    /// would starve the inputs) until the module answers or a newer value replaces it; meanwhile <see cref="WriteFault"/> says why.
    /// </summary>
    public ModbusReply WriteNow(byte unit, ushort address, ushort value)
    {
        pendingWrites.TryRemove((unit, address), out _);
        retryWrites.TryRemove((unit, address), out _);
        ModbusReply reply;
        lock (lineGate)
        {
            try
            {
                if (master is null)
                {
                    Open();
                }
                reply = master!.WriteRegister(unit, address, value);
                OutputFault = reply.IsOk ? null : $"unit {unit} register {address}: {reply.Detail}";
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                OutputFault = $"{settings.Port}: {e.Message}";
                DropLine(e.Message);
                reply = new ModbusReply(ModbusOutcome.Timeout, 0, OutputFault);
            }
        }
        if (reply.IsOk)
        {
            writeFaults.TryRemove((unit, address), out _);
        }
        else
        {
            writeFaults[(unit, address)] = reply.Detail;
            retryWrites[(unit, address)] = value;
        }
        return reply;
    }

    /// <summary>Sends the queued writes (also called by <c>safe</c>, where no bus thread runs).</summary>
    public void FlushWrites()
    {
        foreach (var key in pendingWrites.Keys)
        {
            if (pendingWrites.TryRemove(key, out var value))
            {
                WriteNow(key.Unit, key.Address, value);
            }
        }
    }

    private void DropLine(string error)
    {
        lineError = $"{settings.Port}: {error}";
        line?.Dispose();
        line = null;
        master = null;
    }

    public void Poll(LatestReadings into, TimeProvider time)
    {
        var now = time.GetUtcNow();
        foreach (var key in retryWrites.Keys)
        {
            // A newer value queued since the failure goes instead of the old one.
            if (retryWrites.TryRemove(key, out var value)) pendingWrites.TryAdd(key, value);
        }
        FlushWrites();
        try
        {
            foreach (var block in blocks)
            {
                ModbusReply reply;
                var span = registers.AsSpan(0, 2 * block.Count);
                lock (lineGate)
                {
                    if (master is null)
                    {
                        Open();
                    }
                    reply = master!.ReadRegisters(block.Unit, block.Function, block.Start, block.Count, span);
                }
                // Outputs go between reads: a valve never waits for a whole cycle.
                FlushWrites();
                var at = time.GetUtcNow();
                foreach (var input in block.Inputs)
                {
                    if (reply.IsOk)
                    {
                        var offset = 2 * (input.Point.Address - block.Start);
                        var value = input.Point.Convert(span.Slice(offset, 2 * input.Point.Registers));
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
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            lock (lineGate)
            {
                DropLine(e.Message);
            }
            foreach (var input in inputs)
            {
                into.Publish(input.Channel, Reading.Faulted(FaultReason.Disconnected, now), lineError);
            }
        }
    }

    public void Dispose()
    {
        lock (lineGate)
        {
            line?.Dispose();
            line = null;
            master = null;
        }
    }

    /// <summary>Points of one unit and function whose registers touch or overlap are read in one frame (an 8-channel module: one request).</summary>
    private sealed record Block(byte Unit, byte Function, ushort Start, ushort Count, ModbusInput[] Inputs);

    private static Block[] Group(ModbusInput[] inputs)
    {
        var blocks = new List<Block>();
        foreach (var group in inputs.GroupBy(i => (i.Unit, i.Point.Function)))
        {
            var sorted = group.OrderBy(i => i.Point.Address).ToList();
            var members = new List<ModbusInput> { sorted[0] };
            int start = sorted[0].Point.Address, end = start + sorted[0].Point.Registers;
            foreach (var input in sorted.Skip(1))
            {
                var inputEnd = input.Point.Address + input.Point.Registers;
                if (input.Point.Address <= end && Math.Max(end, inputEnd) - start <= ModbusRtu.MaximumRegisters)
                {
                    members.Add(input);
                    end = Math.Max(end, inputEnd);
                    continue;
                }
                blocks.Add(new Block(group.Key.Unit, group.Key.Function, (ushort)start, (ushort)(end - start), members.ToArray()));
                members = [input];
                start = input.Point.Address;
                end = inputEnd;
            }
            blocks.Add(new Block(group.Key.Unit, group.Key.Function, (ushort)start, (ushort)(end - start), members.ToArray()));
        }
        return blocks.ToArray();
    }
}
