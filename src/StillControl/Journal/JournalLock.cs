using System.Globalization;

namespace StillControl.Journal;

/// <summary>
/// The one service (<c>run</c> or <c>simulate</c>) that writes a journal holds <c>JOURNAL.lock</c> open with an exclusive
/// advisory lock (.NET takes flock for FileShare.None on Linux). The kernel drops the lock when the process ends, however it
/// ends, so a reviewer can tell a batch that is running now from one that was interrupted, and a second service on the same
/// journal (and so, very likely, on the same still's outputs) is refused before it opens anything.
/// </summary>
public sealed class JournalLock : IDisposable
{
    private readonly FileStream file;

    private JournalLock(FileStream file) => this.file = file;

    public static string PathOf(string journal) => journal + ".lock";

    /// <summary>Takes the lock, or names the process that has it. A reviewer's check holds a shared lock for an instant: retried for 2 s.</summary>
    public static JournalLock Acquire(string journal)
    {
        var path = PathOf(journal);
        if (System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path)) is { } directory) Directory.CreateDirectory(directory);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(2);
        while (true)
        {
            try
            {
                var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                file.SetLength(0);
                file.Write(System.Text.Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n"));
                file.Flush();
                return new JournalLock(file);
            }
            catch (IOException e) when (e is not (DirectoryNotFoundException or PathTooLongException) && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(100);
            }
            catch (IOException e) when (e is not (DirectoryNotFoundException or PathTooLongException))
            {
                // The holder's pid is in the file, but the lock keeps other .NET readers out of it: 'fuser' names the process.
                throw new JournalInUseException($"journal {journal} is in use by another stillcontrol process (it holds {path}; 'fuser -v {path}' names it): one service per journal; stop it first, or choose another journal");
            }
        }
    }

    /// <summary>True while a service holds the journal: its unfinished batch is running now, not interrupted.</summary>
    public static bool InUse(string journal)
    {
        var path = PathOf(journal);
        if (!File.Exists(path)) return false;
        try
        {
            using var probe = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            return false;
        }
        catch (IOException)
        {
            return true;
        }
        catch (UnauthorizedAccessException)
        {
            // A reviewer without read access to the service's files cannot tell; saying "running" never invites a resume.
            return true;
        }
    }

    public void Dispose() => file.Dispose();
}

public sealed class JournalInUseException(string message) : Exception(message);
