using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using StillControl.Cli;
using StillControl.Hosting;
using StillControl.Process;
using StillControl.Recipes;
using StillControl.Sensors;
using Xunit.Abstractions;

namespace StillControl.Tests.Docs;

/// <summary>
/// The documentation against the code: every command line in README.md and docs/*.md names a verb and options of the command
/// table (<see cref="CommandTable.Default"/>, built from <see cref="Commands.Table"/>), every relative link resolves, the
/// README stays a one-page quick start, and the minimal Pi configuration in docs/hardware.md passes the same wiring check
/// the service runs at start-up.
/// </summary>
public partial class DocsTests(ITestOutputHelper output)
{
    // ---- Pending: names that other branches add. THE ONE PLACE to edit. ----
    // The lead clears these after merging the branch that brings each one (panel: users, --panel, --users, --distiller;
    // plant: plant, --still/--site on simulate; archive: --archive; the docs each branch writes). Once a name is in the
    // command table or the file exists, it no longer needs to be here: PendingNamesThatHaveArrivedAreListed says which.

    /// <summary>Verbs documented before they reach this branch's command table.</summary>
    private static readonly string[] PendingVerbs = [];

    /// <summary>Options documented before they reach this branch's command table, as "verb --option".</summary>
    private static readonly string[] PendingOptions = [];

    /// <summary>Documents linked before they reach this branch (paths from the repository root).</summary>
    private static readonly string[] PendingFiles = [];

    // ---- The documents ----

    private static readonly string Root = TestFiles.Repository();

    public static IEnumerable<string> Documents() =>
        new[] { Path.Combine(Root, "README.md") }.Concat(Directory.GetFiles(Path.Combine(Root, "docs"), "*.md").Order(StringComparer.Ordinal));

    public static TheoryData<string> DocumentNames()
    {
        var data = new TheoryData<string>();
        foreach (var file in Documents()) data.Add(Path.GetRelativePath(Root, file).Replace('\\', '/'));
        return data;
    }

    /// <summary>A line of a document: its text, number, and whether it is inside a fenced code block.</summary>
    private sealed record Line(string Text, int Number, bool InCode);

    private static List<Line> Lines(string file)
    {
        var lines = new List<Line>();
        var inCode = false;
        var number = 0;
        foreach (var text in File.ReadLines(file))
        {
            number++;
            if (text.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                inCode = !inCode;
                continue;
            }
            lines.Add(new Line(text, number, inCode));
        }
        return lines;
    }

    // ---- Command lines ----

    /// <summary>A `stillcontrol` that starts a command: at the line's start, after a prompt, a pipe, `&&`, `;`, `<(`, sudo or variables.</summary>
    [GeneratedRegex(@"(?<![^\s(])stillcontrol(?=\s+\S)")]
    private static partial Regex Program();

    [GeneratedRegex(@"^(?:|.*(?:\$|\||&&|;|<\(|\bsudo|\bdo|\bthen)|(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s*)+)$")]
    private static partial Regex CommandStart();

    /// <summary>Where a command ends: a shell pipe, list, redirection, background or comment, with a space before it.</summary>
    [GeneratedRegex(@"\s(?:\|\||&&|\||;|#|2?>|&)(?:\s|$)")]
    private static partial Regex CommandEnd();

    [GeneratedRegex(@"--[A-Za-z][A-Za-z0-9-]*")]
    private static partial Regex OptionName();

    /// <summary>Inline code in prose: `stillcontrol ...`.</summary>
    [GeneratedRegex(@"`(stillcontrol [^`]+)`")]
    private static partial Regex InlineCommand();

    /// <summary>A command written in a document: where, the words after `stillcontrol`, and whether it shows a mistake on purpose.</summary>
    public sealed record DocCommand(string File, int Line, string Text, bool ShowsMistake);

