namespace StillControl.Cli;

/// <summary>A user's mistake on the command line or in a file they named: exit code 2, a message, no stack trace.</summary>
public sealed class BadInputException(string message) : Exception(message);

/// <summary>Parsed command-line arguments: positionals, <c>--flag</c>s and <c>--option value</c>s, checked against what the verb accepts.</summary>
public sealed class Arguments
{
    private readonly Dictionary<string, string?> options = new(StringComparer.Ordinal);

    public List<string> Positionals { get; } = [];

    public static Arguments Parse(IEnumerable<string> args, string verb, string[] flags, string[] valued)
    {
        var result = new Arguments();
        using var e = args.GetEnumerator();
        while (e.MoveNext())
        {
            var arg = e.Current;
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg == "--")
            {
                result.Positionals.Add(arg);
                continue;
            }
            var name = arg;
            string? inline = null;
            var eq = arg.IndexOf('=');
            if (eq > 0)
            {
                name = arg[..eq];
                inline = arg[(eq + 1)..];
            }
            if (flags.Contains(name) && inline is null)
            {
                result.options[name] = null;
            }
            else if (valued.Contains(name))
            {
                if (inline is null && !e.MoveNext())
                {
                    throw new BadInputException($"{verb}: {name} needs a value");
                }
                result.options[name] = inline ?? e.Current;
            }
            else
            {
                var accepted = flags.Concat(valued).ToArray();
                throw new BadInputException($"{verb}: unknown option '{arg}'; accepted: {(accepted.Length == 0 ? "none" : string.Join(", ", accepted))}");
            }
        }
        return result;
    }

    /// <summary>Records an option the command table parsed (a flag's value is null).</summary>
    internal void Set(string name, string? value) => options[name] = value;

    public bool Has(string flag) => options.ContainsKey(flag);

    public string? Value(string option) => options.TryGetValue(option, out var value) ? value : null;
}
