using System.Buffers;
using System.Text;
using System.Text.Json;

namespace StillControl.Journal;

/// <summary>The journal's own number formatting writes exactly what the JSON writer would, or declines.</summary>
public sealed class FourDecimalsTests
{
    private static string Writer(double value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer)) json.WriteNumberValue(value);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static string? Ours(double value)
    {
        var into = new byte[FourDecimals.MaximumLength];
        return FourDecimals.TryFormat(value, into, out var written) ? Encoding.UTF8.GetString(into, 0, written) : null;
    }

    [Theory]
    [InlineData(0.0, "0")]
    [InlineData(85.0, "85")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(-0.0001, "-0.0001")]
    [InlineData(29.3, "29.3")]
    [InlineData(-12.05, "-12.05")]
    [InlineData(101.325, "101.325")]
    [InlineData(99999999999.9999, "99999999999.9999")]
    public void Known_values_read_as_the_writer_writes_them(double value, string text)
    {
        Assert.Equal(text, Writer(value));
        Assert.Equal(text, Ours(value));
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(-0.0)]
    [InlineData(1e11)]
    [InlineData(-3e15)]
    [InlineData(0.00001)]
    [InlineData(1.23456)]
    public void What_it_does_not_cover_is_declined(double value) => Assert.Null(Ours(value));

    [Fact]
    public void Every_value_rounded_to_four_decimals_is_written_as_the_writer_writes_it()
    {
        var random = new Random(20261130);
        var checkedValues = 0;
        for (var i = 0; i < 200_000; i++)
        {
            // Magnitudes from thousandths to tens of billions, both signs, and the readings' own range most often.
            var magnitude = Math.Pow(10, random.Next(-4, 11));
            var value = Math.Round((random.NextDouble() * 2 - 1) * (i % 3 == 0 ? 200 : magnitude), 4);
            if (value == 0 && double.IsNegative(value)) continue;
            var ours = Ours(value);
            Assert.NotNull(ours);
            Assert.True(Writer(value) == ours, $"{value:R}: writer {Writer(value)}, ours {ours}");
            checkedValues++;
        }
        Assert.True(checkedValues > 190_000);
    }
}
