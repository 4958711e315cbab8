using System.Text.Json;
using Microsoft.Data.Sqlite;
using StillControl.Cli;

namespace StillControl.Journal;

/// <summary>What a damaged journal still gives back: a lost write-ahead log costs minutes, a garbled row costs that row.</summary>
public class JournalDamageTests
{
    private static Task<(int Exit, string Output, string Error)> Run(params string[] args) => InProcess.Run(args);

    /// <summary>A real journal left by a simulated batch killed with kill -9 in heads (after the sealing's checkpoint): its WAL as the kill left it.</summary>
    private static async Task KilledInHeads(TestFiles files, string journal)
    {
        using (var service = StillControlProcess.Start(files.Folder, "simulate", "--speed", "300", "--verbose", "--mqtt", "off", "--journal", journal))
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(180);
            // After the rehearsal that places the batch (it logs its own phases too): the batch itself reaching heads.
            bool InHeads()
            {
                var log = service.Error;
                var starts = log.Split("Control loop started").Length - 1;
                return starts >= 2 && log[log.LastIndexOf("Control loop started", StringComparison.Ordinal)..].Contains("sealed → heads");
            }
            while (DateTime.UtcNow < deadline && !InHeads()) await Task.Delay(100);
            Assert.True(InHeads(), service.Error);
            service.Process.Kill();
            await service.WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    [Fact]
    public async Task A_killed_service_whose_write_ahead_log_is_then_lost_still_leaves_its_batch_up_to_the_last_phase_change()
    {
        using var files = new TestFiles();
        var journal = files.PathOf("journal.db");
        await KilledInHeads(files, journal);
        // The WAL (and its index) gone, as after a careless copy or a damaged card: the main file alone must hold the batch.
        File.Delete(journal + "-wal");
        File.Delete(journal + "-shm");
        var list = await Run("batches", "--journal", journal, "--json");
        Assert.True(list.Exit == 0, list.Error);
        var batch = Assert.Single(JsonDocument.Parse(list.Output).RootElement.EnumerateArray().ToList());
        Assert.Equal("interrupted", batch.GetProperty("activity").GetString());
        // At least as far as the sealing, whose phase change was checkpointed before the kill (the kill may come a phase later).
        Assert.Contains(batch.GetProperty("phase").GetString(), new[] { "sealed", "heads", "hearts", "tails", "steaming" });
        // The loss is named, not silent: by the review verbs, and by the service that resumes the batch, as an alarm in it.
        Assert.Contains($"its write-ahead log {journal}-wal is missing after an unclean stop", list.Error);
        var resumed = await Run("simulate", "--resume", "--journal", journal, "--mqtt", "off", "--json");
        Assert.True(resumed.Exit == 0, resumed.Error);
        Assert.Contains("is missing after an unclean stop", resumed.Error);
        var batchId = JsonDocument.Parse(resumed.Output).RootElement.GetProperty("batchId").GetString();
        using (var reader = new BatchJournal(journal, TimeProvider.System, TimeSpan.FromSeconds(1)))
        {
            Assert.Contains(reader.Events(batchId), e => e.Code == "journal-wal-missing" && e.Kind == "alarm-raised");
        }
        // A clean stop leaves nothing to warn about.
        var after = await Run("batches", "--journal", journal);
        Assert.DoesNotContain("write-ahead log", after.Error);
    }

    [Fact]
    public async Task A_killed_services_write_ahead_log_damaged_in_the_middle_is_named_alarmed_and_kept_for_forensics()
    {
        using var files = new TestFiles();
        var journal = files.PathOf("journal.db");
        await KilledInHeads(files, journal);
        var wal = journal + "-wal";
        Assert.True(new FileInfo(wal).Length > 32, "the kill left no write-ahead log to damage");
        // The log as the kill left it is whole: reviewing it warns of nothing (older frames past the current ones are not damage).
        var before = await Run("batches", "--journal", journal);
        Assert.True(before.Exit == 0, before.Error);
        Assert.DoesNotContain("write-ahead log", before.Error);

        // Flip bytes in the page of a frame in the middle of the log's current generation (the frames carrying the header's salts).
        var bytes = File.ReadAllBytes(wal);
        var pageSize = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(8));
        var salts = bytes.AsSpan(16, 8).ToArray();
        var frameBytes = 24 + pageSize;
        var current = 0;
        while (32 + (long)(current + 1) * frameBytes <= bytes.Length && bytes.AsSpan(32 + current * frameBytes + 8, 8).SequenceEqual(salts)) current++;
        Assert.True(current >= 4, $"only {current} frames in the log's current generation");
        var middle = current / 2; // 0-based; frame middle + 1 as SQLite counts
        for (var i = 0; i < 8; i++) bytes[32 + middle * frameBytes + 24 + 100 + i] ^= 0x5A;
        File.WriteAllBytes(wal, bytes);

        // Every review verb names it (SQLite alone would replay up to the damaged frame and say nothing).
        var list = await Run("batches", "--journal", journal, "--json");
        Assert.True(list.Exit == 0, list.Error);
        Assert.Contains($"its write-ahead log {journal}-wal is damaged after an unclean stop: frame {middle + 1} of ", list.Error);
        Assert.Contains("committed transaction", list.Error);
        var id = JsonDocument.Parse(list.Output).RootElement[0].GetProperty("id").GetString()!;
        var report = await Run("report", id, "--journal", journal, "--out", files.PathOf("r.html"));
        Assert.Contains($"{journal}-wal is damaged", report.Error);
        // Reviewing changed nothing: the log is still as damaged as before.
        Assert.Equal(bytes, File.ReadAllBytes(wal));

        // The service that resumes the batch keeps a copy of the damaged log before SQLite touches it, and alarms in the batch.
        var resumed = await Run("simulate", "--resume", "--journal", journal, "--mqtt", "off", "--json");
        Assert.True(resumed.Exit == 0, resumed.Error);
        Assert.Contains($"{journal}-wal is damaged", resumed.Error);
        var copy = Assert.Single(Directory.GetFiles(files.Folder, "journal.db-wal.damaged-*"));
        Assert.Contains($"the damaged log is kept as {copy}", resumed.Error);
        Assert.Equal(bytes, File.ReadAllBytes(copy));
        var batchId = JsonDocument.Parse(resumed.Output).RootElement.GetProperty("batchId").GetString();
        Assert.Equal(id, batchId);
        using (var reader = new BatchJournal(journal, TimeProvider.System, TimeSpan.FromSeconds(1)))
        {
            var alarm = Assert.Single(reader.Events(batchId), e => e.Code == "journal-wal-damaged");
            Assert.Equal("alarm-raised", alarm.Kind);
            Assert.Contains($"frame {middle + 1} of ", alarm.Message);
        }
        // Named once: after the clean stop nothing is left to warn about.
        var after = await Run("batches", "--journal", journal);
        Assert.DoesNotContain("write-ahead log", after.Error);
    }

