using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;

namespace StillControl.Hosting;

/// <summary>The shipped systemd unit and reference configuration, checked by systemd's own analyser and by the schema.</summary>
public class DeploymentTests
{
    private static string Deploy(string name) => Path.Combine(TestFiles.Repository(), "deploy", name);

    [Fact]
    public void The_unit_does_not_restart_a_configuration_error_and_systemd_rates_its_exposure_low()
    {
        var unit = File.ReadAllText(Deploy("stillcontrol.service"));
        Assert.Matches(new Regex(@"^RestartPreventExitStatus=2 4$", RegexOptions.Multiline), unit);
        foreach (var setting in new[] { "SystemCallFilter=", "ProtectProc=", "DeviceAllow=", "IPAddressAllow=", "DevicePolicy=closed" })
        {
            Assert.Contains(setting, unit);
        }
        var info = new ProcessStartInfo("systemd-analyze", ["security", "--offline=true", Deploy("stillcontrol.service")]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var analyse = System.Diagnostics.Process.Start(info)!;
        var output = analyse.StandardOutput.ReadToEnd() + analyse.StandardError.ReadToEnd();
        analyse.WaitForExit();
        var match = Regex.Match(output, @"Overall exposure level for stillcontrol\.service: ([0-9.]+)");
        Assert.True(match.Success, output);
        var exposure = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        // 4.0 before the hardening of the issue that asked for it; 10 is a service with no sandbox at all.
        Assert.InRange(exposure, 0, 2.5);
    }

    [Fact]
    public void The_reference_configuration_speaks_TLS_allows_no_steam_opening_command_remotely_and_has_no_unknown_key()
    {
        var configuration = new ConfigurationBuilder().AddJsonFile(Deploy("stillcontrol.json")).Build();
        Assert.Empty(ConfigurationSchema.Check(configuration));
        Assert.Equal("8883", configuration["Mqtt:Port"]);
        Assert.Equal("True", configuration["Mqtt:Tls"], ignoreCase: true);
        var remote = configuration.GetSection("Mqtt:RemoteCommands").GetChildren().Select(c => c.Value).ToList();
        Assert.Equal(["hold", "abort", "ack"], remote);
    }
}
