using System.Text;
using StillControl.Process;

namespace StillControl.Telemetry;

public class RemoteCommandTests
{
    private static readonly MqttOptions Options = new();

    private static (OperatorCommand? Command, string? Id, string? Refusal) Parse(string json) => RemoteCommand.Parse(Encoding.UTF8.GetBytes(json), Options);

    [Fact]
    public void A_well_formed_allowed_command_becomes_an_operator_command_from_mqtt()
    {
        var (command, id, refusal) = Parse("""{ "id": "7", "command": "hold", "operator": "wang" }""");
        Assert.Null(refusal);
        Assert.Equal("7", id);
        Assert.Equal(new OperatorCommand(CommandKind.Hold, "wang", "mqtt", null, "7"), command);
    }

    [Theory]
    [InlineData("""{ "id": "1", "command": "start", "operator": "wang" }""", "not allowed remotely")]
    [InlineData("""{ "id": "1", "command": "resume", "operator": "wang" }""", "not allowed remotely")]
    [InlineData("""{ "id": "1", "command": "open", "operator": "wang" }""", "unknown command \"open\"")]
    [InlineData("""{ "id": "1", "command": "hold" }""", "\"operator\" must name the person")]
    [InlineData("""{ "id": "1", "command": 5, "operator": "wang" }""", "\"command\" must be a string, not number")]
    [InlineData("""{ "command": "hold", "operator": "wang" }""", "\"id\" must be a string")]
    [InlineData("""[1, 2]""", "expected a JSON object")]
    [InlineData("""{ "id": "1", "command": "hold", "operator": "wang", "steam": 100 }""", "unknown key \"steam\"")]
    [InlineData("""{"id":""", "not JSON")]
    public void Anything_else_is_refused_with_a_reason(string json, string reason)
    {
        var (command, _, refusal) = Parse(json);
        Assert.Null(command);
        Assert.Contains(reason, refusal);
    }

    [Fact]
    public void Oversized_payloads_are_refused_before_parsing()
    {
        var (command, _, refusal) = Parse("{\"id\":\"1\",\"command\":\"hold\",\"operator\":\"" + new string('x', Options.MaximumCommandBytes) + "\"}");
        Assert.Null(command);
        Assert.Contains("bytes refused", refusal);
    }

    [Fact]
    public void Opening_steam_remotely_works_only_when_configured()
    {
        var options = new MqttOptions { RemoteCommands = ["hold", "abort", "ack", "resume"] };
        var (command, _, refusal) = RemoteCommand.Parse("""{ "id": "1", "command": "resume", "operator": "li" }"""u8, options);
        Assert.Null(refusal);
        Assert.Equal(CommandKind.Resume, command!.Kind);
    }
}
