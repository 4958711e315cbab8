using StillControl.Cli;

namespace StillControl.Plant;

/// <summary>`stillcontrol plant`'s bad input, checked like `run`'s: exit 2 naming the key or option, the value and what is accepted.</summary>
public class PlantCommandTests
{
    [Theory]
    [InlineData("""{ "Plant": { "SilentAfterSecs": 30 } }""", "Plant:SilentAfterSecs: unknown key 'SilentAfterSecs' under Plant; accepted: SilentAfterSeconds")]
    [InlineData("""{ "Plant": { "SilentAfterSeconds": "soon" } }""", "Plant:SilentAfterSeconds = \"soon\": a whole number")]
    [InlineData("""{ "Plant": { "SilentAfterSeconds": 1 } }""", "Plant:SilentAfterSeconds = 1: 2 to 86400")]
    [InlineData("""{ "Mqtt": { "Hots": "broker" } }""", "Mqtt:Hots: unknown key 'Hots' under Mqtt")]
    [InlineData("""{ "Mqtt": { "Port": "abc" } }""", "Mqtt:Port = \"abc\": a whole number")]
    [InlineData("""{ "Still": { "Name": "s1" } }""", "Still:Name: unknown section 'Still'; accepted: Plant, Mqtt, Panel")]
    [InlineData("""{ "Panel": { "Urls": "ftp://x:1" } }""", "Panel:Urls contains \"ftp://x:1\"")]
    public async Task A_bad_configuration_is_exit_2_naming_the_key_the_value_and_what_is_accepted(string json, string expected)
    {
        using var files = new TestFiles();
        var config = files.Write("plant.json", json);
        var (exit, _, error) = await InProcess.Run("plant", "--config", config);
        Assert.Equal(2, exit);
        Assert.Contains(expected, error);
        Assert.DoesNotContain("   at ", error);
    }

    [Theory]
    [InlineData(new[] { "--mqtt", "broker:abc" }, "plant: --mqtt = 'broker:abc': HOST or HOST:PORT with PORT 1 to 65535")]
    [InlineData(new[] { "--mqtt", ":1883" }, "plant: --mqtt = ':1883': HOST or HOST:PORT")]
    [InlineData(new[] { "--panel", "eighty" }, "plant: --panel = 'eighty': PORT or HOST:PORT with PORT 1 to 65535")]
    [InlineData(new[] { "--panel", "127.0.0.1:70000" }, "plant: --panel = '127.0.0.1:70000'")]
    [InlineData(new[] { "--archive", " " }, "plant: --archive = '': a SQLite file path or a PostgreSQL connection string")]
    [InlineData(new[] { "--config", "/no/such/plant.json" }, "plant: --config /no/such/plant.json: no such file")]
    [InlineData(new[] { "--speed", "10" }, "plant: unknown option '--speed'; accepted: --config, --mqtt, --archive, --panel, --users")]
    [InlineData(new[] { "board" }, "plant: unexpected argument 'board'")]
    public async Task A_bad_option_is_exit_2_naming_it(string[] args, string expected)
    {
        var (exit, _, error) = await InProcess.Run(["plant", .. args]);
        Assert.Equal(2, exit);
        Assert.Contains(expected, error);
    }

    [Fact]
    public void Options_land_in_the_configuration_keys_the_host_and_the_modules_read_over_the_config_file()
    {
        using var files = new TestFiles();
        var config = files.Write("plant.json", """{ "Mqtt": { "Host": "old-broker", "Port": 1883, "TopicRoot": "plant-a" }, "Panel": { "UsersFile": "/etc/old.json" } }""");
        var overrides = PlantCommand.Configuration(["--config", config, "--mqtt", "broker.plant:8883", "--panel", "8090", "--users", "/srv/users.json", "--archive", "Host=db;Database=archive"]);
        Assert.Equal("broker.plant", overrides["Mqtt:Host"]);
        Assert.Equal("8883", overrides["Mqtt:Port"]);
        Assert.Equal("plant-a", overrides["Mqtt:TopicRoot"]);
        Assert.Equal("http://0.0.0.0:8090", overrides["Panel:Urls"]);
        Assert.Equal("/srv/users.json", overrides["Panel:UsersFile"]);
        Assert.Equal("Host=db;Database=archive", overrides["Plant:Archive"]);
        Assert.Equal("http://127.0.0.1:9000", PlantCommand.Configuration(["--panel", "127.0.0.1:9000"])["Panel:Urls"]);
        Assert.False(PlantCommand.Configuration(["--mqtt", "broker"]).ContainsKey("Mqtt:Port"));
    }
}
