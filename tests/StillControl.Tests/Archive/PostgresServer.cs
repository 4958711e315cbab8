using System.Diagnostics;
using OsProcess = System.Diagnostics.Process;
using System.Globalization;
using Npgsql;

namespace StillControl.Archive;

/// <summary>
/// A real PostgreSQL server for one test class: Debian's postgresql package (scripts/test.sh installs it), a cluster made with
/// initdb in a temporary folder, the server on a free loopback port with its unix socket in that folder. PostgreSQL refuses to
/// run as root, so both run as the <c>postgres</c> user (setpriv, which execs: the process started here is the server itself).
/// Stopped and deleted on Dispose, and on a constructor that fails half-way. The cluster service the package starts is not used.
/// </summary>
public sealed class PostgresServer : IDisposable
{
    private const string User = "postgres";
    private static readonly string Bin = FindBin();
    private readonly string folder;
    private readonly OsProcess? server;
    private readonly System.Text.StringBuilder log = new();
    private int databases;

    public int Port { get; } = StillControl.FreePort.Next();

    /// <param name="durable">Keep fsync on (the figures in the bench); tests turn it off, as they never crash the server itself.</param>
    public PostgresServer(bool durable = false)
    {
        folder = Directory.CreateTempSubdirectory("stillcontrol-pg-").FullName;
        try
        {
            Run("chown", "-R", $"{User}:{User}", folder);
            Run("chmod", "700", folder);
            var data = Path.Combine(folder, "data");
            Run("setpriv", AsPostgres([Path.Combine(Bin, "initdb"), "-D", data, "-U", User, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"]));
            var start = new ProcessStartInfo("setpriv") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var arg in AsPostgres([Path.Combine(Bin, "postgres"), "-D", data, "-p", Port.ToString(CultureInfo.InvariantCulture), "-k", folder,
                "-c", "listen_addresses=127.0.0.1", "-c", $"fsync={(durable ? "on" : "off")}", "-c", "max_connections=50"]))
            {
                start.ArgumentList.Add(arg);
            }
            server = OsProcess.Start(start)!;
            server.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
            server.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
            server.BeginOutputReadLine();
            server.BeginErrorReadLine();
            WaitUntilReady();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>A connection string to the server's maintenance database.</summary>
    public string AdminConnection => $"Host=127.0.0.1;Port={Port};Username={User};Database=postgres;Pooling=false;Timeout=5";

    /// <summary>A fresh, empty database of its own, as a connection string an archive takes.</summary>
    public string NewDatabase()
    {
        var name = $"archive_{Interlocked.Increment(ref databases)}";
        using var connection = new NpgsqlConnection(AdminConnection);
        connection.Open();
        using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        command.ExecuteNonQuery();
        return $"Host=127.0.0.1;Port={Port};Username={User};Database={name}";
    }

    public string Log { get { lock (log) return log.ToString(); } }

    private void WaitUntilReady()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            if (server!.HasExited) throw new InvalidOperationException($"postgres exited with {server.ExitCode}: {Log}");
            try
            {
                using var connection = new NpgsqlConnection(AdminConnection);
                connection.Open();
                return;
            }
            catch (NpgsqlException ex)
            {
                last = ex;
                Thread.Sleep(100);
            }
        }
        throw new InvalidOperationException($"postgres did not accept connections on port {Port} within 60 s ({last?.Message}): {Log}");
    }

    private static string[] AsPostgres(string[] command) => ["--reuid", User, "--regid", User, "--init-groups", "--", .. command];

    private static string FindBin()
    {
        var root = "/usr/lib/postgresql";
        var version = Directory.Exists(root)
            ? Directory.GetDirectories(root).Select(Path.GetFileName).Where(v => int.TryParse(v, out _)).OrderByDescending(v => int.Parse(v!, CultureInfo.InvariantCulture)).FirstOrDefault()
            : null;
        return version is null ? Path.Combine(root, "15", "bin") : Path.Combine(root, version, "bin");
    }

    private static void Run(string file, params string[] args)
    {
        using var p = OsProcess.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false })!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({p.ExitCode}): {stdout.Result}{stderr}");
    }

    public void Dispose()
    {
        NpgsqlConnection.ClearAllPools();
        if (server is not null)
        {
            if (!server.HasExited)
            {
                // SIGINT: PostgreSQL's fast shutdown (ends its sessions, checkpoints, exits); killed if it takes too long.
                using (var interrupt = OsProcess.Start("kill", ["-INT", server.Id.ToString(CultureInfo.InvariantCulture)])) interrupt.WaitForExit();
                if (!server.WaitForExit(15_000)) server.Kill(entireProcessTree: true);
                server.WaitForExit();
            }
            server.Dispose();
        }
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }
}