    public static List<DocCommand> CommandsIn(string file)
    {
        var name = Path.GetRelativePath(Root, file).Replace('\\', '/');
        var lines = Lines(file);
        var found = new List<DocCommand>();
        for (var i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            if (line.InCode)
            {
                foreach (Match match in Program().Matches(line.Text))
                {
                    var before = line.Text[..match.Index].Trim();
                    if (!CommandStart().IsMatch(before)) continue; // "Org": "stillcontrol", a diagram's ──► stillcontrol plant ──►
                    var rest = line.Text[(match.Index + match.Length)..];
                    var end = CommandEnd().Match(rest);
                    if (end.Success) rest = rest[..end.Index];
                    // A prompt line followed by the program's own error ("stillcontrol: ...") shows a mistake on purpose.
                    var mistake = before.EndsWith('$') && i + 1 < lines.Count && lines[i + 1].InCode &&
                                  lines[i + 1].Text.TrimStart().StartsWith("stillcontrol:", StringComparison.Ordinal);
                    found.Add(new DocCommand(name, line.Number, rest.Trim(), mistake));
                }
            }
            else
            {
                foreach (Match match in InlineCommand().Matches(line.Text))
                {
                    found.Add(new DocCommand(name, line.Number, match.Groups[1].Value["stillcontrol".Length..].Trim(), false));
                }
            }
        }
        return found;
    }

