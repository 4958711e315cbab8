using System.Diagnostics;

namespace StillControl.Reports;

/// <summary>Debian's chromium, headless: loads a file, gives back the DOM after load, its console messages, and a screenshot.</summary>
public static class Chromium
{
    public static (string Dom, List<string> Console) Load(string file)
    {
        var (output, error) = Run(["--dump-dom", new Uri(file).AbsoluteUri]);
        // With --enable-logging=stderr every console message (log, warning, error) of the page appears as INFO:CONSOLE.
        var console = error.Split('\n').Where(l => l.Contains(":CONSOLE", StringComparison.Ordinal)).ToList();
        return (output, console);
    }

    public static void Screenshot(string file, string png, int width = 1100, int height = 3200) =>
        Run([$"--screenshot={png}", $"--window-size={width},{height}", "--hide-scrollbars", new Uri(file).AbsoluteUri]);

    private static (string Output, string Error) Run(string[] args)
    {
        var info = new ProcessStartInfo("chromium") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // No network is contacted: the report is a local file with no external asset, and these switches keep the browser off it.
        foreach (var arg in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--enable-logging=stderr", "--v=0", $"--user-data-dir={Path.Combine(Path.GetTempPath(), "stillcontrol-chromium-" + Environment.ProcessId)}" })
        {
            info.ArgumentList.Add(arg);
        }
        foreach (var arg in args) info.ArgumentList.Add(arg);
        using var process = System.Diagnostics.Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("chromium did not finish in 2 minutes");
        }
        return (output.Result, error.Result);
    }
}
