using System.Device.Gpio;
using System.Device.I2c;
using System.Device.Pwm;
using System.Device.Spi;
using StillControl.Sensors.Modbus;

namespace StillControl.Sensors;

/// <summary>Where the Pi layer gets its buses and pins. The tests give it a GpioDriver subclass and emulated chips; the Pi gives it the kernel's.</summary>
public interface IPiDevices : IDisposable
{
    GpioController Gpio { get; }

    SpiDevice OpenSpi(int bus, int chipSelect);

    I2cDevice OpenI2c(int bus, int address);

    PwmChannel OpenPwm(int chip, int channel, int frequency);

    ISerialLine OpenSerial(SerialSettings settings);
}

/// <summary>A device that is not there, named by the file the kernel would have made for it.</summary>
public sealed class MissingDeviceException(string message) : IOException(message);

/// <summary>The Raspberry Pi's own devices: libgpiod GPIO, spidev, i2c-dev, sysfs PWM and serial ports.</summary>
public sealed class PiDevices : IPiDevices
{
    private GpioController? gpio;

    public GpioController Gpio => gpio ??= OpenGpio();

    private static GpioController OpenGpio()
    {
        if (!Directory.EnumerateFileSystemEntries("/dev", "gpiochip*").Any())
        {
            throw new MissingDeviceException("no /dev/gpiochip*: this is not a Pi, or the GPIO driver is not loaded");
        }
        return new GpioController();
    }

    public SpiDevice OpenSpi(int bus, int chipSelect)
    {
        Require($"/dev/spidev{bus}.{chipSelect}", "dtparam=spi=on in config.txt (see firmware-config)");
        return SpiDevice.Create(new SpiConnectionSettings(bus, chipSelect)
        {
            Mode = Iot.Device.Max31865.Max31865.SpiMode1,
            ClockFrequency = Iot.Device.Max31865.Max31865.SpiClockFrequency,
            DataFlow = Iot.Device.Max31865.Max31865.SpiDataFlow,
        });
    }

    public I2cDevice OpenI2c(int bus, int address)
    {
        Require($"/dev/i2c-{bus}", "dtparam=i2c_arm=on in config.txt (see firmware-config)");
        return I2cDevice.Create(new I2cConnectionSettings(bus, address));
    }

    public PwmChannel OpenPwm(int chip, int channel, int frequency)
    {
        Require($"/sys/class/pwm/pwmchip{chip}", "dtoverlay=pwm-2chan in config.txt (see firmware-config)");
        return PwmChannel.Create(chip, channel, frequency, 0);
    }

    public ISerialLine OpenSerial(SerialSettings settings)
    {
        Require(settings.Port, "the udev rule in firmware-config names the RS-485 adapter /dev/rs485");
        return new SerialPortLine(settings);
    }

    private static void Require(string path, string hint)
    {
        if (!File.Exists(path) && !Directory.Exists(path))
        {
            throw new MissingDeviceException($"{path} does not exist ({hint})");
        }
    }

    public void Dispose() => gpio?.Dispose();
}
