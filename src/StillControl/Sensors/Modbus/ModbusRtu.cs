using System.Buffers.Binary;

namespace StillControl.Sensors.Modbus;

/// <summary>Modbus data types a transmitter register may hold.</summary>
public enum RegisterType { Int16, UInt16, Int32, UInt32, Float32 }

/// <summary>How a 32-bit value is split over two registers: high word first (ABCD) or low word first (CDAB).</summary>
public enum WordOrder { HighFirst, LowFirst }

/// <summary>The RTU framing rules: CRC-16, request frames, reply lengths and exception names. Pure functions, no I/O.</summary>
public static class ModbusRtu
{
    public const byte ReadHoldingRegisters = 0x03;
    public const byte ReadInputRegisters = 0x04;
    public const byte WriteSingleRegister = 0x06;

    /// <summary>Largest register count a single 03/04 request may ask for (the reply must fit in a 256-byte frame).</summary>
    public const int MaximumRegisters = 125;

    private static readonly ushort[] crcTable = BuildTable();

    private static ushort[] BuildTable()
    {
        var table = new ushort[256];
        for (var i = 0; i < 256; i++)
        {
            var crc = (ushort)i;
            for (var bit = 0; bit < 8; bit++)
            {
                crc = (crc & 1) != 0 ? (ushort)((crc >> 1) ^ 0xA001) : (ushort)(crc >> 1);
            }
            table[i] = crc;
        }
        return table;
    }

    /// <summary>CRC-16/MODBUS (polynomial 0xA001 reflected, initial 0xFFFF). On the wire: low byte first.</summary>
    public static ushort Crc(ReadOnlySpan<byte> data)
    {
        ushort crc = 0xFFFF;
        foreach (var b in data)
        {
            crc = (ushort)((crc >> 8) ^ crcTable[(crc ^ b) & 0xFF]);
        }
        return crc;
    }

    /// <summary>True when the last two bytes are the CRC of the rest.</summary>
    public static bool CrcMatches(ReadOnlySpan<byte> frame) =>
        frame.Length >= 4 && BinaryPrimitives.ReadUInt16LittleEndian(frame[^2..]) == Crc(frame[..^2]);

    /// <summary>Writes an 8-byte read request (function 03 or 04) into <paramref name="into"/>.</summary>
    public static void ReadRequest(byte unit, byte function, ushort address, ushort count, Span<byte> into)
    {
        into[0] = unit;
        into[1] = function;
        BinaryPrimitives.WriteUInt16BigEndian(into[2..], address);
        BinaryPrimitives.WriteUInt16BigEndian(into[4..], count);
        BinaryPrimitives.WriteUInt16LittleEndian(into[6..], Crc(into[..6]));
    }

    /// <summary>Writes an 8-byte function 06 request: one holding register set to <paramref name="value"/>; the reply echoes it.</summary>
    public static void WriteRequest(byte unit, ushort address, ushort value, Span<byte> into) => ReadRequest(unit, WriteSingleRegister, address, value, into);

    /// <summary>Length of a normal reply to a read of <paramref name="registers"/> registers.</summary>
    public static int ReplyLength(int registers) => 5 + 2 * registers;

    /// <summary>Length of an exception reply.</summary>
    public const int ExceptionLength = 5;

    /// <summary>Time one character takes on the line: start bit, 8 data bits, parity bit if any, stop bits.</summary>
    public static TimeSpan CharacterTime(int baud, bool parity, int stopBits) =>
        TimeSpan.FromSeconds((1 + 8 + (parity ? 1 : 0) + stopBits) / (double)baud);

    /// <summary>The silent interval that separates frames: 3.5 characters, fixed at 1.75 ms above 19200 baud (as the RTU rules say).</summary>
    public static TimeSpan FrameGap(int baud, bool parity, int stopBits) =>
        baud > 19200 ? TimeSpan.FromMicroseconds(1750) : CharacterTime(baud, parity, stopBits) * 3.5;

    /// <summary>The exception codes 01-0B by name.</summary>
    public static string ExceptionName(byte code) => code switch
    {
        0x01 => "illegal function",
        0x02 => "illegal data address",
        0x03 => "illegal data value",
        0x04 => "server device failure",
        0x05 => "acknowledge",
        0x06 => "server device busy",
        0x07 => "negative acknowledge",
        0x08 => "memory parity error",
        0x0A => "gateway path unavailable",
        0x0B => "gateway target device failed to respond",
        _ => $"unknown exception 0x{code:X2}",
    };

    /// <summary>Registers a value of <paramref name="type"/> occupies.</summary>
    public static int RegisterCount(RegisterType type) => type is RegisterType.Int16 or RegisterType.UInt16 ? 1 : 2;

    /// <summary>Decodes a value from big-endian register bytes (two bytes per register, as they arrive).</summary>
    public static double Decode(ReadOnlySpan<byte> registers, RegisterType type, WordOrder order)
    {
        switch (type)
        {
            case RegisterType.Int16:
                return BinaryPrimitives.ReadInt16BigEndian(registers);
            case RegisterType.UInt16:
                return BinaryPrimitives.ReadUInt16BigEndian(registers);
        }
        Span<byte> ordered = stackalloc byte[4];
        if (order == WordOrder.HighFirst)
        {
            registers[..4].CopyTo(ordered);
        }
        else
        {
            registers.Slice(2, 2).CopyTo(ordered);
            registers[..2].CopyTo(ordered[2..]);
        }
        return type switch
        {
            RegisterType.Int32 => BinaryPrimitives.ReadInt32BigEndian(ordered),
            RegisterType.UInt32 => BinaryPrimitives.ReadUInt32BigEndian(ordered),
            _ => BinaryPrimitives.ReadSingleBigEndian(ordered),
        };
    }
}
