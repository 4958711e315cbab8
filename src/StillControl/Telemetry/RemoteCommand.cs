using System.Text;
using System.Text.Json;
using StillControl.Process;

namespace StillControl.Telemetry;

/// <summary>A command arriving over MQTT, checked before it may reach the controller.</summary>
public static class RemoteCommand
{
    /// <summary>Parses <c>{ "id", "command", "operator", "argument" }</c>; returns the command or why it is refused (with the id if one could be read).</summary>
    public static (OperatorCommand? Command, string? Id, string? Refusal) Parse(ReadOnlySpan<byte> payload, MqttOptions options)
    {
        try
        {
            return ParseChecked(payload, options);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or FormatException or DecoderFallbackException)
        {
            // Bytes that are not text (invalid UTF-8, a lone surrogate in an escape): refused with a reason like any other.
            return (null, null, $"unreadable: {ex.GetType().Name}: the payload must be UTF-8 JSON text");
        }
    }

    private static (OperatorCommand? Command, string? Id, string? Refusal) ParseChecked(ReadOnlySpan<byte> payload, MqttOptions options)
    {
        if (payload.Length > options.MaximumCommandBytes)
        {
            return (null, null, $"payload of {payload.Length} bytes refused: at most {options.MaximumCommandBytes}");
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(payload.ToArray());
        }
        catch (JsonException ex)
        {
            return (null, null, $"not JSON ({ex.Message.Split(". ")[0]}): expected {{\"id\", \"command\", \"operator\", \"argument\"}}");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (null, null, "expected a JSON object {\"id\", \"command\", \"operator\", \"argument\"}");
            }
            string? Text(string name, out string? problem)
            {
                problem = null;
                if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
                if (value.ValueKind != JsonValueKind.String)
                {
                    problem = $"\"{name}\" must be a string, not {value.ValueKind.ToString().ToLowerInvariant()}";
                    return null;
                }
                return value.GetString();
            }
            var id = Text("id", out var idProblem);
            if (idProblem is not null) return (null, null, idProblem);
            if (string.IsNullOrWhiteSpace(id) || id.Length > 64) return (null, null, "\"id\" must be a string of 1-64 characters");
            foreach (var property in root.EnumerateObject())
            {
                if (property.Name is not ("id" or "command" or "operator" or "argument"))
                {
                    return (null, id, $"unknown key \"{property.Name}\": accepted id, command, operator, argument");
                }
            }
            var name = Text("command", out var commandProblem);
            if (commandProblem is not null) return (null, id, commandProblem);
            if (!CommandKinds.TryParse(name, out var kind))
            {
                return (null, id, $"unknown command \"{name}\": one of {string.Join(", ", CommandKinds.Names)}");
            }
            var operatorName = Text("operator", out var operatorProblem);
            if (operatorProblem is not null) return (null, id, operatorProblem);
            if (string.IsNullOrWhiteSpace(operatorName) || operatorName.Length > 64) return (null, id, "\"operator\" must name the person, 1-64 characters");
            var argument = Text("argument", out var argumentProblem);
            if (argumentProblem is not null) return (null, id, argumentProblem);
            if (argument is { Length: > 64 }) return (null, id, "\"argument\" must be at most 64 characters");
            if (!options.RemoteCommands.Contains(kind.Name()))
            {
                return (null, id, $"\"{kind.Name()}\" is not allowed remotely here (allowed: {string.Join(", ", options.RemoteCommands)}); opening steam needs the distiller at the still");
            }
            return (new OperatorCommand(kind, operatorName, "mqtt", argument, id), id, null);
        }
    }
}
