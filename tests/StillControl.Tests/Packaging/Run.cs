using System.Diagnostics;
using System.Text;
using OsProcess = System.Diagnostics.Process;

namespace StillControl.Packaging;

/// <summary>One command run to its end for the packaging tests: output captured, the whole process tree killed when it
/// overruns its time (or the test gives up), so nothing is left behind.</summary>
public static class Run
{
    public sealed record Result(int ExitCode, string Output, string Error)
    {
        public Result Succeeded(string what)
        {
            Assert.True(ExitCode == 0, $"{what} exited {ExitCode}\nstdout:\n{Tail(Output)}\nstderr:\n{Tail(Error)}");
            return this;
        }

        private static string Tail(string text) => text.Length > 6000 ? "..." + text[^6000..] : text;
    }

    /// <summary>Runs <paramref name="file"/>; with <paramref name="environment"/> given, the child gets exactly that environment
    /// (nothing inherited: no SDK on PATH, no DOTNET_ROOT).</summary>
    public static async Task<Result> CommandAsync(string file, IEnumerable<string> args, TimeSpan timeout,
        IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (workingDirectory is not null) start.WorkingDirectory = workingDirectory;
        foreach (var arg in args) start.ArgumentList.Add(arg);
        if (environment is not null)
        {
            start.Environment.Clear();
            foreach (var (key, value) in environment) start.Environment[key] = value;
        }
        var output = new StringBuilder();
        var error = new StringBuilder();
        using var process = new OsProcess { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (error) error.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
            process.WaitForExit();
        }
        catch (OperationCanceledException)
        {
            KillTree(process);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in {timeout.TotalSeconds:0} s\nstdout:\n{output}\nstderr:\n{error}");
        }
        finally
        {
            if (!process.HasExited) KillTree(process);
        }
        lock (output) lock (error) return new Result(process.ExitCode, output.ToString(), error.ToString());
    }

    private static void KillTree(OsProcess process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
        }
    }
}
