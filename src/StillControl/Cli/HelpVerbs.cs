namespace StillControl.Cli;

/// <summary>The verbs about the command line itself: <c>help</c> and <c>completion</c>.</summary>
public static class HelpVerbs
{
    internal static int Help(Arguments a, TextWriter output, TextWriter error)
    {
        var table = CommandTable.Default;
        if (a.Has("--markdown"))
        {
            if (a.Positionals.Count > 0) throw new BadInputException("help: --markdown prints every command; give no command with it");
            output.Write(table.Markdown());
            return 0;
        }
        output.Write(a.Positionals.Count == 0 ? table.Usage() : table.HelpFor(string.Join(' ', a.Positionals)));
        return 0;
    }

    /// <summary>
    /// Bash completion that asks the program itself: System.CommandLine's <c>[suggest:POSITION]</c> directive returns, one per
    /// line, what fits at the cursor (commands, options, option values, batch ids from the journal). No dotnet-suggest needed.
    /// </summary>
    public const string BashScript = """
        # bash completion for stillcontrol, written by 'stillcontrol completion bash'.
        # Load it with: source <(stillcontrol completion bash)   or save it in /etc/bash_completion.d/stillcontrol
        _stillcontrol_complete() {
            local program="${COMP_WORDS[0]}"
            local line="${COMP_LINE:0:COMP_POINT}"
            line="${line#"$program"}"
            line="${line#"${line%%[![:space:]]*}"}"
            local word="${COMP_WORDS[COMP_CWORD]}"
            local IFS=$'\n'
            COMPREPLY=($(compgen -W "$("$program" "[suggest:${#line}]" "$line" 2>/dev/null)" -- "$word"))
        }
        complete -o default -F _stillcontrol_complete stillcontrol

        """;

    internal static int Completion(Arguments a, TextWriter output, TextWriter error)
    {
        if (a.Positionals is not ["bash"])
        {
            throw new BadInputException($"completion: {(a.Positionals.Count == 0 ? "give the shell" : $"shell '{string.Join(' ', a.Positionals)}'")}: bash (other shells: call 'stillcontrol \"[suggest:POSITION]\" \"COMMAND LINE\"' from their completion hook)");
        }
        output.Write(BashScript);
        return 0;
    }
}
