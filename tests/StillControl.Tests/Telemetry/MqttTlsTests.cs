using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StillControl.Cli;

namespace StillControl.Telemetry;

/// <summary>TLS to a real Mosquitto that trusts only the plant's CA and requires a client certificate.</summary>
public class MqttTlsTests
{
    private static void OpenSsl(string folder, params string[] args)
    {
        using var p = System.Diagnostics.Process.Start(new ProcessStartInfo("openssl", args) { WorkingDirectory = folder, RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false })!;
        var output = p.StandardError.ReadToEnd() + p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"openssl {string.Join(' ', args)}: {output}");
    }

    private static void Certificate(string folder, string name, string subject, string? ca, bool server)
    {
        OpenSsl(folder, "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", $"{name}.key", "-subj", subject, "-out", $"{name}.csr");
        var extensions = Path.Combine(folder, $"{name}.ext");
        File.WriteAllText(extensions, server ? "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n" : "extendedKeyUsage=clientAuth\n");
        OpenSsl(folder, "x509", "-req", "-in", $"{name}.csr", "-CA", $"{ca}.crt", "-CAkey", $"{ca}.key", "-CAcreateserial", "-days", "2", "-sha256", "-extfile", extensions, "-out", $"{name}.crt");
    }

    [Fact]
    public async Task The_service_connects_over_TLS_with_the_plant_CA_and_its_client_certificate_and_says_why_it_cannot_without()
    {
        using var files = new TestFiles();
        var folder = files.Folder;
        foreach (var ca in new[] { "ca", "other-ca" })
        {
            OpenSsl(folder, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", $"{ca}.key", "-out", $"{ca}.crt", "-days", "2", "-subj", $"/CN=StillControl test {ca}");
        }
        Certificate(folder, "server", "/CN=127.0.0.1", "ca", server: true);
        Certificate(folder, "still", "/CN=still-1", "ca", server: false);
        var port = FreePort.Next();
        files.Write("mosquitto.conf", $"""
            user root
            persistence false
            listener {port} 127.0.0.1
            allow_anonymous true
            cafile {files.PathOf("ca.crt")}
            certfile {files.PathOf("server.crt")}
            keyfile {files.PathOf("server.key")}
            require_certificate true
            """);
        using var broker = System.Diagnostics.Process.Start(new ProcessStartInfo("mosquitto", ["-c", files.PathOf("mosquitto.conf")]) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false })!;
        broker.BeginErrorReadLine();
        broker.BeginOutputReadLine();
        await Task.Delay(500);
        try
        {
            async Task<string> Run(string name, string mqtt)
            {
                var config = files.Write($"{name}.json", $$"""{ "Mqtt": { "Enabled": true, "Host": "127.0.0.1", "Port": {{port}}, "Tls": true, {{mqtt}} } }""");
                using var service = StillControlProcess.Start(folder, "run", "--config", config, "--journal", files.PathOf($"{name}.db"));
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(45);
                while (DateTime.UtcNow < deadline && !service.Error.Contains("MQTT connected") && !service.Error.Contains("MQTT connection to")) await Task.Delay(100);
                service.Terminate();
                await service.WaitAsync(TimeSpan.FromSeconds(30));
                return service.Error;
            }

            var good = await Run("good", $$"""
                "CaFile": "{{files.PathOf("ca.crt")}}", "ClientCertificateFile": "{{files.PathOf("still.crt")}}", "ClientKeyFile": "{{files.PathOf("still.key")}}"
                """);
            Assert.Contains("MQTT connected to 127.0.0.1", good);

            var noCertificate = await Run("no-certificate", $$"""
                "CaFile": "{{files.PathOf("ca.crt")}}"
                """);
            Assert.DoesNotContain("MQTT connected", noCertificate);
            Assert.Contains("MQTT connection to 127.0.0.1 failed", noCertificate);

            var wrongCa = await Run("wrong-ca", $$"""
                "CaFile": "{{files.PathOf("other-ca.crt")}}", "ClientCertificateFile": "{{files.PathOf("still.crt")}}", "ClientKeyFile": "{{files.PathOf("still.key")}}"
                """);
            Assert.DoesNotContain("MQTT connected", wrongCa);
            Assert.Contains("MQTT connection to 127.0.0.1 failed", wrongCa);
        }
        finally
        {
            broker.Kill();
        }
    }
}
