using System.Diagnostics;
using System.Text;

namespace StillControl.Soak;

/// <summary>The published <c>stillcontrol</c> program as a child process, started inside the journal disk's mount namespace.</summary>
public sealed class ServiceProcess : IDisposable
{
    private readonly StringBuilder output = new();
    private readonly StringBuilder error = new();
    private readonly System.Diagnostics.Process process;

    public ServiceProcess(string[] prefix, IEnumerable<string> args)
    {
        var info = new ProcessStartInfo(prefix[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in prefix.Skip(1)) info.ArgumentList.Add(arg);
        info.ArgumentList.Add("dotnet");
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "stillcontrol.dll"));
        foreach (var arg in args) info.ArgumentList.Add(arg);
        process = System.Diagnostics.Process.Start(info)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (error) error.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Id => process.Id;

    public bool HasExited => process.HasExited;

    public string Output { get { lock (output) return output.ToString(); } }

    public string Error { get { lock (error) return error.ToString(); } }

    /// <summary>The exit code once it has exited and its output is read to the end.</summary>
    public int ExitCode
    {
        get
        {
            process.WaitForExit();
            return process.ExitCode;
        }
    }

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
            process.WaitForExit();
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>kill -9: no clean stop, no drain, nothing flushed.</summary>
    public void Kill9()
    {
        if (process.HasExited) return;
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
        process.WaitForExit();
    }

    public void Dispose()
    {
        Kill9();
        process.Dispose();
    }
}
