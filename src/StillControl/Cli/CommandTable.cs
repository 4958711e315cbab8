using System.CommandLine;
using System.CommandLine.Completions;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using System.Reflection;
using System.Text;
using StillControl.Reports;

namespace StillControl.Cli;

/// <summary>
/// Turns <see cref="Commands.Table"/> into a System.CommandLine parser, and parses, checks and dispatches a command line with
/// it. Errors are ours (exit 2, the verb, the option, the value, what is accepted, and the nearest name for a typo); help,
/// the usage text and the Markdown reference are rendered from the table.
/// </summary>
public sealed class CommandTable
{
    private readonly RootCommand root = new(Commands.Title);
    private readonly Dictionary<Command, Node> nodes = [];
    private readonly HelpOption help;
    private readonly VersionOption version;

    /// <summary>A verb in the tree with what System.CommandLine made of it.</summary>
    private sealed record Node(Verb Verb, string Path, Command Command, Argument<string[]> Positionals, IReadOnlyList<(Opt Spec, Option Option)> Options);

    public CommandTable(IReadOnlyList<Verb> table)
    {
        Verbs = table;
        help = root.Options.OfType<HelpOption>().Single();
        version = root.Options.OfType<VersionOption>().Single();
        foreach (var verb in table) root.Add(Build(verb, verb.Name));
    }

    /// <summary>The command table in force: <see cref="Commands.Table"/>.</summary>
    public static CommandTable Default => lazy.Value;

    private static readonly Lazy<CommandTable> lazy = new(() => new CommandTable(Commands.Table));

    public IReadOnlyList<Verb> Verbs { get; }

    private Command Build(Verb verb, string path)
    {
        var command = new Command(verb.Name, verb.Summary);
        // Every positional is captured and judged here, so an unknown option or a stray word gets our message, not the library's.
        var positionals = new Argument<string[]>(verb.Args ?? "args") { Arity = ArgumentArity.ZeroOrMore, Description = verb.ArgsHelp, Hidden = verb.Args is null };
        if (verb.BatchIds) positionals.CompletionSources.Add(BatchIdCompletions);
        command.Add(positionals);
        var options = new List<(Opt, Option)>();
        foreach (var spec in verb.Options)
        {
            Option option = spec.IsFlag
                ? new Option<bool>(spec.Name) { Description = spec.Help, Arity = ArgumentArity.Zero }
                : new Option<string>(spec.Name) { Description = spec.Help, HelpName = spec.Value };
            if (spec.Values.Length > 0) option.CompletionSources.Add(spec.Values);
            command.Add(option);
            options.Add((spec, option));
        }
        foreach (var sub in verb.Verbs) command.Add(Build(sub, $"{path} {sub.Name}"));
        nodes[command] = new Node(verb, path, command, positionals, options);
        return command;
    }

