using System.Diagnostics;
using OsProcess = System.Diagnostics.Process;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace StillControl.Plant;

/// <summary>
/// The broker configuration deploy/central ships, run for real: the shipped mosquitto.conf and ACL (only paths and ports
/// moved to a temporary folder and free loopback ports), certificates made by the shipped make-certs.sh. A still reads its
/// command topic but cannot write it, nor another still's topics; the plant reads everything and sends commands; TLS works
/// with the made CA and not with another; and the plant service itself connects over that TLS listener.
/// </summary>
public sealed class CentralBrokerTests : IDisposable
{
    private const string StillPassword = "still-one-secret";
    private const string PlantPassword = "plant-secret";
    private readonly TestFiles files = new();
    private readonly List<OsProcess> processes = [];
    private readonly int plainPort = FreePort.Next();
    private readonly int tlsPort = FreePort.Next();
    private readonly string central = Path.Combine(TestFiles.Repository(), "deploy", "central");
    private string Certs => files.PathOf("certs");

    public CentralBrokerTests()
    {
        try
        {
            var made = Run(Path.Combine(central, "make-certs.sh"), "-o", Certs, "-d", "2", "127.0.0.1", "still-1", "plant");
            Assert.Contains("made the plant CA", made);
            var passwd = files.PathOf("passwd");
            Run("mosquitto_passwd", "-c", "-b", passwd, "still-1", StillPassword);
            Run("mosquitto_passwd", "-b", passwd, "still-2", "still-two-secret");
            Run("mosquitto_passwd", "-b", passwd, "plant", PlantPassword);
            var conf = File.ReadAllText(Path.Combine(central, "mosquitto", "mosquitto.conf"));
            foreach (var (shipped, here) in new[]
                     {
                         ("/mosquitto/config/passwd", passwd), ("/mosquitto/config/acl", Path.Combine(central, "mosquitto", "acl")),
                         ("/mosquitto/certs/", Certs + "/"), ("/mosquitto/data/", files.Folder + "/"),
                         ("listener 1883", $"listener {plainPort} 127.0.0.1"), ("listener 8883", $"listener {tlsPort} 127.0.0.1"),
                     })
            {
                Assert.True(conf.Contains(shipped, StringComparison.Ordinal), $"the shipped mosquitto.conf no longer has '{shipped}'");
                conf = conf.Replace(shipped, here, StringComparison.Ordinal);
            }
            // As root the broker would switch to the mosquitto user, which cannot read this test's files.
            files.Write("mosquitto.conf", "user root\n" + conf);
            var broker = Start("mosquitto", "-c", files.PathOf("mosquitto.conf"));
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (!Listening(plainPort) || !Listening(tlsPort))
            {
                if (broker.HasExited || DateTime.UtcNow > deadline) throw new InvalidOperationException("mosquitto did not start with the shipped configuration");
                Thread.Sleep(50);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private string[] Tls(string user, string password) =>
        ["-h", "127.0.0.1", "-p", tlsPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--cafile", Path.Combine(Certs, "ca.crt"), "-u", user, "-P", password];

    [Fact]
    public async Task A_still_reads_but_never_writes_its_own_command_topic_and_the_plant_reads_everything_over_TLS_with_the_made_CA()
    {
        // The plant watches everything; a still's own state reaching it proves TLS with the made CA on both ends.
        using var plant = new Watcher(Start("mosquitto_sub", [.. Tls("plant", PlantPassword), "-t", "stillcontrol/#", "-v", "-q", "1"]));
        await Until(() => { Publish("still-1", StillPassword, "stillcontrol/plant/still-1/state", "ready"); return plant.Has("stillcontrol/plant/still-1/state ready"); });

        // The still reads its command topic, and the plant may write it.
        using var commands = new Watcher(Start("mosquitto_sub", [.. Tls("still-1", StillPassword), "-t", "stillcontrol/plant/still-1/command", "-v", "-q", "1"]));
        await Until(() => { Publish("plant", PlantPassword, "stillcontrol/plant/still-1/command", """{"command":"hold"}"""); return commands.Has("""stillcontrol/plant/still-1/command {"command":"hold"}"""); });

        // The still cannot write its own command topic, nor another still's topics: the broker drops those, and what it sent
        // after them arrives (so their absence is not a matter of waiting longer).
        Publish("still-1", StillPassword, "stillcontrol/plant/still-1/command", """{"command":"resume","id":"forged"}""");
        Publish("still-1", StillPassword, "stillcontrol/plant/still-2/state", "impersonated");
        Publish("still-1", StillPassword, "stillcontrol/plant/still-1/state", "marker");
        await Until(() => plant.Has("stillcontrol/plant/still-1/state marker"));
        Assert.DoesNotContain("forged", plant.Text);
        Assert.DoesNotContain("forged", commands.Text);
        Assert.DoesNotContain("impersonated", plant.Text);
        // What a still may publish of its own does arrive.
        Publish("still-1", StillPassword, "stillcontrol/plant/still-1/command/result", "answered");
        await Until(() => plant.Has("stillcontrol/plant/still-1/command/result answered"));

        // The client certificate the script made is accepted; a broker certificate from another CA is not trusted, and
        // plain MQTT on the TLS port gets nowhere.
        Run("mosquitto_pub", [.. Tls("still-1", StillPassword), "--cert", Path.Combine(Certs, "still-1.crt"), "--key", Path.Combine(Certs, "still-1.key"), "-t", "stillcontrol/plant/still-1/state", "-m", "with-certificate", "-q", "1"]);
        await Until(() => plant.Has("stillcontrol/plant/still-1/state with-certificate"));
        Run(Path.Combine(central, "make-certs.sh"), "-o", files.PathOf("other"), "-d", "2", "127.0.0.1");
        var untrusted = RunExit("mosquitto_pub", "-h", "127.0.0.1", "-p", tlsPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--cafile", files.PathOf("other/ca.crt"),
            "-u", "still-1", "-P", StillPassword, "-t", "stillcontrol/plant/still-1/state", "-m", "untrusted", "-q", "1");
        Assert.NotEqual(0, untrusted.Exit);
        var plain = RunExit("mosquitto_pub", "-h", "127.0.0.1", "-p", tlsPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-u", "still-1", "-P", StillPassword, "-t", "stillcontrol/plant/still-1/state", "-m", "plaintext", "-q", "1");
        Assert.NotEqual(0, plain.Exit);
        // No anonymous access on either listener.
        Assert.NotEqual(0, RunExit("mosquitto_pub", "-h", "127.0.0.1", "-p", plainPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "-t", "stillcontrol/x/y/state", "-m", "anon", "-q", "1").Exit);
        Publish("still-1", StillPassword, "stillcontrol/plant/still-1/state", "marker-2");
        await Until(() => plant.Has("stillcontrol/plant/still-1/state marker-2"));
        Assert.DoesNotContain("untrusted", plant.Text);
        Assert.DoesNotContain("plaintext", plant.Text);
        Assert.DoesNotContain("anon", plant.Text);
    }

    [Fact]
    public async Task The_plant_service_connects_over_the_TLS_listener_with_the_made_CA_and_sees_the_still()
    {
        var port = FreePort.Next();
        var overrides = new Dictionary<string, string?>
        {
            ["Mqtt:Host"] = "127.0.0.1",
            ["Mqtt:Port"] = tlsPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Mqtt:Tls"] = "true",
            ["Mqtt:CaFile"] = Path.Combine(Certs, "ca.crt"),
            ["Mqtt:ClientCertificateFile"] = Path.Combine(Certs, "plant.crt"),
            ["Mqtt:ClientKeyFile"] = Path.Combine(Certs, "plant.key"),
            ["Mqtt:Username"] = "plant",
            ["Mqtt:Password"] = PlantPassword,
            ["Panel:Urls"] = $"http://127.0.0.1:{port}",
            ["Panel:UsersFile"] = files.PathOf("users.json"),
        };
        Assert.Empty(PlantHost.Problems(new ConfigurationBuilder().AddInMemoryCollection(overrides).Build()));
        await using var app = PlantHost.Build(overrides, LogLevel.Warning);
        await app.StartAsync();
        try
        {
            var registry = app.Services.GetRequiredService<StillRegistry>();
            var link = app.Services.GetRequiredService<PlantLink>();
            await Until(() =>
            {
                Publish("still-1", StillPassword, "stillcontrol/plant/still-1/availability", "online");
                return registry.Find("plant", "still-1") is { Online: true };
            });
            Assert.True(link.Connected, link.LastError);
        }
        finally
        {
            await app.StopAsync();
        }
    }

    private void Publish(string user, string password, string topic, string payload) =>
        Run("mosquitto_pub", [.. Tls(user, password), "-t", topic, "-m", payload, "-q", "1"]);

    private static async Task Until(Func<bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!done())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not come true within 20 s");
            await Task.Delay(200);
        }
    }

    private static bool Listening(int port)
    {
        try
        {
            using var probe = new TcpClient();
            probe.Connect("127.0.0.1", port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private OsProcess Start(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        var process = OsProcess.Start(info)!;
        processes.Add(process);
        return process;
    }

    private static string Run(string file, params string[] args)
    {
        var (exit, output) = RunExit(file, args);
        if (exit != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({exit}): {output}");
        return output;
    }

    private static (int Exit, string Output) RunExit(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        using var process = OsProcess.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(30_000))
        {
            process.Kill(entireProcessTree: true);
            return (-1, "timed out");
        }
        return (process.ExitCode, output.Result + error.Result);
    }

    public void Dispose()
    {
        foreach (var process in processes)
        {
            try
            {
                if (!process.HasExited) process.Kill(entireProcessTree: true);
                process.WaitForExit(5000);
            }
            catch (InvalidOperationException)
            {
            }
            process.Dispose();
        }
        files.Dispose();
    }

    /// <summary>A mosquitto_sub's output lines, collected as they come.</summary>
    private sealed class Watcher : IDisposable
    {
        private readonly OsProcess process;
        private readonly StringBuilder lines = new();

        public Watcher(OsProcess process)
        {
            this.process = process;
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (lines) lines.AppendLine(e.Data); };
            process.BeginOutputReadLine();
        }

        public string Text { get { lock (lines) return lines.ToString(); } }

        public bool Has(string line) => Text.Split('\n').Any(l => l.TrimEnd('\r') == line);

        public void Dispose()
        {
            if (!process.HasExited) process.Kill();
        }
    }
}
