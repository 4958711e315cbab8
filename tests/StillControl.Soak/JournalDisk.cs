using System.Diagnostics;
using System.Globalization;

namespace StillControl.Soak;

/// <summary>
/// The journal's own small disk: a tmpfs mounted over <see cref="Folder"/> inside a private mount namespace (<c>unshare -m</c>,
/// as root), held open by a shell that lives as long as the test process does. Services are started inside that namespace
/// with <c>nsenter</c>; the test reads and fills the disk through <c>/proc/HOLDER/root</c>. Nothing is ever mounted in the
/// test's own namespace, so nothing can be left mounted: the tmpfs goes with the last process in the namespace, which is the
/// holder (killed by <see cref="Dispose"/>, or ending by itself within a second of the test process).
/// </summary>
public sealed class JournalDisk : IDisposable
{
    private readonly System.Diagnostics.Process holder;

    public string Folder { get; }

    public int Megabytes { get; }

    public JournalDisk(string folder, int megabytes)
    {
        if (Environment.UserName != "root") throw new InvalidOperationException("the soak mounts the journal's tmpfs in a private mount namespace: run it as root (CI does)");
        Folder = folder;
        Megabytes = megabytes;
        Directory.CreateDirectory(folder);
        var info = new ProcessStartInfo("unshare") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "-m", "--propagation", "private", "--", "sh", "-c",
            "mount -t tmpfs -o size=\"$1\"m,mode=0755 tmpfs \"$0\" || exit 1; echo mounted; while kill -0 \"$2\" 2>/dev/null; do sleep 1; done",
            folder, megabytes.ToString(CultureInfo.InvariantCulture), Environment.ProcessId.ToString(CultureInfo.InvariantCulture) })
        {
            info.ArgumentList.Add(arg);
        }
        holder = System.Diagnostics.Process.Start(info)!;
        try
        {
            var line = holder.StandardOutput.ReadLineAsync();
            if (!line.Wait(TimeSpan.FromSeconds(20)) || line.Result != "mounted")
            {
                throw new InvalidOperationException($"could not mount a tmpfs for the journal: {holder.StandardError.ReadToEnd()}");
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>A path on the tmpfs as the test sees it (through the holder's root).</summary>
    public string Outside(string name) => $"/proc/{holder.Id}/root{Folder}/{name}";

    /// <summary>A path on the tmpfs as a service inside the namespace sees it.</summary>
    public string Inside(string name) => Path.Combine(Folder, name);

    /// <summary>The command prefix that runs a program inside the namespace (nsenter execs it: the pid is the program's).</summary>
    public string[] Enter => ["nsenter", $"--mount=/proc/{holder.Id}/ns/mnt", "--"];

    private string FillerPath => Outside("filler");

    /// <summary>Writes a file until the disk is full; returns the bytes written.</summary>
    public long Fill()
    {
        var chunk = new byte[1 << 20];
        long written = 0;
        try
        {
            using var file = new FileStream(FillerPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.None);
            while (true)
            {
                file.Write(chunk);
                written += chunk.Length;
                file.Flush();
            }
        }
        catch (IOException)
        {
            // ENOSPC: the disk is full (a last partial write may have gone in too).
        }
        // Top up with small writes: a tmpfs may still take a few pages after a 1 MiB write failed.
        try
        {
            using var file = new FileStream(FillerPath, FileMode.Append, FileAccess.Write, FileShare.None, 1, FileOptions.None);
            var small = new byte[4096];
            while (true)
            {
                file.Write(small);
                file.Flush();
                written += small.Length;
            }
        }
        catch (IOException)
        {
        }
        return written;
    }

    public void Free() => File.Delete(FillerPath);

    public void Dispose()
    {
        try
        {
            if (!holder.HasExited)
            {
                holder.Kill();
                holder.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        holder.Dispose();
    }
}