    [Fact]
    public async Task A_garbled_state_row_is_named_and_skipped_and_every_other_batch_is_reviewed()
    {
        using var files = new TestFiles();
        var journal = files.PathOf("journal.db");
        Assert.Equal(0, (await Run("simulate", "--journal", journal, "--mqtt", "off")).Exit);
        Assert.Equal(0, (await Run("simulate", "--journal", journal, "--mqtt", "off", "--seed", "2")).Exit);
        var ids = JsonDocument.Parse((await Run("batches", "--journal", journal, "--json")).Output).RootElement.EnumerateArray().Select(b => b.GetProperty("id").GetString()!).ToList();
        Assert.Equal(2, ids.Count);
        using (var connection = new SqliteConnection($"Data Source={journal};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE batches SET state_json = '{\"phase\": garbage' WHERE id = $id";
            command.Parameters.AddWithValue("$id", ids[0]);
            Assert.Equal(1, command.ExecuteNonQuery());
        }
        var list = await Run("batches", "--journal", journal, "--json");
        Assert.True(list.Exit == 0, list.Error);
        Assert.Equal(2, JsonDocument.Parse(list.Output).RootElement.GetArrayLength());

        var report = await Run("report", ids[0], "--journal", journal, "--out", files.PathOf("r.html"));
        Assert.Equal(2, report.Exit);
        Assert.Contains($"batch {ids[0]}: its stored state is damaged", report.Error);
        Assert.DoesNotContain("   at ", report.Error);

        var good = await Run("report", ids[1], "--journal", journal, "--out", files.PathOf("good.html"));
        Assert.Equal(0, good.Exit);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Journal_files_are_not_readable_by_everyone()
    {
        using var files = new TestFiles();
        var journal = files.PathOf("journal.db");
        Assert.Equal(0, (await Run("simulate", "--journal", journal, "--mqtt", "off")).Exit);
        var mode = File.GetUnixFileMode(journal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, mode);
    }

    [Fact]
    public async Task A_full_disk_stops_the_batch_safe_with_journal_full_and_an_exit_status_systemd_does_not_restart()
    {
        if (Environment.UserName != "root") throw new InvalidOperationException("a small tmpfs is mounted in a private mount namespace: run as root (CI does)");
        using var files = new TestFiles();
        var disk = files.PathOf("disk");
        Directory.CreateDirectory(disk);
        var info = new System.Diagnostics.ProcessStartInfo("unshare") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "-m", "--propagation", "private", "--", "sh", "-c",
            "mount -t tmpfs -o size=1500k tmpfs \"$0\" && exec dotnet \"$1\" simulate --mqtt off --journal \"$0/journal.db\"",
            disk, Path.Combine(AppContext.BaseDirectory, "stillcontrol.dll") })
        {
            info.ArgumentList.Add(arg);
        }
        using var process = System.Diagnostics.Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(120_000), "simulate on a full disk did not end");
        await output;
        Assert.Equal(CommandLine.JournalFullExitCode, process.ExitCode);
        Assert.Contains("journal-full: journal", error);
        Assert.Contains("outputs safe", error);
        Assert.DoesNotContain("internal error", error);
    }
}
