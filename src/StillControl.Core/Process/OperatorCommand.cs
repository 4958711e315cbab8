namespace StillControl.Process;

public enum CommandKind
{
    Start,
    Seal,
    Hold,
    Resume,
    Abort,
    Cut,
    Ack,
}

public static class CommandKinds
{
    private static readonly string[] names = ["start", "seal", "hold", "resume", "abort", "cut", "ack"];

    public static IReadOnlyList<string> Names => names;

    public static string Name(this CommandKind kind) => names[(int)kind];

    public static bool TryParse(string? text, out CommandKind kind)
    {
        var index = Array.IndexOf(names, text);
        kind = index < 0 ? default : (CommandKind)index;
        return index >= 0;
    }
}

/// <summary>What an operator asked for. <paramref name="Argument"/>: the batch id for start, an alarm code for ack.</summary>
public sealed record OperatorCommand(CommandKind Kind, string Operator, string Source, string? Argument = null, string? Id = null);

public sealed record CommandResult(bool Accepted, string Reason)
{
    public static CommandResult Accept(string reason) => new(true, reason);

    public static CommandResult Refuse(string reason) => new(false, reason);
}

/// <summary>An operator command as the batch record keeps it, accepted or not.</summary>
public sealed class OperatorAction
{
    public DateTimeOffset At { get; set; }
    public string Command { get; set; } = "";
    public string Operator { get; set; } = "";
    public string Source { get; set; } = "";
    public string? Argument { get; set; }
    public bool Accepted { get; set; }
    public string Reason { get; set; } = "";
}
