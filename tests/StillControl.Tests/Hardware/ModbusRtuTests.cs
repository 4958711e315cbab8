using StillControl.Sensors.Modbus;

namespace StillControl.Tests.Hardware;

public class ModbusRtuTests
{
    [Fact]
    public void A_frame_with_its_CRC_appended_low_byte_first_checks_and_any_single_bit_flip_fails()
    {
        var random = new Random(11);
        for (var n = 0; n < 200; n++)
        {
            var frame = new byte[random.Next(2, 40) + 2];
            random.NextBytes(frame.AsSpan(0, frame.Length - 2));
            var crc = ModbusRtu.Crc(frame.AsSpan(0, frame.Length - 2));
            frame[^2] = (byte)crc;
            frame[^1] = (byte)(crc >> 8);
            Assert.True(ModbusRtu.CrcMatches(frame));
            var bit = random.Next(frame.Length * 8);
            frame[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.False(ModbusRtu.CrcMatches(frame));
        }
    }

    [Fact]
    public void Every_defined_exception_code_has_its_own_name()
    {
        byte[] defined = [1, 2, 3, 4, 5, 6, 7, 8, 10, 11];
        var names = defined.Select(ModbusRtu.ExceptionName).ToArray();
        Assert.Equal(defined.Length, names.Distinct().Count());
        Assert.DoesNotContain(names, n => n.StartsWith("unknown", StringComparison.Ordinal));
        Assert.StartsWith("unknown", ModbusRtu.ExceptionName(9));
    }

    [Fact]
    public void The_frame_gap_is_three_and_a_half_characters_up_to_19200_baud_and_fixed_above()
    {
        Assert.Equal(3.5 * 10 / 9600.0, ModbusRtu.FrameGap(9600, parity: false, stopBits: 1).TotalSeconds, 6);
        Assert.Equal(3.5 * 11 / 19200.0, ModbusRtu.FrameGap(19200, parity: true, stopBits: 1).TotalSeconds, 6);
        Assert.Equal(ModbusRtu.FrameGap(38400, false, 1), ModbusRtu.FrameGap(115200, false, 1));
    }
}
