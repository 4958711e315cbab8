using System.Diagnostics;

namespace StillControl.Sensors.Modbus;

/// <summary>What one read transaction came to.</summary>
public enum ModbusOutcome { Ok, Timeout, ExceptionReply, BadCrc, WrongUnit, WrongLength, Garbage }

/// <summary>Frame counters of one bus, for <c>probe</c> and the logs. Updated by the bus thread, read by anyone.</summary>
public sealed class BusHealth
{
    private long framesOk, badCrc, wrongUnit, wrongLength, garbage, timeouts, exceptionReplies, retries, noiseBytes;

    public long FramesOk => Interlocked.Read(ref framesOk);
    public long BadCrc => Interlocked.Read(ref badCrc);
    public long WrongUnit => Interlocked.Read(ref wrongUnit);
    public long WrongLength => Interlocked.Read(ref wrongLength);
    public long Garbage => Interlocked.Read(ref garbage);
    public long Timeouts => Interlocked.Read(ref timeouts);
    public long ExceptionReplies => Interlocked.Read(ref exceptionReplies);
    public long Retries => Interlocked.Read(ref retries);
    /// <summary>Bytes seen on the line that belonged to no frame we asked for.</summary>
    public long NoiseBytes => Interlocked.Read(ref noiseBytes);

    internal void Count(ModbusOutcome outcome)
    {
        switch (outcome)
        {
            case ModbusOutcome.Ok: Interlocked.Increment(ref framesOk); break;
            case ModbusOutcome.Timeout: Interlocked.Increment(ref timeouts); break;
            case ModbusOutcome.ExceptionReply: Interlocked.Increment(ref exceptionReplies); break;
            case ModbusOutcome.BadCrc: Interlocked.Increment(ref badCrc); break;
            case ModbusOutcome.WrongUnit: Interlocked.Increment(ref wrongUnit); break;
            case ModbusOutcome.WrongLength: Interlocked.Increment(ref wrongLength); break;
            default: Interlocked.Increment(ref garbage); break;
        }
    }

    internal void CopyFrom(BusHealth other)
    {
        framesOk = other.FramesOk; badCrc = other.BadCrc; wrongUnit = other.WrongUnit; wrongLength = other.WrongLength; garbage = other.Garbage;
        timeouts = other.Timeouts; exceptionReplies = other.ExceptionReplies; retries = other.Retries; noiseBytes = other.NoiseBytes;
    }

    internal void CountRetry() => Interlocked.Increment(ref retries);

    internal void CountNoise(int bytes) => Interlocked.Add(ref noiseBytes, bytes);

    public override string ToString() =>
        $"frames ok {FramesOk}, bad CRC {BadCrc}, wrong unit {WrongUnit}, wrong length {WrongLength}, garbage {Garbage}, " +
        $"timeouts {Timeouts}, exception replies {ExceptionReplies}, retries {Retries}, noise bytes {NoiseBytes}";
}

/// <summary>The result of a read: the register bytes on success, otherwise what went wrong in words.</summary>
public readonly record struct ModbusReply(ModbusOutcome Outcome, byte ExceptionCode, string Detail)
{
    public bool IsOk => Outcome == ModbusOutcome.Ok;
}

/// <summary>
/// A Modbus RTU master for function codes 03 and 04. One transaction at a time on one line: keeps the 3.5-character silence
/// between frames, finds the reply by its unit, function and CRC even behind line noise, and after anything it cannot use it
/// waits for the line to go quiet so the next request starts clean (a bad frame never desynchronises the bus).
/// </summary>
public sealed class ModbusMaster
{
    private readonly ISerialLine line;
    private readonly byte[] request = new byte[8];
    private readonly byte[] received = new byte[512];
    private readonly TimeSpan characterTime;
    private readonly TimeSpan frameGap;
    private readonly TimeSpan responseTimeout;
    private readonly TimeSpan silence;
    private readonly int retries;
    private readonly bool keepFrameGap;
    private long lastActivity;

    /// <param name="responseTimeout">How long a slave has to start answering.</param>
    /// <param name="silence">Quiet on the line that ends a reply that is not yet complete (USB adapters deliver in bursts, so this is longer than 3.5 characters).</param>
    /// <param name="keepFrameGap">False only where there is no wire (a line emulated on a simulated clock).</param>
    public ModbusMaster(ISerialLine line, SerialSettings settings, TimeSpan responseTimeout, TimeSpan silence, int retries, bool keepFrameGap = true)
    {
        this.keepFrameGap = keepFrameGap;
        this.line = line;
        characterTime = ModbusRtu.CharacterTime(settings.Baud, settings.HasParity, settings.StopBitCount);
        frameGap = ModbusRtu.FrameGap(settings.Baud, settings.HasParity, settings.StopBitCount);
        this.responseTimeout = responseTimeout;
        this.silence = silence > frameGap ? silence : frameGap;
        this.retries = retries;
    }

