using System.Diagnostics;
using OsProcess = System.Diagnostics.Process;
using System.Text;

namespace StillControl.Cli;

/// <summary>The real <c>stillcontrol</c> executable in a child process, as a user or systemd runs it.</summary>
public sealed class StillControlProcess : IDisposable
{
    private readonly StringBuilder output = new();
    private readonly StringBuilder error = new();

    public OsProcess Process { get; }

    private StillControlProcess(string[] args, string workingDirectory, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "stillcontrol.dll"));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        Process = OsProcess.Start(start)!;
        Process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        Process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (error) error.AppendLine(e.Data); };
        Process.BeginOutputReadLine();
        Process.BeginErrorReadLine();
    }

    public static StillControlProcess Start(string workingDirectory, params string[] args) => new(args, workingDirectory);

    /// <summary>With extra environment variables (the program's test hooks).</summary>
    public static StillControlProcess StartWith(IReadOnlyDictionary<string, string> environment, string workingDirectory, params string[] args) =>
        new(args, workingDirectory, environment);

    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(string workingDirectory, params string[] args)
    {
        using var process = Start(workingDirectory, args);
        var exit = await process.WaitAsync(TimeSpan.FromMinutes(2));
        return (exit, process.Output, process.Error);
    }

    public string Output { get { lock (output) return output.ToString(); } }

    public string Error { get { lock (error) return error.ToString(); } }

    public async Task<int> WaitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        await Process.WaitForExitAsync(cancel.Token);
        Process.WaitForExit();
        return Process.ExitCode;
    }

    /// <summary>SIGTERM, as systemd stops a service.</summary>
    public void Terminate()
    {
        using var kill = OsProcess.Start("kill", ["-TERM", Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    public void Dispose()
    {
        if (!Process.HasExited) Process.Kill(entireProcessTree: true);
        Process.Dispose();
    }
}