    /// <summary>Parses, checks and runs one command line. Bad input throws <see cref="BadInputException"/> (exit 2).</summary>
    public async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        // No response files: a batch id or a file name that starts with @ is just that.
        var parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (root.Directives.OfType<SuggestDirective>().FirstOrDefault() is { } suggest && parse.GetResult(suggest) is not null)
        {
            // [suggest:POSITION] "command line": what shell completion offers there, one per line (see 'completion bash').
            return await parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = error, ProcessTerminationTimeout = null });
        }
        nodes.TryGetValue(parse.CommandResult.Command, out var node);
        if (parse.GetResult(help) is not null)
        {
            output.Write(node is null ? Usage() : HelpFor(node));
            return 0;
        }
        if (node is null)
        {
            if (parse.GetResult(version) is not null)
            {
                output.WriteLine($"stillcontrol {Version}");
                return 0;
            }
            if (args.Length == 0)
            {
                output.Write(Usage());
                return 2;
            }
            var first = parse.UnmatchedTokens.FirstOrDefault() ?? args[0];
            throw first.StartsWith('-')
                ? new BadInputException($"unknown option '{first}'{DidYouMean(first, ["--help", "--version"])}; accepted: --help, --version, or a command first (see --help)")
                : new BadInputException($"unknown command '{first}'{DidYouMean(first, Verbs.Select(v => v.Name))}; accepted: {string.Join(", ", Verbs.Select(v => v.Name))} (see --help)");
        }
        var verb = node.Verb;
        var group = verb.Action is null && verb.Legacy is null;
        foreach (var problem in parse.Errors)
        {
            // A group without its sub-verb is answered below, with the sub-verbs it has.
            if (group && problem.SymbolResult is CommandResult) continue;
            throw new BadInputException(Describe(node, problem));
        }
        var positionals = parse.GetValue(node.Positionals) ?? [];
        if (verb.Legacy is { } legacy)
        {
            // An older-style verb parses the words after it itself.
            return await legacy(WordsAfter(args, node.Path.Split(' ')), output, error);
        }
        var literal = LiteralArguments(parse);
        if (positionals.FirstOrDefault(p => p.Length > 1 && p.StartsWith('-') && !literal.Contains(p)) is { } unknown)
        {
            var name = unknown.Split('=', 2)[0];
            var accepted = verb.Options.Select(o => o.Name).ToList();
            throw new BadInputException($"{node.Path}: unknown option '{unknown}'{DidYouMean(name, accepted)}; accepted: {(accepted.Count == 0 ? "none" : string.Join(", ", accepted))}");
        }
        if (group || verb.Action is null)
        {
            // A group: its sub-verb is missing or unknown.
            var names = verb.Verbs.Select(v => v.Name).ToList();
            throw positionals.Length == 0
                ? new BadInputException($"{node.Path}: give a command: {string.Join(", ", names)} (see 'stillcontrol {node.Path} --help')")
                : new BadInputException($"{node.Path}: unknown command '{positionals[0]}'{DidYouMean(positionals[0], names)}; accepted: {string.Join(", ", names)}");
        }
        if (verb.Args is null && positionals.Length > 0)
        {
            throw new BadInputException($"{node.Path}: unexpected argument '{positionals[0]}' (see 'stillcontrol {node.Path} --help')");
        }
        var parsed = new Arguments();
        parsed.Positionals.AddRange(positionals);
        foreach (var (spec, option) in node.Options)
        {
            if (parse.GetResult(option) is not { Implicit: false } result) continue;
            if (spec.IsFlag)
            {
                parsed.Set(spec.Name, null);
            }
            else
            {
                parsed.Set(spec.Name, result.GetValueOrDefault<string>());
            }
        }
        return await verb.Action(parsed, output, error);
    }

    /// <summary>The library's parse error in our words: the verb, the option, what is wrong.</summary>
    private static string Describe(Node node, ParseError problem)
    {
        if (problem.SymbolResult is OptionResult { Option: var option } result)
        {
            var spec = node.Options.FirstOrDefault(o => o.Option == option).Spec;
            var accepted = spec?.Value is { } value ? $" ({value})" : "";
            if (result.Tokens.Count == 0) return $"{node.Path}: {option.Name} needs a value{accepted}";
            if (result.Tokens.Count > 1) return $"{node.Path}: {option.Name} is given {result.Tokens.Count} times ({string.Join(", ", result.Tokens.Select(t => $"'{t.Value}'"))}); give it once";
            return $"{node.Path}: {option.Name} = '{result.Tokens[0].Value}': {problem.Message}";
        }
        return $"{node.Path}: {problem.Message}";
    }

    /// <summary>Words after <c>--</c>: positionals even when they start with a dash.</summary>
    private static HashSet<string> LiteralArguments(ParseResult parse)
    {
        var literal = new HashSet<string>(StringComparer.Ordinal);
        var after = false;
        foreach (var token in parse.Tokens)
        {
            if (token.Type == TokenType.DoubleDash) after = true;
            else if (after) literal.Add(token.Value);
        }
        return literal;
    }

    private static string[] WordsAfter(string[] args, string[] path)
    {
        var i = 0;
        foreach (var name in path)
        {
            while (i < args.Length && args[i] != name) i++;
            i++;
        }
        return args.Skip(i).ToArray();
    }

    /// <summary>"; did you mean '--speed'?" for the nearest accepted names (edit distance), or nothing.</summary>
    public static string DidYouMean(string typed, IEnumerable<string> accepted)
    {
        var near = Nearest(typed, accepted);
        return near.Count == 0 ? "" : $" (did you mean {string.Join(" or ", near.Select(n => $"'{n}'"))}?)";
    }

    public static IReadOnlyList<string> Nearest(string typed, IEnumerable<string> accepted)
    {
        var scored = accepted.Distinct().Select(a => (Name: a, Distance: Distance(typed.ToLowerInvariant(), a.ToLowerInvariant())))
            .Where(s => s.Distance <= Math.Max(1, Math.Min(3, s.Name.TrimStart('-').Length / 3)) ||
                        (typed.TrimStart('-').Length >= 3 && s.Name.TrimStart('-').StartsWith(typed.TrimStart('-'), StringComparison.OrdinalIgnoreCase)) ||
                        (s.Name.TrimStart('-').Length >= 3 && typed.TrimStart('-').StartsWith(s.Name.TrimStart('-'), StringComparison.OrdinalIgnoreCase)))
            .OrderBy(s => s.Distance).ToList();
        if (scored.Count == 0) return [];
        var best = scored[0].Distance;
        return scored.Where(s => s.Distance == best).Select(s => s.Name).Take(3).ToList();
    }

    /// <summary>Levenshtein distance, a swap of two neighbours counting as one edit.</summary>
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        }
        return d[a.Length, b.Length];
    }

    /// <summary>The journal's batch ids (newest first) and <c>latest</c>, for completing an ID.</summary>
    private static IEnumerable<CompletionItem> BatchIdCompletions(CompletionContext context)
    {
        var journal = context.ParseResult.CommandResult.Children.OfType<OptionResult>().FirstOrDefault(o => o.Option.Name == "--journal")?.Tokens.FirstOrDefault()?.Value
            ?? "stillcontrol.db";
        var ids = new List<string> { BatchIds.Latest };
        try
        {
            if (File.Exists(journal))
            {
                using var query = new JournalQuery(journal);
                ids.AddRange(query.List(new BatchFilter()).Select(b => b.Id));
            }
        }
        catch (Exception ex) when (ex is Microsoft.Data.Sqlite.SqliteException or IOException or UnauthorizedAccessException)
        {
            // Completion offers what it can; an unreadable journal offers only 'latest'.
        }
        return ids.Select(id => new CompletionItem(id));
    }

    /// <summary>The program's version: AssemblyInformationalVersion (set from &lt;Version&gt;), without the source revision after '+'.</summary>
    public static string Version
    {
        get
        {
            var informational = typeof(CommandTable).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
                ?? typeof(CommandTable).Assembly.GetName().Version?.ToString() ?? "0.0.0";
            var plus = informational.IndexOf('+', StringComparison.Ordinal);
            return plus > 0 ? informational[..plus] : informational;
        }
    }

    // ---- help, usage and the Markdown reference, all from the table ----

    /// <summary>Every verb with its path (<c>recipe show</c>), depth first, groups included.</summary>
    public IEnumerable<(string Path, Verb Verb)> All()
    {
        IEnumerable<(string, Verb)> Walk(Verb v, string path) => new[] { (path, v) }.Concat(v.Verbs.SelectMany(s => Walk(s, $"{path} {s.Name}")));
        return Verbs.SelectMany(v => Walk(v, v.Name));
    }

    public static string Synopsis(string path, Verb verb) =>
        $"stillcontrol {path}{(verb.Verbs.Count > 0 && verb.Action is null ? " COMMAND" : "")}{(verb.Args is { } a ? " " + a : "")}{(verb.Options.Count > 0 ? " [options]" : "")}";

    /// <summary>The overview: every command with its summary, then --version, --help and the exit codes.</summary>
    public string Usage()
    {
        var text = new StringBuilder();
        text.AppendLine(Commands.Title).AppendLine();
        text.AppendLine("Usage: stillcontrol COMMAND [options]        'stillcontrol COMMAND --help' shows a command's options").AppendLine();
        text.AppendLine("Commands:");
        var rows = All().Where(p => p.Verb.Action is not null || p.Verb.Legacy is not null)
            .Select(p => (Synopsis(p.Path, p.Verb)["stillcontrol ".Length..].Replace(" [options]", "", StringComparison.Ordinal), p.Verb.Summary)).ToList();
        rows.Add(("--version", "Prints stillcontrol and its version."));
        rows.Add(("--help", "Shows this help; after a command, that command's help."));
        TwoColumns(text, rows);
        text.AppendLine();
        Wrap(text, Commands.ExitCodes, "", Width);
        return text.ToString();
    }

    public string HelpFor(string path) => All().FirstOrDefault(p => p.Path == path) is { Verb: not null } found
        ? HelpFor(nodes.Values.First(n => n.Path == found.Path))
        : throw new BadInputException($"help: unknown command '{path}'{DidYouMean(path, All().Select(p => p.Path))}; accepted: {string.Join(", ", All().Select(p => p.Path))}");

    private string HelpFor(Node node)
    {
        var verb = node.Verb;
        var text = new StringBuilder();
        text.AppendLine($"Usage: {Synopsis(node.Path, verb)}").AppendLine();
        Wrap(text, verb.Summary, "", Width);
        if (verb.Details is { } details)
        {
            text.AppendLine();
            Wrap(text, details.Trim(), "", Width);
        }
        if (verb.Args is { } args && verb.ArgsHelp is { } argsHelp)
        {
            text.AppendLine().AppendLine("Arguments:");
            TwoColumns(text, [(args, argsHelp)]);
        }
        if (verb.Verbs.Count > 0)
        {
            text.AppendLine().AppendLine("Commands:");
            TwoColumns(text, verb.Verbs.Select(v => (Synopsis($"{node.Path} {v.Name}", v)["stillcontrol ".Length..], v.Summary)).ToList());
        }
        text.AppendLine().AppendLine("Options:");
        TwoColumns(text, [.. verb.Options.Select(o => (o.IsFlag ? o.Name : $"{o.Name} {o.Value}", o.Help)), ("-h, --help", "Shows this help.")]);
        if (verb.Examples.Count > 0)
        {
            text.AppendLine().AppendLine("Examples:");
            foreach (var example in verb.Examples) text.AppendLine($"  {example}");
        }
        return text.ToString();
    }

    /// <summary>The reference part of docs/commands.md: every command, its arguments, options and examples.</summary>
    public string Markdown()
    {
        var md = new StringBuilder();
        md.Append("Generated from the command table by `stillcontrol help --markdown`; do not edit by hand.\n\n");
        md.Append("| command | what it does |\n|---|---|\n");
        foreach (var (path, verb) in All()) md.Append($"| [`{path}`](#stillcontrol-{path.Replace(' ', '-')}) | {Cell(verb.Summary)} |\n");
        md.Append($"| `--version` | Prints `stillcontrol` and its version. |\n\n{Commands.ExitCodes}\n");
        foreach (var (path, verb) in All())
        {
            md.Append($"\n### stillcontrol {path}\n\n{verb.Summary}\n\n");
            if (verb.Details is { } details) md.Append(details.Trim()).Append("\n\n");
            md.Append($"```\n{Synopsis(path, verb)}\n```\n\n");
            if (verb.Args is { } args && verb.ArgsHelp is { } argsHelp) md.Append($"`{args}`: {argsHelp}\n\n");
            if (verb.Verbs.Count > 0)
            {
                md.Append("Commands: ").Append(string.Join(", ", verb.Verbs.Select(v => $"[`{path} {v.Name}`](#stillcontrol-{path.Replace(' ', '-')}-{v.Name})"))).Append(".\n\n");
            }
            if (verb.Options.Count > 0)
            {
                md.Append("| option | meaning |\n|---|---|\n");
                foreach (var o in verb.Options) md.Append($"| `{(o.IsFlag ? o.Name : $"{o.Name} {o.Value}")}` | {Cell(o.Help)} |\n");
                md.Append('\n');
            }
            if (verb.Examples.Count > 0) md.Append("```\n").Append(string.Join('\n', verb.Examples)).Append("\n```\n");
        }
        return md.ToString();
    }

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal);

    /// <summary>The width help is wrapped to: the terminal's when there is one, else 100 columns.</summary>
    private static int Width
    {
        get
        {
            try
            {
                return Console.IsOutputRedirected ? 100 : Math.Clamp(Console.WindowWidth, 60, 160);
            }
            catch (Exception ex) when (ex is IOException or PlatformNotSupportedException or InvalidOperationException)
            {
                return 100;
            }
        }
    }

    private static void TwoColumns(StringBuilder text, IReadOnlyList<(string Left, string Right)> rows)
    {
        // The left column as wide as its widest entry, capped so the descriptions keep room; a longer entry gets its own line.
        var width = Width;
        var left = Math.Min(rows.Max(r => r.Left.Length), Math.Max(20, width / 3));
        foreach (var (l, r) in rows)
        {
            var indent = new string(' ', 2 + left + 2);
            if (l.Length > left)
            {
                text.AppendLine($"  {l}");
                Wrap(text, r, indent, width);
            }
            else
            {
                var first = new StringBuilder();
                Wrap(first, r, indent, width);
                text.Append($"  {l.PadRight(left)}  ").Append(first.ToString().AsSpan(indent.Length));
            }
        }
    }

    private static void Wrap(StringBuilder text, string paragraph, string indent, int width)
    {
        var line = new StringBuilder(indent);
        foreach (var word in paragraph.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.Length > indent.Length && line.Length + 1 + word.Length > width)
            {
                text.AppendLine(line.ToString());
                line.Clear().Append(indent);
            }
            if (line.Length > indent.Length) line.Append(' ');
            line.Append(word);
        }
        text.AppendLine(line.ToString());
    }
}