    public BusHealth Health { get; } = new();

    public string LineName => line.Name;

    /// <summary>Reads <paramref name="count"/> registers into <paramref name="values"/> (2 bytes each, big-endian), retrying failures.</summary>
    public ModbusReply ReadRegisters(byte unit, byte function, ushort address, ushort count, Span<byte> values)
    {
        ModbusReply reply = default;
        for (var attempt = 0; attempt <= retries; attempt++)
        {
            if (attempt > 0)
            {
                Health.CountRetry();
            }
            reply = Transact(unit, function, address, count, values);
            Health.Count(reply.Outcome);
            // An exception reply is a real answer: asking again gets the same one.
            if (reply.Outcome is ModbusOutcome.Ok or ModbusOutcome.ExceptionReply)
            {
                return reply;
            }
        }
        return reply;
    }

    /// <summary>Sets one holding register (function 06), retrying failures; the slave's echo of the request is the acknowledgement.</summary>
    public ModbusReply WriteRegister(byte unit, ushort address, ushort value)
    {
        ModbusReply reply = default;
        for (var attempt = 0; attempt <= retries; attempt++)
        {
            if (attempt > 0)
            {
                Health.CountRetry();
            }
            reply = Transact(unit, ModbusRtu.WriteSingleRegister, address, value, []);
            Health.Count(reply.Outcome);
            if (reply.Outcome is ModbusOutcome.Ok or ModbusOutcome.ExceptionReply)
            {
                return reply;
            }
        }
        return reply;
    }

