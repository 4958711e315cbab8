using System.Diagnostics;

namespace StillControl.Tests.Hardware;

/// <summary>
/// A 1-Wire sysfs tree as the w1-gpio and w1-therm kernel modules lay it out, mounted over /sys/bus and /sys/devices in a
/// private mount namespace (<c>unshare -m</c>, as root) around a child <c>stillcontrol</c>, so the real Iot.Device.Bindings
/// code reads it. /sys/devices/system is bound back in for the .NET runtime. The files can change while the child runs.
/// </summary>
public sealed class FakeSysfs : IDisposable
{
    public const string Bus = "w1_bus_master1";
    private readonly TestFiles files = new();
    private readonly List<string> devices = [];

    public FakeSysfs()
    {
        Directory.CreateDirectory(Path.Combine(Root, "bus", "w1", "devices"));
        Directory.CreateDirectory(Path.Combine(Root, "devices", "system"));
        Directory.CreateDirectory(Path.Combine(Root, "devices", Bus));
        File.CreateSymbolicLink(Path.Combine(Root, "bus", "w1", "devices", Bus), $"/sys/devices/{Bus}");
        WriteSlaves();
    }

    public string Root => Path.Combine(files.Folder, "sys");

    public TestFiles Files => files;

    /// <summary>What w1-therm shows for a good conversion: scratchpad bytes, the CRC verdict, and t= in milli-°C.</summary>
    public static string Slave(double celsius, bool crcOk = true)
    {
        var raw = (short)Math.Round(celsius * 16);
        var scratchpad = $"{raw & 0xFF:x2} {(raw >> 8) & 0xFF:x2} 4b 46 7f ff 0c 10 1c";
        return $"{scratchpad} : crc=1c {(crcOk ? "YES" : "NO")}\n{scratchpad} t={(int)Math.Round(celsius * 1000)}\n";
    }

    public const string BlankScratchpad = "00 00 00 00 00 00 00 00 00 : crc=00 YES\n00 00 00 00 00 00 00 00 00 t=0\n";

    public void Set(string id, string w1Slave)
    {
        var folder = Path.Combine(Root, "devices", Bus, id);
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "w1_slave"), w1Slave);
        if (!devices.Contains(id))
        {
            devices.Add(id);
            File.CreateSymbolicLink(Path.Combine(Root, "bus", "w1", "devices", id), $"/sys/devices/{Bus}/{id}");
            WriteSlaves();
        }
    }

    /// <summary>The device leaves the bus: the kernel drops its folder and its line in w1_master_slaves.</summary>
    public void Remove(string id)
    {
        devices.Remove(id);
        WriteSlaves();
        File.Delete(Path.Combine(Root, "bus", "w1", "devices", id));
        Directory.Delete(Path.Combine(Root, "devices", Bus, id), recursive: true);
    }

    private void WriteSlaves() =>
        File.WriteAllText(Path.Combine(Root, "devices", Bus, "w1_master_slaves"), devices.Count == 0 ? "not found.\n" : string.Join("\n", devices) + "\n");

    /// <summary>Starts <c>stillcontrol ARGS</c> inside the namespace with this tree mounted.</summary>
    public System.Diagnostics.Process Start(params string[] args) => StartDotnet(Path.Combine(AppContext.BaseDirectory, "stillcontrol.dll"), args);

    /// <summary>Starts <c>dotnet ASSEMBLY ARGS</c> inside the namespace with this tree mounted (the benchmark runs itself so).</summary>
    public System.Diagnostics.Process StartDotnet(string assembly, params string[] args)
    {
        if (Environment.UserName != "root")
        {
            throw new InvalidOperationException("a fake sysfs is mounted in a private mount namespace: run as root (CI does)");
        }
        var info = new ProcessStartInfo("unshare") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "-m", "--propagation", "private", "--", "sh", "-c",
            "mount --bind /sys/devices/system \"$0/devices/system\" && mount --rbind \"$0/devices\" /sys/devices && mount --bind \"$0/bus\" /sys/bus && exec \"$@\"",
            Root, "dotnet", assembly })
        {
            info.ArgumentList.Add(arg);
        }
        foreach (var arg in args) info.ArgumentList.Add(arg);
        return System.Diagnostics.Process.Start(info)!;
    }

    public void Dispose() => files.Dispose();
}
