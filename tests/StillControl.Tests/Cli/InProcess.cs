namespace StillControl.Cli;

/// <summary>The command line run in this process, as a user types it: exit code, standard output and standard error.</summary>
public static class InProcess
{
    public static async Task<(int Exit, string Output, string Error)> Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await CommandLine.RunAsync(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }
}
