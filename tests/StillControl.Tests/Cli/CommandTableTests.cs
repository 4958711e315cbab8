using System.Diagnostics;
using OsProcess = System.Diagnostics.Process;
using System.Reflection;

namespace StillControl.Cli;

/// <summary>The command table: help for every verb and option, --version, typos, completion, the reference in docs/commands.md.</summary>
public class CommandTableTests
{
    private static Task<(int Exit, string Output, string Error)> Run(params string[] args) => InProcess.Run(args);

    private static void AssertBadInput((int Exit, string Output, string Error) result, params string[] expected)
    {
        Assert.True(result.Exit == 2, $"exit {result.Exit}: {result.Error}");
        foreach (var text in expected) Assert.Contains(text, result.Error);
        Assert.DoesNotContain("   at ", result.Error);
    }

    public static TheoryData<string> Paths()
    {
        var data = new TheoryData<string>();
        foreach (var (path, _) in CommandTable.Default.All()) data.Add(path);
        return data;
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task Every_command_has_help_naming_each_of_its_options(string path)
    {
        var verb = CommandTable.Default.All().Single(p => p.Path == path).Verb;
        var help = await Run([.. path.Split(' '), "--help"]);
        Assert.True(help.Exit == 0, help.Error);
        Assert.Contains($"Usage: stillcontrol {path}", help.Output);
        Assert.Contains(verb.Summary.Split(' ')[0], help.Output);
        foreach (var option in verb.Options)
        {
            Assert.Contains(option.Name, help.Output);
            Assert.Contains(option.Help.Split(' ')[0], help.Output);
        }
        foreach (var sub in verb.Verbs) Assert.Contains($"{path} {sub.Name}", help.Output);
        // The same text by 'help COMMAND' and by -h.
        Assert.Equal(help.Output, (await Run(["help", .. path.Split(' ')])).Output);
        Assert.Equal(help.Output, (await Run([.. path.Split(' '), "-h"])).Output);
    }

    [Fact]
    public async Task Simulate_help_documents_the_period_and_the_start()
    {
        var help = await Run("simulate", "--help");
        Assert.Equal(0, help.Exit);
        Assert.Matches(@"--period-ms MS\s+The control period in milliseconds", help.Output);
        Assert.Matches(@"--start TIME\s+When the simulated batch starts", help.Output);
        Assert.Contains("ends by the time it is run", help.Output);
    }

    [Fact]
    public async Task The_usage_and_the_unknown_command_message_list_every_command_of_the_table()
    {
        var usage = await Run("--help");
        Assert.Equal(0, usage.Exit);
        var bare = await Run();
        Assert.Equal(2, bare.Exit);
        Assert.Equal(usage.Output, bare.Output);
        foreach (var (path, verb) in CommandTable.Default.All().Where(p => p.Verb.Verbs.Count == 0))
        {
            Assert.Contains(path, usage.Output);
            Assert.Contains(verb.Summary, System.Text.RegularExpressions.Regex.Replace(usage.Output, @"\s+", " "));
        }
        var unknown = await Run("launch");
        AssertBadInput(unknown, "unknown command 'launch'");
        foreach (var verb in CommandTable.Default.Verbs) Assert.Contains(verb.Name, unknown.Error);
        Assert.Contains("Exit codes: 0 ran", usage.Output);
    }

    [Fact]
    public async Task Version_prints_the_informational_version()
    {
        var informational = typeof(CommandLine).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        var version = await Run("--version");
        Assert.Equal(0, version.Exit);
        Assert.Equal($"stillcontrol {informational.Split('+')[0]}", version.Output.TrimEnd());
        Assert.Matches(@"^stillcontrol \d+\.\d+\.\d+\S*\s*$", version.Output);
    }

    [Theory]
    [InlineData("simulat", "unknown command 'simulat' (did you mean 'simulate'?)", "accepted: simulate, run")]
    [InlineData("simulate --sped 3", "simulate: unknown option '--sped' (did you mean '--speed'", "accepted: --recipe")]
    [InlineData("batches --jurnal j.db", "batches: unknown option '--jurnal' (did you mean '--journal'?)", "--outcome")]
    [InlineData("recipe shw", "recipe: unknown command 'shw' (did you mean 'show'?)", "accepted: show, check")]
    [InlineData("export x --fromat csv", "export: unknown option '--fromat' (did you mean '--format'?)", "--table")]
    [InlineData("report x --output r.html", "report: unknown option '--output' (did you mean '--out'?)", "--journal")]
    [InlineData("--verison", "unknown option '--verison' (did you mean '--version'?)", "--help")]
    public async Task A_typo_is_exit_2_with_the_nearest_name_and_what_is_accepted(string line, string message, string accepted)
    {
        AssertBadInput(await Run(line.Split(' ')), message, accepted);
    }

    [Fact]
    public async Task Missing_or_repeated_option_values_and_stray_words_are_exit_2_naming_them()
    {
        AssertBadInput(await Run("simulate", "--speed"), "simulate: --speed needs a value (N|max)");
        AssertBadInput(await Run("simulate", "--seed", "1", "--seed", "2"), "simulate: --seed is given 2 times ('1', '2')");
        AssertBadInput(await Run("simulate", "now"), "simulate: unexpected argument 'now'");
        AssertBadInput(await Run("recipe"), "recipe: give a command: show, check");
        AssertBadInput(await Run("completion", "fish"), "completion: shell 'fish': bash");
        AssertBadInput(await Run("help", "simualte"), "help: unknown command 'simualte' (did you mean 'simulate'?)");
    }

    [Fact]
    public async Task The_suggest_directive_offers_options_and_their_values()
    {
        var options = await Run("[suggest:12]", "simulate --s");
        Assert.Equal(0, options.Exit);
        var offered = options.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(["--scenario", "--seed", "--site", "--speed", "--start", "--still"], offered.Order().ToArray());
        var values = await Run("[suggest:17]", "export x --table ");
        Assert.Equal(["events", "fractions", "samples"], values.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Order().ToArray());
        var verbs = await Run("[suggest:2]", "ba");
        Assert.Equal(["batch", "batches"], verbs.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Order().ToArray());
    }

    [Fact]
    public async Task Bash_completion_asks_the_program_and_offers_commands_options_and_batch_ids()
    {
        using var files = new TestFiles();
        var journal = files.PathOf("journal.db");
        var simulated = await Run("simulate", "--start", "2026-01-02T03:04:05Z", "--mqtt", "off", "--journal", journal);
        Assert.True(simulated.Exit == 0, simulated.Error);
        var script = await Run("completion", "bash");
        Assert.Equal(0, script.Exit);
        File.WriteAllText(files.PathOf("completion.bash"), script.Output);
        // 'stillcontrol' on the PATH is the program built with these tests, as an installed one would be.
        var bin = Directory.CreateDirectory(files.PathOf("bin")).FullName;
        File.WriteAllText(Path.Combine(bin, "stillcontrol"), $"#!/bin/sh\nexec dotnet '{Path.Combine(AppContext.BaseDirectory, "stillcontrol.dll")}' \"$@\"\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(Path.Combine(bin, "stillcontrol"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        async Task<string[]> Complete(params string[] words)
        {
            var line = string.Join(' ', words);
            var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = files.Folder };
            start.Environment["PATH"] = bin + ":" + Environment.GetEnvironmentVariable("PATH");
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add($$"""
                source '{{files.PathOf("completion.bash")}}'
                COMP_LINE='{{line}}'; COMP_POINT=${#COMP_LINE}; COMP_WORDS=({{line}}{{(line.EndsWith(' ') ? " ''" : "")}}); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
                _stillcontrol_complete
                printf '%s\n' "${COMPREPLY[@]}"
                """);
            using var bash = OsProcess.Start(start)!;
            var output = bash.StandardOutput.ReadToEndAsync();
            var error = bash.StandardError.ReadToEndAsync();
            try
            {
                await bash.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
            }
            finally
            {
                if (!bash.HasExited) bash.Kill(entireProcessTree: true);
            }
            Assert.True(bash.ExitCode == 0, await error);
            return (await output).Split('\n', StringSplitOptions.RemoveEmptyEntries).Order().ToArray();
        }

        Assert.Equal(["compare", "completion"], await Complete("stillcontrol", "comp"));
        Assert.Equal(["--period-ms"], await Complete("stillcontrol", "simulate", "--per"));
        var id = System.Text.Json.JsonDocument.Parse((await Run("batches", "--journal", journal, "--json")).Output).RootElement[0].GetProperty("id").GetString()!;
        Assert.StartsWith("still-1-20260102-0304", id);
        var offered = await Complete("stillcontrol", "report", "--journal", journal, "");
        Assert.Contains("latest", offered);
        Assert.Contains(id, offered);
        Assert.Contains("--out", offered);
        Assert.Equal([id], await Complete("stillcontrol", "report", "--journal", journal, "still-1-2026"));
    }

    [Fact]
    public void Docs_commands_md_holds_the_generated_reference_of_every_command_and_option()
    {
        var doc = File.ReadAllText(Path.Combine(TestFiles.Repository(), "docs", "commands.md"));
        var generated = CommandTable.Default.Markdown();
        Assert.True(doc.Contains(generated, StringComparison.Ordinal),
            "docs/commands.md is out of date with the command table: replace everything after its 'Reference' heading with the output of " +
            "'dotnet run --project src/StillControl -- help --markdown' (see 'Adding a command' in docs/commands.md)");
        foreach (var (path, verb) in CommandTable.Default.All())
        {
            Assert.Contains($"### stillcontrol {path}\n", doc);
            foreach (var option in verb.Options) Assert.Contains($"`{option.Name}", doc);
        }
        Assert.Contains("`--version`", doc);
    }
}
