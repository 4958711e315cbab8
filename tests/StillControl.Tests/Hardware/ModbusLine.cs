using System.Diagnostics;

namespace StillControl.Tests.Hardware;

/// <summary>
/// A real serial line for the Modbus tests: two socat pseudo-terminal pairs joined by rs485_line.py (which gives bytes their
/// wire time and can damage frames like a second writer), with pymodbus (an independent implementation, checking CRCs) as the
/// slave at the far end. The master opens <see cref="MasterPort"/> through System.IO.Ports like any serial adapter.
/// </summary>
public sealed class ModbusLine : IDisposable
{
    private readonly TestFiles files = new();
    private readonly List<System.Diagnostics.Process> processes = [];
    private System.Diagnostics.Process line;
    private System.Diagnostics.Process masterPair;
    private readonly string lineMaster;
    private readonly string lineSlave;
    private System.Diagnostics.Process? slave;

    private readonly int units;

    public ModbusLine(int baud = 9600, int units = 2)
    {
        Baud = baud;
        this.units = units;
        MasterPort = files.PathOf("master");
        lineMaster = files.PathOf("line-master");
        lineSlave = files.PathOf("line-slave");
        SlavePort = files.PathOf("slave");
        // A constructor that throws is never disposed: whatever it started is stopped here before the failure goes on.
        try
        {
            masterPair = Socat(MasterPort, lineMaster);
            Socat(lineSlave, SlavePort);
            line = Python("rs485_line.py", lineMaster, lineSlave, $"{baud}");
            WaitFor(line, "line ready");
            StartSlave();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string MasterPort { get; }

    public string SlavePort { get; }

    public int Baud { get; }

    public static string Script(string name) => Path.Combine(AppContext.BaseDirectory, "Hardware", name);

    public void StartSlave()
    {
        slave = Python("modbus_slave.py", SlavePort, $"{Baud}", $"{units}");
        WaitFor(slave, "slave ready");
        WaitForSlave();
    }

    /// <summary>Returns once unit 1 answers through the whole line (relay and both pseudo-terminal pairs).</summary>
    public void WaitForSlave()
    {
        // pymodbus opens its port only after it says ready: ask unit 1 for a register until it answers (a fixed sleep was a
        // race on a loaded machine). The request is written out by hand so the check does not lean on the master under test.
        byte[] request = [0x01, 0x03, 0x00, 0x00, 0x00, 0x01, 0x84, 0x0A];
        using var port = new System.IO.Ports.SerialPort(MasterPort, Baud) { ReadTimeout = 300 };
        port.Open();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        // Every poll the slave takes gets one reply, late or not: on a loaded machine a poll that timed out is answered after a
        // later one, and a reply still on its way when the test starts would take the damage the test meant for its own frame
        // (seen in CI: a "garbage" test read a clean reply). So once any poll has gone unanswered, the line is read until it
        // has been silent for 2 s after the answer; when the first poll is answered, 50 ms of silence will do.
        var polls = 0;
        var answered = false;
        var reply = new byte[7];
        while (!answered && DateTime.UtcNow < deadline)
        {
            port.DiscardInBuffer();
            port.Write(request, 0, request.Length);
            polls++;
            var got = 0;
            try
            {
                while (got < reply.Length) got += port.Read(reply, got, reply.Length - got);
            }
            catch (TimeoutException)
            {
            }
            answered = got == reply.Length && reply[0] == 0x01 && reply[1] == 0x03 && reply[2] == 0x02;
            if (!answered) Thread.Sleep(100);
        }
        if (!answered) throw new InvalidOperationException($"the pymodbus slave on {SlavePort} never answered unit 1");
        port.ReadTimeout = polls > 1 ? 2000 : 50;
        var buffer = new byte[64];
        try
        {
            var stopReading = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (DateTime.UtcNow < stopReading) port.Read(buffer, 0, buffer.Length);
        }
        catch (TimeoutException)
        {
        }
    }

    public void StopSlave()
    {
        if (slave is { HasExited: false })
        {
            slave.Kill(entireProcessTree: true);
            slave.WaitForExit();
        }
    }

    /// <summary>Sends a command to the line (corrupt, wrong-unit, truncate, garbage, prefix N, noise N, drop) and waits for its ok.</summary>
    public void Command(string command)
    {
        line.StandardInput.WriteLine(command);
        line.StandardInput.Flush();
        WaitFor(line, "ok " + command);
    }

    /// <summary>
    /// The USB RS-485 adapter pulled out: the master's pseudo-terminal pair and the relay behind it go away, and the port's
    /// name with them. <see cref="Replug"/> puts a new one back under the same name, as udev does with /dev/rs485.
    /// </summary>
    public void Unplug()
    {
        foreach (var process in new[] { line, masterPair })
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (File.Exists(MasterPort) && DateTime.UtcNow < deadline) Thread.Sleep(20);
    }

    public void Replug()
    {
        masterPair = Socat(MasterPort, lineMaster);
        line = Python("rs485_line.py", lineMaster, lineSlave, $"{Baud}");
        WaitFor(line, "line ready");
    }

    private System.Diagnostics.Process Socat(string a, string b)
    {
        var socat = Start("socat", $"pty,raw,echo=0,link={a}", $"pty,raw,echo=0,link={b}");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!(File.Exists(a) && File.Exists(b)))
        {
            if (socat.HasExited || DateTime.UtcNow > deadline) throw new InvalidOperationException($"socat did not make {a} and {b}: {socat.StandardError.ReadToEnd()}");
            Thread.Sleep(20);
        }
        return socat;
    }

    private System.Diagnostics.Process Python(string script, params string[] args) => Start("/usr/bin/python3", [Script(script), .. args]);

    private System.Diagnostics.Process Start(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        var process = System.Diagnostics.Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        processes.Add(process);
        return process;
    }

    private static void WaitFor(System.Diagnostics.Process process, string text)
    {
        var read = Task.Run(() =>
        {
            while (process.StandardOutput.ReadLine() is { } got)
            {
                if (got == text) return true;
            }
            return false;
        });
        if (!read.Wait(TimeSpan.FromSeconds(15)) || !read.Result)
        {
            throw new InvalidOperationException($"no '{text}' from {process.StartInfo.FileName} {string.Join(' ', process.StartInfo.ArgumentList)}" +
                (process.HasExited ? $": exited {process.ExitCode}: {process.StandardError.ReadToEnd()}" : ""));
        }
    }

    public void Dispose()
    {
        foreach (var process in processes)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    process.WaitForExit(5000);
                }
            }
            catch (InvalidOperationException)
            {
            }
            process.Dispose();
        }
        files.Dispose();
    }
}
