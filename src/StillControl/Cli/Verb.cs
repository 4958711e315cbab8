namespace StillControl.Cli;

/// <summary>A verb's code: what the table parsed (positionals, flags, values), standard output and standard error; returns the exit code.</summary>
public delegate Task<int> VerbAction(Arguments args, TextWriter output, TextWriter error);

/// <summary>
/// One option of a verb, as the command table declares it. <paramref name="Value"/> names the option's value in help
/// (<c>FILE</c>, <c>N|max</c>); null makes the option a flag. <paramref name="Values"/> are offered by shell completion.
/// </summary>
public sealed record Opt(string Name, string? Value, string Help, params string[] Values)
{
    public bool IsFlag => Value is null;

    /// <summary>A flag: present or not (<c>--json</c>).</summary>
    public static Opt Flag(string name, string help) => new(name, null, help);
}

/// <summary>
/// One entry of the command table (<see cref="Commands.Table"/>): a verb, its help, its options, and the code it runs. A verb
/// with <see cref="Verbs"/> and no code is a group (<c>recipe show</c>, <c>recipe check</c>).
/// </summary>
public sealed class Verb
{
    /// <summary>A group of sub-verbs (give <see cref="Verbs"/>).</summary>
    public Verb(string name, string summary)
    {
        Name = name;
        Summary = summary;
    }

    /// <summary>A verb whose code gets the parsed <see cref="Arguments"/> (the table checked every option already).</summary>
    public Verb(string name, string summary, Func<Arguments, TextWriter, TextWriter, Task<int>> run) : this(name, summary) =>
        Action = (a, o, e) => run(a, o, e);

    /// <inheritdoc cref="Verb(string, string, Func{Arguments, TextWriter, TextWriter, Task{int}})"/>
    public Verb(string name, string summary, Func<Arguments, TextWriter, TextWriter, int> run) : this(name, summary) =>
        Action = (a, o, e) => Task.FromResult(run(a, o, e));

    /// <summary>
    /// A verb written in the older style: its code gets the words after the verb as typed and parses them itself with
    /// <see cref="Arguments.Parse"/>. Options listed in <see cref="Options"/> still get help, documentation and completion.
    /// </summary>
    public Verb(string name, string summary, Func<string[], TextWriter, TextWriter, int> legacy) : this(name, summary) =>
        Legacy = (args, o, e) => Task.FromResult(legacy(args, o, e));

    /// <inheritdoc cref="Verb(string, string, Func{string[], TextWriter, TextWriter, int})"/>
    public Verb(string name, string summary, Func<string[], TextWriter, TextWriter, Task<int>> legacy) : this(name, summary) =>
        Legacy = legacy;

    public string Name { get; }

    /// <summary>One line: what the verb does.</summary>
    public string Summary { get; }

    /// <summary>The positionals in the usage line (<c>ID</c>, <c>ID ID [ID...]</c>, <c>FILE</c>); null when the verb takes none.</summary>
    public string? Args { get; init; }

    /// <summary>What the positionals are.</summary>
    public string? ArgsHelp { get; init; }

    /// <summary>The positionals are batch ids: completion offers the journal's ids and <c>latest</c>.</summary>
    public bool BatchIds { get; init; }

    /// <summary>Further paragraphs of help, after the summary.</summary>
    public string? Details { get; init; }

    public IReadOnlyList<Opt> Options { get; init; } = [];

    /// <summary>Sub-verbs (<c>recipe show</c>).</summary>
    public IReadOnlyList<Verb> Verbs { get; init; } = [];

    /// <summary>Command lines shown in help and in docs/commands.md.</summary>
    public IReadOnlyList<string> Examples { get; init; } = [];

    internal VerbAction? Action { get; }

    internal Func<string[], TextWriter, TextWriter, Task<int>>? Legacy { get; }
}
