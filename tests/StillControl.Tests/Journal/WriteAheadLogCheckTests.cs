using Microsoft.Data.Sqlite;

namespace StillControl.Journal;

/// <summary>
/// The hand-read write-ahead log against SQLite itself: a log SQLite wrote is whole, a damaged frame is found, and the
/// committed transactions the check says are lost are exactly the ones SQLite silently drops when it opens the journal.
/// </summary>
public sealed class WriteAheadLogCheckTests : IDisposable
{
    private readonly TestFiles files = new();

    /// <summary>A database in WAL mode with <paramref name="transactions"/> one-row commits in its log (no checkpoint), copied with its log while open.</summary>
    private (string Database, byte[] Wal) Written(int transactions, Action<SqliteConnection>? between = null, int after = 0)
    {
        var path = files.PathOf($"w-{Guid.NewGuid():N}.db");
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        Execute(connection, "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0; CREATE TABLE t (n INTEGER, pad TEXT);");
        Execute(connection, "PRAGMA wal_checkpoint(TRUNCATE);");
        for (var i = 0; i < transactions; i++) Execute(connection, $"INSERT INTO t VALUES ({i}, printf('%.3000c', 'x'));");
        between?.Invoke(connection);
        for (var i = 0; i < after; i++) Execute(connection, $"INSERT INTO t VALUES ({transactions + i}, printf('%.3000c', 'y'));");
        // While the connection is open the log is as a killed writer leaves it (a clean close would checkpoint and delete it).
        var wal = File.ReadAllBytes(path + "-wal");
        var database = files.PathOf($"copy-{Guid.NewGuid():N}.db");
        File.Copy(path, database);
        return (database, wal);
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>What SQLite replays of this database file with this log beside it: the rows it sees.</summary>
    private static long RowsSqliteSees(string database, byte[] wal)
    {
        File.WriteAllBytes(database + "-wal", wal);
        using var connection = new SqliteConnection($"Data Source={database};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM t";
        return (long)command.ExecuteScalar()!;
    }

    private static WriteAheadLogDamage? Check(byte[] wal) => WriteAheadLogCheck.Inspect(new MemoryStream(wal));

    private static int PageSize(byte[] wal) => System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(wal.AsSpan(8));

    [Fact]
    public void A_log_sqlite_wrote_is_whole()
    {
        var (database, wal) = Written(20);
        Assert.Null(Check(wal));
        Assert.Equal(20, RowsSqliteSees(database, wal));
    }

    [Fact]
    public void A_damaged_frame_in_the_middle_is_found_and_the_commits_lost_are_the_ones_sqlite_drops()
    {
        var (database, wal) = Written(20);
        var frameBytes = 24 + PageSize(wal);
        var frames = (wal.Length - 32) / frameBytes;
        var bad = frames / 2; // 0-based
        wal[32 + bad * frameBytes + 24 + 50] ^= 0x01;
        var damage = Check(wal);
        Assert.NotNull(damage);
        Assert.Equal(frames, damage.FramesInFile);
        Assert.Equal(bad + 1, damage.FirstBadFrame);
        Assert.True(damage.FramesReplayed < bad + 1);
        var seen = RowsSqliteSees(database, wal);
        // SQLite opens it without a word and simply has fewer rows: exactly the transactions the check counted as lost.
        Assert.True(seen < 20);
        Assert.Equal(20 - seen, damage.CommitsLost);
        Assert.Contains($"frame {bad + 1} of {frames} fails its checksum", damage.Describe());
    }

    [Fact]
    public void Damage_in_the_last_commit_frame_is_one_commit_lost()
    {
        var (database, wal) = Written(5);
        var frameBytes = 24 + PageSize(wal);
        var frames = (wal.Length - 32) / frameBytes;
        wal[32 + (frames - 1) * frameBytes + 24 + 10] ^= 0xFF;
        var damage = Check(wal);
        Assert.NotNull(damage);
        Assert.Equal(1, damage.CommitsLost);
        Assert.Equal(4, RowsSqliteSees(database, wal));
    }

    [Fact]
    public void Frames_of_an_older_generation_after_a_restarted_log_are_not_damage()
    {
        // 20 commits, a checkpoint that lets the next writer start the log again, then 2 commits over its first frames: the
        // file still holds the older frames after them (other salts), which SQLite ignores by design.
        var (database, wal) = Written(20, c => Execute(c, "PRAGMA wal_checkpoint(RESTART);"), after: 2);
        var frameBytes = 24 + PageSize(wal);
        var salts = wal.AsSpan(16, 8).ToArray();
        Assert.False(wal.AsSpan(32 + ((wal.Length - 32) / frameBytes - 1) * frameBytes + 8, 8).SequenceEqual(salts), "the log did not restart");
        Assert.Null(Check(wal));
        Assert.Equal(22, RowsSqliteSees(database, wal));
    }

    [Fact]
    public void A_damaged_header_loses_the_whole_log_and_an_empty_or_missing_one_loses_nothing()
    {
        var (database, wal) = Written(3);
        wal[17] ^= 0x01; // a salt: the header's checksum no longer matches
        var damage = Check(wal);
        Assert.NotNull(damage);
        Assert.Equal(0, damage.FirstBadFrame);
        Assert.Contains("header is damaged", damage.Describe());
        Assert.Equal(0, RowsSqliteSees(database, wal));
        Assert.Null(Check([]));
        Assert.Null(WriteAheadLogCheck.Inspect(files.PathOf("no-such.db-wal")));
    }

    [Fact]
    public void A_log_that_cannot_be_read_after_an_unclean_stop_is_named_and_never_keeps_the_service_from_starting()
    {
        // The last service was killed ("PID open") and left its log; reading it fails as a worn card fails (an I/O error).
        var (database, wal) = Written(2);
        File.WriteAllBytes(database + "-wal", wal);
        File.WriteAllText(JournalLock.PathOf(database), "4242 open\n");
        static WriteAheadLogDamage? Failing(string path) => throw new IOException($"{path}: Input/output error");

        using (var held = JournalLock.Acquire(database, Failing))
        {
            Assert.Null(held.WriteAheadLogDamage);
            Assert.Contains("Input/output error", held.WriteAheadLogUnchecked);
            Assert.Contains("could not be checked", JournalLock.WriteAheadLogUncheckedMessage(database, held.WriteAheadLogUnchecked!));
            // Held: a second service is refused as ever.
            Assert.Throws<JournalInUseException>(() => JournalLock.Acquire(database));
        }
        // Released on dispose (the lock says closed now: nothing left to check).
        using var again = JournalLock.Acquire(database, Failing);
        Assert.Null(again.WriteAheadLogUnchecked);
    }

    public void Dispose() => files.Dispose();
}