    /// <summary>What is wrong with a command line against the table, or null when every verb and option exists.</summary>
    public static string? Problem(string text, CommandTable table)
    {
        var words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0) return "no verb";
        Verb? verb = null;
        var path = "";
        var index = 0;
        if (!words[0].StartsWith('-'))
        {
            var first = words[0].TrimEnd(')');
            if (first.TrimStart('"').StartsWith('[')) return null; // a System.CommandLine directive: "[suggest:POSITION]"
            if (PendingVerbs.Contains(first)) return null; // its options are not known here yet
            if (IsPlaceholder(first)) return null;         // stillcontrol COMMAND ...
            verb = table.Verbs.FirstOrDefault(v => v.Name == first);
            if (verb is null) return $"unknown verb '{first}' (the table has {string.Join(", ", table.Verbs.Select(v => v.Name))})";
            path = verb.Name;
            index = 1;
            while (index < words.Length && verb.Verbs.FirstOrDefault(s => s.Name == words[index].TrimEnd(')')) is { } sub)
            {
                verb = sub;
                path += " " + sub.Name;
                index++;
            }
            if (verb.Verbs.Count > 0 && verb.Action is null && verb.Legacy is null && index < words.Length &&
                !IsPlaceholder(words[index]) && !words[index].StartsWith('-'))
            {
                return $"'{path}' has no sub-command '{words[index]}' (it has {string.Join(", ", verb.Verbs.Select(v => v.Name))})";
            }
        }
        var accepted = (verb?.Options.Select(o => o.Name) ?? []).Concat(["--help", "-h", "--version"]).ToHashSet(StringComparer.Ordinal);
        foreach (var word in words.Skip(index))
        {
            var option = OptionName().Match(word.TrimStart('['));
            if (!option.Success || option.Index != 0)
            {
                continue; // not an option: a value, a placeholder, an id
            }
            if (accepted.Contains(option.Value) || PendingOptions.Contains($"{path} {option.Value}")) continue;
            return $"'{(path == "" ? "stillcontrol" : path)}' has no option '{option.Value}' (it has {string.Join(", ", accepted.Order(StringComparer.Ordinal))})";
        }
        return null;
    }

    private static bool IsPlaceholder(string word) => word.Length > 1 && word.All(c => char.IsUpper(c) || c is '_' or '.' or '[' or ']');

    [Theory]
    [MemberData(nameof(DocumentNames))]
    public void Every_command_line_names_a_verb_and_options_of_the_command_table(string document)
    {
        var commands = CommandsIn(Path.Combine(Root, document));
        var wrong = new List<string>();
        foreach (var command in commands)
        {
            var problem = Problem(command.Text, CommandTable.Default);
            output.WriteLine($"{command.File}:{command.Line}: stillcontrol {command.Text}{(command.ShowsMistake ? "  (a mistake on purpose)" : "")} -> {problem ?? "ok"}");
            if (command.ShowsMistake && problem is null)
            {
                wrong.Add($"{command.File}:{command.Line}: 'stillcontrol {command.Text}' is shown as a mistake, but the table accepts it");
            }
            else if (!command.ShowsMistake && problem is not null)
            {
                wrong.Add($"{command.File}:{command.Line}: 'stillcontrol {command.Text}': {problem}");
            }
        }
        Assert.True(wrong.Count == 0, string.Join('\n', wrong));
    }

    [Fact]
    public void The_checker_finds_commands_and_catches_a_wrong_verb_option_or_sub_command()
    {
        var table = CommandTable.Default;
        Assert.Null(Problem("simulate --speed 60 --mqtt off", table));
        Assert.Null(Problem("recipe show --recipe mine.json --json", table));
        Assert.Null(Problem("export ID --format csv|json [--journal PATH] [--out FILE]", table));
        Assert.Null(Problem("simulate --help", table));
        Assert.Contains("no option '--archive'", Problem("probe --archive x.db", table)); // pending on the review verbs only
        Assert.Contains("unknown verb 'simualte'", Problem("simualte", table));
        Assert.Contains("no option '--sped'", Problem("simulate --sped 60", table));
        Assert.Contains("no option '--rounds'", Problem("batches --rounds 3", table));
        Assert.Contains("no sub-command 'shwo'", Problem("recipe shwo", table));
        Assert.Contains("no option '--rounds'", Problem("recipe show --rounds 2", table));
        Assert.Null(Problem("\"[suggest:12]\" \"stillcontrol sim\"", table));

        using var files = new TestFiles();
        var doc = files.Write("sample.md", """
            Run `stillcontrol batches --json` first.

            ```sh
            stillcontrol simulate --speed 60   # a comment --not-an-option
            printf x | stillcontrol report latest --out r.html > /dev/null
            source <(stillcontrol completion bash)
            TZ=Asia/Shanghai stillcontrol report latest
            ```

            ```json
            { "Org": "stillcontrol", "Bucket": "stillcontrol" }
            ```

            ```
            $ stillcontrol reprot latest
            stillcontrol: unknown command 'reprot'
            still ──► stillcontrol plant ──► board
            ```
            """);
        var found = CommandsIn(doc);
        Assert.Equal(
            ["batches --json", "simulate --speed 60", "report latest --out r.html", "completion bash)", "report latest", "reprot latest"],
            found.Select(c => c.Text));
        Assert.Equal([false, false, false, false, false, true], found.Select(c => c.ShowsMistake));
    }

    // ---- Links ----

    /// <summary>A Markdown link or image: [text](target) or ![alt](target "title").</summary>
    [GeneratedRegex(@"(!?)\[[^\]]*\]\(([^)\s]+)(?:\s+""[^""]*"")?\)")]
    private static partial Regex Link();

    [GeneratedRegex(@"^#{1,6}\s+(.*?)\s*#*\s*$")]
    private static partial Regex Heading();

    /// <summary>GitHub's anchor for a heading: lower case, punctuation dropped (letters, digits, - and _ kept), spaces to dashes.</summary>
    public static string Anchor(string heading)
    {
        var text = new StringBuilder();
        foreach (var c in heading.Trim().ToLowerInvariant())
        {
            if (char.IsLetterOrDigit(c) || c is '-' or '_') text.Append(c);
            else if (c == ' ') text.Append('-');
        }
        return text.ToString();
    }

    private static HashSet<string> AnchorsOf(string file)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in Lines(file).Where(l => !l.InCode))
        {
            var heading = Heading().Match(line.Text);
            if (!heading.Success) continue;
            var anchor = Anchor(heading.Groups[1].Value);
            var candidate = anchor;
            for (var n = 1; !anchors.Add(candidate); n++) candidate = $"{anchor}-{n}";
        }
        return anchors;
    }

    [Theory]
    [MemberData(nameof(DocumentNames))]
    public void Every_relative_link_points_to_a_file_that_exists(string document)
    {
        // Missing images are listed, not failed: the screenshots in docs/images are copied in by the lead from the panel's
        // browser tests. Every other link (a document, a folder, a heading in a document) must resolve.
        var file = Path.Combine(Root, document);
        var directory = Path.GetDirectoryName(file)!;
        var broken = new List<string>();
        var missingImages = new List<string>();
        var checkedLinks = 0;
        foreach (var line in Lines(file).Where(l => !l.InCode))
        {
            foreach (Match link in Link().Matches(line.Text))
            {
                var target = link.Groups[2].Value;
                if (target.Contains("://", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.Ordinal)) continue;
                checkedLinks++;
                var hash = target.IndexOf('#');
                var pathPart = hash >= 0 ? target[..hash] : target;
                var fragment = hash >= 0 ? target[(hash + 1)..] : null;
                var resolved = pathPart.Length == 0 ? file : Path.GetFullPath(Path.Combine(directory, Uri.UnescapeDataString(pathPart)));
                var fromRoot = Path.GetRelativePath(Root, resolved).Replace('\\', '/');
                var isImage = link.Groups[1].Value == "!" || Regex.IsMatch(pathPart, @"\.(png|jpe?g|gif|svg|webp)$", RegexOptions.IgnoreCase);
                if (!File.Exists(resolved) && !Directory.Exists(resolved))
                {
                    if (isImage) missingImages.Add($"{document}:{line.Number}: {target}");
                    else if (PendingFiles.Contains(fromRoot)) output.WriteLine($"{document}:{line.Number}: {target} is pending (another branch)");
                    else broken.Add($"{document}:{line.Number}: {target} (no {fromRoot})");
                    continue;
                }
                if (fragment is not null && resolved.EndsWith(".md", StringComparison.OrdinalIgnoreCase) && !AnchorsOf(resolved).Contains(fragment))
                {
                    broken.Add($"{document}:{line.Number}: {target} (no heading #{fragment} in {fromRoot})");
                }
            }
        }
        output.WriteLine($"{document}: {checkedLinks} relative links checked");
        foreach (var image in missingImages) output.WriteLine($"missing image (not failed): {image}");
        Assert.True(broken.Count == 0, string.Join('\n', broken));
    }

    [Fact]
    public void Anchors_are_made_as_GitHub_makes_them()
    {
        Assert.Equal("simulated-time-and-the-wall-clock", Anchor("Simulated time and the wall clock"));
        Assert.Equal("running-on-the-pi-run-probe-safe", Anchor("Running on the Pi: `run`, `probe`, `safe`"));
        Assert.Equal("yield-per-100-kg-of-grain-出酒率", Anchor("Yield per 100 kg of grain (出酒率)"));
    }

    // ---- The README ----

    [Fact]
    public void The_README_is_a_one_page_quick_start_with_the_two_commands_verbatim()
    {
        var text = File.ReadAllText(Path.Combine(Root, "README.md"));
        var words = text.Split((char[])[' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries).Length;
        output.WriteLine($"README.md: {words} words");
        Assert.True(words < 1000, $"README.md has {words} words; keep it under 1,000 (move detail into docs/)");
        // CI (.ci/run) runs the second; a newcomer runs the first.
        Assert.Contains("\ndotnet run --project src/StillControl -- simulate\n", text.Replace("\r\n", "\n"));
        Assert.Contains("\nbash scripts/test.sh\n", text.Replace("\r\n", "\n"));
        // The repository never cites the process notes outside it.
        foreach (var file in Documents())
        {
            Assert.DoesNotContain("shared/domain.md", File.ReadAllText(file));
        }
    }

    [Fact]
    public void Pending_names_that_have_arrived_are_listed_for_the_lead_to_clear()
    {
        // Not a failure: a reminder in the test output once a merge has brought a pending name in.
        var table = CommandTable.Default;
        var options = table.All().SelectMany(p => p.Verb.Options.Select(o => $"{p.Path} {o.Name}")).ToHashSet(StringComparer.Ordinal);
        var arrived = PendingVerbs.Where(v => table.Verbs.Any(t => t.Name == v))
            .Concat(PendingOptions.Where(options.Contains))
            .Concat(PendingFiles.Where(f => File.Exists(Path.Combine(Root, f))))
            .ToList();
        output.WriteLine(arrived.Count == 0 ? "no pending name has arrived yet" : "arrived, clear from DocsTests' pending lists: " + string.Join(", ", arrived));
        Assert.All(PendingOptions, pair => Assert.Matches(@"^[a-z]+( [a-z]+)* --[a-z][a-z-]*$", pair));
    }

    // ---- The minimal Pi configuration in docs/hardware.md ----

    /// <summary>The first JSON block under "## A minimal configuration" in docs/hardware.md, as written.</summary>
    private static string MinimalConfiguration()
    {
        var lines = Lines(Path.Combine(Root, "docs", "hardware.md"));
        var section = lines.FindIndex(l => !l.InCode && l.Text.StartsWith("## A minimal configuration", StringComparison.Ordinal));
        Assert.True(section >= 0, "docs/hardware.md has no '## A minimal configuration'");
        var json = lines.Skip(section + 1).SkipWhile(l => !l.InCode).TakeWhile(l => l.InCode).Select(l => l.Text);
        return string.Join('\n', json);
    }

    private static HardwareOptions HardwareOf(string json)
    {
        var configuration = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build();
        var options = configuration.GetSection("Hardware").Get<HardwareOptions>()!;
        // The document names where the package installs the register maps; the check reads the repository's copy.
        options.RegisterMaps = Path.Combine(Root, "firmware-config", "registers");
        return options;
    }

    [Fact]
    public void The_minimal_Pi_configuration_passes_the_services_wiring_check()
    {
        var json = MinimalConfiguration();
        var options = HardwareOf(json);
        Assert.Equal("Pi", options.Mode);
        var (plan, errors) = PiPlan.Resolve(options, DefaultRecipe.Create(), null, forService: true);
        Assert.True(errors.Count == 0, "docs/hardware.md's minimal configuration: " + string.Join('\n', errors));
        Assert.NotNull(plan);

        // The same check names a fault in it: the test can fail.
        var (_, broken) = PiPlan.Resolve(HardwareOf(json.Replace("\"DeEnergised\": \"closed\"", "\"DeEnergised\": \"open\"")), DefaultRecipe.Create(), null);
        Assert.Contains(broken, e => e.StartsWith("Hardware:Outputs:Steam:DeEnergised", StringComparison.Ordinal));
    }

    [Fact]
    public void The_minimal_Pi_configuration_wires_exactly_the_readings_some_phase_cannot_run_without()
    {
        var options = HardwareOf(MinimalConfiguration());
        var recipe = DefaultRecipe.Create();
        var wired = options.Inputs.Keys.Select(k => Channels.TryParse(k, out var c) ? c : throw new InvalidOperationException(k)).ToHashSet();
        var state = new BatchState();
        foreach (var channel in wired) state.Signals[(int)channel].Status = ReadingQuality.Good;

        var needed = new HashSet<Channel>();
        foreach (var phase in Enum.GetValues<Phase>())
        {
            foreach (var channel in Enum.GetValues<Channel>())
            {
                if (StillController.Requires(phase, channel, state, recipe)) needed.Add(channel);
            }
        }
        // Not required by any phase, but wired on purpose: the cross-checks compare against the cooling-water inlet
        // (cooling-limit-unreachable: warm water that cannot hold the hearts' limit; distillate-below-cooling-water: a probe
        // that reads off). Without it, neither can be judged.
        needed.Add(Channel.CoolingIn);
        output.WriteLine($"wired: {string.Join(", ", wired.Select(c => c.Name()))}");
        output.WriteLine($"needed by some phase: {string.Join(", ", needed.Select(c => c.Name()))}");
        Assert.Empty(needed.Except(wired).Select(c => c.Name()));  // complete: no phase trips for a reading that is not wired
        Assert.Empty(wired.Except(needed).Select(c => c.Name()));  // minimal: nothing wired that no phase needs
        Assert.Contains(Channel.EmergencyStop, wired);             // the service refuses to start without one
    }
}
