using System.IO.Ports;

namespace StillControl.Sensors.Modbus;

/// <summary>A byte stream with timeouts: the RS-485 line as the Modbus master sees it.</summary>
public interface ISerialLine : IDisposable
{
    string Name { get; }

    void Write(ReadOnlySpan<byte> bytes);

    /// <summary>Bytes received and not read yet.</summary>
    int BytesAvailable { get; }

    /// <summary>Reads what has arrived, waiting up to <paramref name="timeout"/> for the first byte; 0 when nothing came.</summary>
    int Read(Span<byte> into, TimeSpan timeout);
}

/// <summary>Serial line settings of one RS-485 bus.</summary>
public sealed record SerialSettings(string Port, int Baud, Parity Parity, StopBits StopBits)
{
    public bool HasParity => Parity != Parity.None;

    public int StopBitCount => StopBits == StopBits.Two ? 2 : 1;
}

/// <summary>A serial port through System.IO.Ports (a USB RS-485 adapter, the Pi's UART, or a pseudo-terminal in the tests).</summary>
public sealed class SerialPortLine : ISerialLine
{
    private readonly SerialPort port;
    private byte[] buffer = new byte[512];

    public SerialPortLine(SerialSettings settings)
    {
        Name = settings.Port;
        port = new SerialPort(settings.Port, settings.Baud, settings.Parity, 8, settings.StopBits)
        {
            Handshake = Handshake.None,
            ReadBufferSize = 4096,
            WriteBufferSize = 4096,
        };
        port.Open();
        port.DiscardInBuffer();
    }

    public string Name { get; }

    public int BytesAvailable => port.BytesToRead;

    public void Write(ReadOnlySpan<byte> bytes)
    {
        var copy = bytes.Length <= buffer.Length ? buffer : buffer = new byte[bytes.Length];
        bytes.CopyTo(copy);
        port.Write(copy, 0, bytes.Length);
    }

    public int Read(Span<byte> into, TimeSpan timeout)
    {
        port.ReadTimeout = Math.Max(1, (int)Math.Ceiling(timeout.TotalMilliseconds));
        var copy = into.Length <= buffer.Length ? buffer : buffer = new byte[into.Length];
        try
        {
            var n = port.Read(copy, 0, into.Length);
            copy.AsSpan(0, n).CopyTo(into);
            return n;
        }
        catch (TimeoutException)
        {
            return 0;
        }
    }

    public void Dispose() => port.Dispose();
}