    /// <summary>One request and its reply. For a read, <paramref name="countOrValue"/> is the register count; for function 06 the value written.</summary>
    private ModbusReply Transact(byte unit, byte function, ushort address, ushort countOrValue, Span<byte> values)
    {
        var count = function == ModbusRtu.WriteSingleRegister ? (ushort)0 : countOrValue;
        // Whatever is waiting now is noise or a reply that came too late: drop it, then keep the silent interval.
        if (line.BytesAvailable > 0)
        {
            DrainUntilQuiet(TimeSpan.Zero);
        }
        var idle = Stopwatch.GetElapsedTime(lastActivity);
        if (keepFrameGap && lastActivity != 0 && idle < frameGap)
        {
            SpinOrSleep(frameGap - idle);
        }

        ModbusRtu.ReadRequest(unit, function, address, countOrValue, request);
        line.Write(request);
        var sent = Stopwatch.GetTimestamp();
        // The request takes its own wire time before the slave even sees it.
        var deadline = sent + Ticks(characterTime * request.Length + responseTimeout);
        var expected = function == ModbusRtu.WriteSingleRegister ? request.Length : ModbusRtu.ReplyLength(count);
        var length = 0;
        while (true)
        {
            // Before the first byte: until the response deadline. Once a reply has begun, the rest must follow without a
            // gap longer than the silence (plus the wire time of what is still missing).
            var wait = length == 0
                ? TimeSpan.FromSeconds(Math.Max(0, deadline - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency)
                : silence + characterTime * Math.Max(0, expected - length);
            if (wait <= TimeSpan.Zero)
            {
                break;
            }
            var n = length < received.Length ? line.Read(received.AsSpan(length), wait) : 0;
            if (n == 0)
            {
                break;
            }
            length += n;
            lastActivity = Stopwatch.GetTimestamp();
            if ((function == ModbusRtu.WriteSingleRegister ? FindEcho(received.AsSpan(0, length), request) : Find(received.AsSpan(0, length), unit, function, count)) is { } found)
            {
                if (found.Start > 0)
                {
                    Health.CountNoise(found.Start);
                }
                var frame = received.AsSpan(found.Start, found.Length);
                if (frame[1] == (function | 0x80))
                {
                    var code = frame[2];
                    return new ModbusReply(ModbusOutcome.ExceptionReply, code, $"unit {unit} answered exception 0x{code:X2} ({ModbusRtu.ExceptionName(code)})");
                }
                frame.Slice(3, 2 * count).CopyTo(values);
                // Anything after the reply is noise; it is dropped before the next request.
                return new ModbusReply(ModbusOutcome.Ok, 0, "ok");
            }
        }
        lastActivity = Stopwatch.GetTimestamp();
        if (length == 0)
        {
            return new ModbusReply(ModbusOutcome.Timeout, 0, $"unit {unit} did not answer within {responseTimeout.TotalMilliseconds:0} ms");
        }
        var outcome = Classify(received.AsSpan(0, length), unit, function, expected);
        Health.CountNoise(length);
        DrainUntilQuiet(silence);
        var detail = outcome switch
        {
            ModbusOutcome.BadCrc => $"reply from unit {unit} failed its CRC",
            ModbusOutcome.WrongUnit => $"a reply came from another unit than {unit}",
            ModbusOutcome.WrongLength => $"reply from unit {unit} had the wrong length (expected {expected} bytes)",
            _ => $"{length} bytes of garbage instead of a reply from unit {unit}",
        };
        return new ModbusReply(outcome, 0, detail);
    }

    /// <summary>A well-formed reply to this request (normal or exception) somewhere in the bytes, CRC checked.</summary>
    private static (int Start, int Length)? Find(ReadOnlySpan<byte> bytes, byte unit, byte function, int count)
    {
        var expected = ModbusRtu.ReplyLength(count);
        for (var i = 0; i + ModbusRtu.ExceptionLength <= bytes.Length; i++)
        {
            if (bytes[i] != unit)
            {
                continue;
            }
            if (bytes[i + 1] == (function | 0x80) && ModbusRtu.CrcMatches(bytes.Slice(i, ModbusRtu.ExceptionLength)))
            {
                return (i, ModbusRtu.ExceptionLength);
            }
            if (bytes[i + 1] == function && bytes[i + 2] == 2 * count && i + expected <= bytes.Length && ModbusRtu.CrcMatches(bytes.Slice(i, expected)))
            {
                return (i, expected);
            }
        }
        return null;
    }

    /// <summary>The echo of a write request (function 06 answers with the request itself) or an exception reply to it.</summary>
    private static (int Start, int Length)? FindEcho(ReadOnlySpan<byte> bytes, ReadOnlySpan<byte> request)
    {
        for (var i = 0; i + ModbusRtu.ExceptionLength <= bytes.Length; i++)
        {
            if (bytes[i] != request[0])
            {
                continue;
            }
            if (bytes[i + 1] == (request[1] | 0x80) && ModbusRtu.CrcMatches(bytes.Slice(i, ModbusRtu.ExceptionLength)))
            {
                return (i, ModbusRtu.ExceptionLength);
            }
            if (i + request.Length <= bytes.Length && bytes.Slice(i, request.Length).SequenceEqual(request))
            {
                return (i, request.Length);
            }
        }
        return null;
    }

    /// <summary>Names what arrived when no usable reply did.</summary>
    private static ModbusOutcome Classify(ReadOnlySpan<byte> bytes, byte unit, byte function, int expected)
    {
        for (var i = 0; i < bytes.Length; i++)
        {
            var rest = bytes[i..];
            if (rest.Length >= 2 && rest[0] == unit && rest[1] == function)
            {
                if (rest.Length >= expected && !ModbusRtu.CrcMatches(rest[..expected]))
                {
                    return ModbusOutcome.BadCrc;
                }
                if (rest.Length >= 3 && rest[2] + 5 <= rest.Length && ModbusRtu.CrcMatches(rest[..(rest[2] + 5)]))
                {
                    return ModbusOutcome.WrongLength;
                }
                return rest.Length < expected ? ModbusOutcome.WrongLength : ModbusOutcome.BadCrc;
            }
        }
        for (var i = 0; i + 2 < bytes.Length; i++)
        {
            var rest = bytes[i..];
            if (rest[0] != unit && rest[1] == function && rest[2] + 5 <= rest.Length && ModbusRtu.CrcMatches(rest[..(rest[2] + 5)]))
            {
                return ModbusOutcome.WrongUnit;
            }
        }
        return ModbusOutcome.Garbage;
    }

    /// <summary>Reads and drops bytes until the line has been quiet for <paramref name="quiet"/> (zero: just empty what is there).</summary>
    private void DrainUntilQuiet(TimeSpan quiet)
    {
        Span<byte> scratch = stackalloc byte[256];
        var wait = quiet > TimeSpan.Zero ? quiet : TimeSpan.FromMilliseconds(1);
        for (var i = 0; i < 64; i++)
        {
            var n = line.Read(scratch, wait);
            if (n == 0)
            {
                return;
            }
            Health.CountNoise(n);
            lastActivity = Stopwatch.GetTimestamp();
        }
    }

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    private static void SpinOrSleep(TimeSpan span)
    {
        var until = Stopwatch.GetTimestamp() + Ticks(span);
        if (span > TimeSpan.FromMilliseconds(2))
        {
            Thread.Sleep(span - TimeSpan.FromMilliseconds(1));
        }
        while (Stopwatch.GetTimestamp() < until)
        {
            Thread.SpinWait(20);
        }
    }
}
