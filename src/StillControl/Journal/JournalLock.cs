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

    private JournalLock(FileStream file, bool writeAheadLogLost, WriteAheadLogDamage? damage, string? damagedCopy)
    {
        this.file = file;
        WriteAheadLogLost = writeAheadLogLost;
        WriteAheadLogDamage = damage;
        DamagedCopy = damagedCopy;
    }

    /// <summary>
    /// The service before this one stopped without closing the journal and left a write-ahead log that SQLite will not replay
    /// whole (a frame fails its checksum and committed transactions follow it): found before SQLite opened the journal.
    /// </summary>
    public WriteAheadLogDamage? WriteAheadLogDamage { get; }

    /// <summary>Where the damaged log was copied, for forensics, before SQLite replayed what it could of it; null if it could not be.</summary>
    public string? DamagedCopy { get; }

    /// <summary>Why the write-ahead log left by an unclean stop could not be checked for damage (null: checked, or nothing to check).</summary>
    public string? WriteAheadLogUnchecked { get; private init; }

    /// <summary>What <see cref="WriteAheadLogUnchecked"/> means, for people.</summary>
    public static string WriteAheadLogUncheckedMessage(string journal, string reason) =>
        $"journal {journal}: the last service stopped uncleanly and its write-ahead log {journal}-wal could not be checked for damage ({reason}); " +
        "SQLite replays it as far as its checksums allow: compare the last batch's end with what you know of it";

    /// <summary>What <see cref="WriteAheadLogDamage"/> means, for people: the file, the frame, what is lost and where the copy is.</summary>
    public static string WriteAheadLogDamagedMessage(string journal, WriteAheadLogDamage damage, string? copy) =>
        $"journal {journal}: its write-ahead log {journal}-wal is damaged after an unclean stop: {damage.Describe()}; rows written after that point " +
        "are lost; the batch goes on from the last state SQLite kept" +
        (copy is null ? "" : $"; the damaged log is kept as {copy}");

    /// <summary>For review verbs: the last writer stopped uncleanly, nobody holds the journal now, and its write-ahead log is damaged.</summary>
    public static WriteAheadLogDamage? DamagedWriteAheadLog(string journal)
    {
        var path = PathOf(journal);
        if (!File.Exists(path) || !File.Exists(journal) || WriteAheadLogGone(journal) || InUse(journal)) return null;
        try
        {
            return LeftOpen(File.ReadAllText(path)) ? WriteAheadLogCheck.Inspect(journal + "-wal") : null;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A review never fails for the check: the service's start names a log it cannot read.
            return null;
        }
    }

    /// <summary>A byte-for-byte copy of the damaged log beside the journal, before SQLite replays part of it and drops the rest.</summary>
    private static string? KeepCopy(string journal)
    {
        var stamp = DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var copy = $"{journal}-wal.damaged-{stamp}";
        for (var n = 2; File.Exists(copy); n++) copy = $"{journal}-wal.damaged-{stamp}-{n}";
        try
        {
            File.Copy(journal + "-wal", copy);
            BatchJournal.RestrictAccess(copy);
            return copy;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// The service before this one stopped without closing the journal (killed, power lost: the lock file still says
    /// <c>open</c>) and the journal's write-ahead log is gone: what was written after the last checkpoint is lost.
    /// </summary>
    public bool WriteAheadLogLost { get; }

    /// <summary>What <see cref="WriteAheadLogLost"/> means, for people: names the file and what was lost.</summary>
    public static string WriteAheadLogLostMessage(string journal) =>
        $"journal {journal}: its write-ahead log {journal}-wal is missing after an unclean stop; rows written after the last checkpoint " +
        "(every phase change and every 2 minutes) are lost; the batch goes on from the last checkpointed state";

    /// <summary>For review verbs: the last writer stopped uncleanly, nobody holds the journal now, and its write-ahead log is gone.</summary>
    public static bool LostWriteAheadLog(string journal)
    {
        var path = PathOf(journal);
        if (!File.Exists(path) || !File.Exists(journal) || !WriteAheadLogGone(journal) || InUse(journal)) return false;
        try
        {
            return LeftOpen(File.ReadAllText(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>
    /// Missing, or empty: a reader that opened the journal since recreates an empty one. A writer that was killed leaves its
    /// log at full length (a passive checkpoint never truncates it).
    /// </summary>
    private static bool WriteAheadLogGone(string journal)
    {
        var wal = new FileInfo(journal + "-wal");
        return !wal.Exists || wal.Length == 0;
    }

    private static bool LeftOpen(string content) => content.Contains(" open", StringComparison.Ordinal);

    public static string PathOf(string journal) => journal + ".lock";

    /// <summary>Takes the lock, or names the process that has it. A reviewer's check holds a shared lock for an instant: retried for 2 s.</summary>
    /// <param name="inspect">Reads the write-ahead log for damage (default: <see cref="WriteAheadLogCheck.Inspect(string)"/>).</param>
    public static JournalLock Acquire(string journal, Func<string, WriteAheadLogDamage?>? inspect = null)
    {
        var path = PathOf(journal);
        if (System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path)) is { } directory) Directory.CreateDirectory(directory);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(2);
        while (true)
        {
            try
            {
                var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                try
                {
                    // What the last holder left: "PID open" if it never got to close the journal.
                    var previous = new StreamReader(file, System.Text.Encoding.ASCII, false, 64, leaveOpen: true).ReadToEnd();
                    var unclean = LeftOpen(previous) && File.Exists(journal);
                    var lost = unclean && WriteAheadLogGone(journal);
                    WriteAheadLogDamage? damage = null;
                    string? copy = null, unchecked_ = null;
                    if (unclean && !lost)
                    {
                        // The check is a help, never a reason not to start: a log it cannot read (an I/O error on a worn card,
                        // no permission, something not a log at all) is said as such, and SQLite replays what it can as ever.
                        try
                        {
                            damage = (inspect ?? WriteAheadLogCheck.Inspect)(journal + "-wal");
                            copy = damage is null ? null : KeepCopy(journal);
                        }
                        catch (Exception e) when (e is not OutOfMemoryException)
                        {
                            unchecked_ = $"{e.GetType().Name}: {e.Message}";
                        }
                    }
                    Mark(file, "open");
                    return new JournalLock(file, lost, damage, copy) { WriteAheadLogUnchecked = unchecked_ };
                }
                catch
                {
                    // Whatever failed after the lock was taken: let it go, or every retry (and the next start) finds it held.
                    file.Dispose();
                    throw;
                }
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

    private static void Mark(FileStream file, string state)
    {
        file.SetLength(0);
        file.Position = 0;
        file.Write(System.Text.Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + " " + state + "\n"));
        file.Flush(flushToDisk: true);
    }

    /// <summary>Released after the journal was closed: the lock file says <c>closed</c>, so the next holder knows the stop was clean.</summary>
    public void Dispose()
    {
        try
        {
            Mark(file, "closed");
        }
        catch (IOException)
        {
            // A full disk: the next start then checks the write-ahead log, which is harmless.
        }
        file.Dispose();
    }
}

public sealed class JournalInUseException(string message) : Exception(message);
