using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Configuration;

namespace StillControl.History;

/// <summary>
/// The central compose file cannot run here (no Docker), so its wiring is checked as data: every file it mounts exists,
/// Grafana's providers point at the mounted dashboard folders, and each dashboard's datasource is one that is provisioned.
/// YAML is read by Python's yaml (python3-yaml), not by our code.
/// </summary>
public class CentralComposeTests
{
    private static JsonElement Yaml(string path)
    {
        var info = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1], encoding='utf-8')), sys.stdout)");
        info.ArgumentList.Add(path);
        using var process = System.Diagnostics.Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{path}: {error}");
        return JsonDocument.Parse(output).RootElement.Clone();
    }

    [Fact]
    public void The_compose_file_mounts_what_exists_and_provisions_the_datasources_the_dashboards_use()
    {
        var central = Path.Combine(TestFiles.Repository(), "deploy", "central");
        var compose = Yaml(Path.Combine(central, "compose.yaml"));
        var services = compose.GetProperty("services");
        foreach (var name in new[] { "mosquitto", "influxdb", "grafana", "victoriametrics", "plant" }) Assert.True(services.TryGetProperty(name, out _), name);

        var grafanaMounts = new Dictionary<string, string>();
        foreach (var service in services.EnumerateObject())
        {
            if (!service.Value.TryGetProperty("volumes", out var volumes)) continue;
            foreach (var volume in volumes.EnumerateArray().Select(v => v.GetString()!))
            {
                var parts = volume.Split(':');
                if (!parts[0].StartsWith('.')) continue;
                var source = Path.GetFullPath(Path.Combine(central, parts[0]));
                Assert.True(File.Exists(source) || Directory.Exists(source), $"{service.Name} mounts {parts[0]}, which does not exist");
                if (service.Name == "grafana") grafanaMounts[parts[1]] = source;
            }
        }

        var providers = Yaml(Path.Combine(central, "grafana", "provisioning", "dashboards", "stillcontrol.yaml")).GetProperty("providers");
        var dashboards = new List<string>();
        foreach (var provider in providers.EnumerateArray())
        {
            var path = provider.GetProperty("options").GetProperty("path").GetString()!;
            var mount = grafanaMounts.Single(m => path.StartsWith(m.Key, StringComparison.Ordinal));
            var folder = Path.Combine(mount.Value, path[mount.Key.Length..].TrimStart('/'));
            var files = Directory.GetFiles(folder, "*.json");
            Assert.Equal(2, files.Length);
            dashboards.AddRange(files);
        }
        Assert.Equal(4, dashboards.Count);

        var datasources = Yaml(Path.Combine(central, "grafana", "provisioning", "datasources", "stillcontrol.yaml")).GetProperty("datasources")
            .EnumerateArray().ToDictionary(d => d.GetProperty("uid").GetString()!, d => d.GetProperty("type").GetString()!);
        foreach (var file in dashboards)
        {
            using var dashboard = JsonDocument.Parse(File.ReadAllText(file));
            foreach (var panel in dashboard.RootElement.GetProperty("panels").EnumerateArray())
            {
                var source = panel.GetProperty("datasource");
                var uid = source.GetProperty("uid").GetString()!;
                Assert.True(datasources.TryGetValue(uid, out var type), $"{Path.GetFileName(file)}: datasource {uid} is not provisioned");
                Assert.Equal(type, source.GetProperty("type").GetString());
            }
        }
        // The stills' secrets and the database passwords come from .env, which is never in the repository.
        Assert.False(File.Exists(Path.Combine(central, ".env")));
        Assert.Contains(".env", File.ReadAllText(Path.Combine(TestFiles.Repository(), ".gitignore")));
    }

    [Fact]
    public void The_plant_runs_beside_the_broker_from_this_repository_with_a_configuration_the_plant_accepts_and_the_broker_speaks_TLS_outside()
    {
        var central = Path.Combine(TestFiles.Repository(), "deploy", "central");
        var services = Yaml(Path.Combine(central, "compose.yaml")).GetProperty("services");
        var plant = services.GetProperty("plant");
        var build = plant.GetProperty("build");
        var context = Path.GetFullPath(Path.Combine(central, build.GetProperty("context").GetString()!));
        Assert.True(File.Exists(Path.Combine(context, "StillControl.sln")), $"the plant's build context {context} is not the repository");
        var dockerfile = File.ReadAllText(Path.Combine(context, build.GetProperty("dockerfile").GetString()!));
        Assert.Contains("dotnet publish src/StillControl", dockerfile);
        Assert.Contains("\"plant\", \"--config\", \"/etc/stillcontrol/plant.json\"", dockerfile);
        Assert.Contains(plant.GetProperty("depends_on").EnumerateArray(), d => d.GetString() == "mosquitto");
        // Only STILLCONTROL_ variables reach the program; the password comes from .env.
        foreach (var variable in plant.GetProperty("environment").EnumerateObject()) Assert.StartsWith("STILLCONTROL_", variable.Name);
        Assert.Contains("PLANT_MQTT_PASSWORD", File.ReadAllText(Path.Combine(central, ".env.example")));

        // The configuration it mounts passes the plant's own check, and points at the broker service and the ports published.
        var mount = plant.GetProperty("volumes").EnumerateArray().Select(v => v.GetString()!).Single(v => v.EndsWith(":/etc/stillcontrol/plant.json:ro", StringComparison.Ordinal));
        var configuration = new Microsoft.Extensions.Configuration.ConfigurationBuilder().AddJsonFile(Path.GetFullPath(Path.Combine(central, mount.Split(':')[0]))).Build();
        Assert.Empty(StillControl.Plant.PlantHost.Problems(configuration));
        Assert.Equal("mosquitto", configuration["Mqtt:Host"]);
        Assert.Equal("plant", configuration["Mqtt:Username"]);
        var boardPort = new Uri(configuration["Panel:Urls"]!).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains(plant.GetProperty("ports").EnumerateArray(), p => p.GetString() == $"{boardPort}:{boardPort}");
        // The stills reach the broker over TLS only; the plain listener stays inside the compose network.
        var brokerPorts = services.GetProperty("mosquitto").GetProperty("ports").EnumerateArray().Select(p => p.GetString()).ToList();
        Assert.Equal(["8883:8883"], brokerPorts);
        var conf = File.ReadAllText(Path.Combine(central, "mosquitto", "mosquitto.conf"));
        Assert.Contains("use_username_as_clientid true", conf);
        Assert.Contains("allow_anonymous false", conf);
        Assert.Contains("listener 8883", conf);
        Assert.True(Directory.Exists(Path.Combine(central, "certs")));
    }
}
