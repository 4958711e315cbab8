using Microsoft.Data.Sqlite;

namespace StillControl.Journal;

/// <summary>
/// Copies the journal's write-ahead log into its main file on a thread of its own, through a connection of its own, so the control
/// loop never waits for the two disk flushes a checkpoint costs (tens of milliseconds on an SD card, in a step of 250). The loop
/// commits first and then asks; a passive checkpoint never blocks the loop's writes, and asks that come while one runs are served
/// by the next one, which covers them all.
/// </summary>
internal sealed class BackgroundCheckpointer : IDisposable
{
    private readonly string path;
    private readonly SemaphoreSlim wanted = new(0, 1);
    private readonly Thread thread;
    private volatile bool stopping;
    private long completed;
    private string? lastFailure;

    public BackgroundCheckpointer(string path)
    {
        this.path = path;
        thread = new Thread(Run) { IsBackground = true, Name = "stillcontrol-journal-checkpoint" };
        thread.Start();
    }

    /// <summary>Checkpoints done since the start (tests wait on it).</summary>
    public long Completed => Interlocked.Read(ref completed);

    /// <summary>Why the last checkpoint failed, null once one succeeds again.</summary>
    public string? LastFailure => Volatile.Read(ref lastFailure);

    /// <summary>Asks for a checkpoint of everything committed so far; never waits.</summary>
    public void Request()
    {
        try
        {
            wanted.Release();
        }
        catch (SemaphoreFullException)
        {
            // One is already asked for and not yet begun: it will cover this commit too.
        }
    }

    private void Run()
    {
        SqliteConnection? connection = null;
        try
        {
            while (true)
            {
                wanted.Wait();
                if (stopping) return;
                try
                {
                    if (connection is null)
                    {
                        connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
                        connection.Open();
                        using var setup = connection.CreateCommand();
                        setup.CommandText = "PRAGMA busy_timeout=5000;";
                        setup.ExecuteNonQuery();
                    }
                    using var command = connection.CreateCommand();
                    command.CommandText = "PRAGMA wal_checkpoint(PASSIVE);";
                    command.ExecuteNonQuery();
                    BatchJournal.RestrictAccess(path);
                    Volatile.Write(ref lastFailure, null);
                }
                catch (SqliteException ex)
                {
                    // A full disk or a locked file: the log keeps the data, the next checkpoint tries again.
                    Volatile.Write(ref lastFailure, ex.Message);
                }
                Interlocked.Increment(ref completed);
            }
        }
        finally
        {
            connection?.Dispose();
        }
    }

    /// <summary>Finishes a checkpoint under way, then closes its connection (before the journal's own, which removes the log).</summary>
    public void Dispose()
    {
        stopping = true;
        Request();
        thread.Join();
        wanted.Dispose();
    }
}
