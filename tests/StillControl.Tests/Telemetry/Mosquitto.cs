using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace StillControl.Telemetry;

/// <summary>
/// A real Mosquitto broker for one test: an anonymous listener and an authenticated one with an ACL, on free loopback ports,
/// started by the test and stopped (or restarted, for outages) by it. Needs Debian's mosquitto and mosquitto-clients, which
/// scripts/test.sh installs.
/// </summary>
public sealed class Mosquitto : IDisposable
{
    private readonly TestFiles files = new();
    private System.Diagnostics.Process? process;

    public int AnonymousPort { get; } = StillControl.FreePort.Next();
    public int AuthenticatedPort { get; } = StillControl.FreePort.Next();
    public const string StillUser = "still-1";
    public const string StillPassword = "steam-and-grain";
    public const string ViewerUser = "viewer";
    public const string ViewerPassword = "only-looks";
    public const string OperatorUser = "operator";
    public const string OperatorPassword = "remote-hands";

    public Mosquitto(bool persistent = false)
    {
        var passwords = files.PathOf("passwd");
        Run("mosquitto_passwd", "-b", "-c", passwords, StillUser, StillPassword);
        Run("mosquitto_passwd", "-b", passwords, ViewerUser, ViewerPassword);
        Run("mosquitto_passwd", "-b", passwords, OperatorUser, OperatorPassword);
        var acl = files.Write("acl", $"""
            user {StillUser}
            topic readwrite stillcontrol/#
            topic write homeassistant/#
            user {ViewerUser}
            topic read stillcontrol/#
            user {OperatorUser}
            topic read stillcontrol/#
            topic write stillcontrol/+/+/command
            """);
        files.Write("mosquitto.conf", $"""
            user root
            per_listener_settings true
            max_queued_messages 0
            {(persistent ? $"persistence true\npersistence_location {files.Folder}/" : "persistence false")}
            listener {AnonymousPort} 127.0.0.1
            allow_anonymous true
            listener {AuthenticatedPort} 127.0.0.1
            allow_anonymous false
            password_file {passwords}
            acl_file {acl}
            """);
        // A constructor that throws is never disposed: a broker that started but never answered is stopped here.
        try
        {
            Start();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public void Start()
    {
        process = System.Diagnostics.Process.Start(new ProcessStartInfo("mosquitto", ["-c", files.PathOf("mosquitto.conf")])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!;
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var probe = new TcpClient();
                probe.Connect(IPAddress.Loopback, AnonymousPort);
                return;
            }
            catch (SocketException)
            {
                Thread.Sleep(50);
            }
        }
        throw new InvalidOperationException($"mosquitto did not start on port {AnonymousPort}");
    }

    /// <summary>Stops the broker: SIGTERM (it saves its persistent sessions) or, with <paramref name="crash"/>, SIGKILL.</summary>
    public void Stop(bool crash = true)
    {
        if (process is { HasExited: false })
        {
            if (crash)
            {
                process.Kill();
            }
            else
            {
                using var term = System.Diagnostics.Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                term.WaitForExit();
            }
            process.WaitForExit();
        }
        process?.Dispose();
        process = null;
    }

    /// <summary>An independent subscriber (mosquitto_sub) printing "topic payload" lines, with the retained flag, until disposed.</summary>
    /// <remarks>
    /// Returns only once the broker has the subscription: the watcher also subscribes to a topic of its own under
    /// <see cref="ReadyPrefix"/> and a ping is published there until it comes back. A fixed sleep was not enough on a
    /// loaded CI machine, where a max-speed simulated batch finished before mosquitto_sub had subscribed.
    /// </remarks>
    public Subscriber Subscribe(string topic, int port, params string[] extra)
    {
        var subscriber = new Subscriber(topic, port, extra);
        try
        {
            return WaitUntilReady(subscriber, port);
        }
        catch
        {
            subscriber.Dispose();
            throw;
        }
    }

    private Subscriber WaitUntilReady(Subscriber subscriber, int port)
    {
        var credentials = port == AnonymousPort ? Array.Empty<string>() : ["-u", StillUser, "-P", StillPassword];
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            Publish(port, subscriber.ReadyTopic, "ready", credentials);
            var wait = DateTime.UtcNow + TimeSpan.FromMilliseconds(500);
            while (DateTime.UtcNow < wait)
            {
                if (subscriber.IsReady) return subscriber;
                Thread.Sleep(20);
            }
        }
        throw new InvalidOperationException($"mosquitto_sub on port {port} did not receive its own ready ping within 15 s");
    }

    /// <summary>Topics the test watchers use to learn that their subscription is in place; never in <see cref="Subscriber.Messages"/>.</summary>
    public const string ReadyPrefix = "stillcontrol/test-ready/";

    public static string Publish(int port, string topic, string payload, params string[] extra)
    {
        var args = new List<string> { "-h", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-t", topic, "-q", "1", "-m", payload };
        args.AddRange(extra);
        return Run("mosquitto_pub", args.ToArray());
    }

    private static string Run(string file, params string[] args)
    {
        using var p = System.Diagnostics.Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false })!;
        var output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({p.ExitCode}): {output}");
        return output;
    }

    public void Dispose()
    {
        Stop();
        files.Dispose();
    }

    public sealed class Subscriber : IDisposable
    {
        private readonly System.Diagnostics.Process process;
        private readonly StringBuilder lines = new();
        private volatile bool ready;

        public Subscriber(string topic, int port, string[] extra)
        {
            var id = Guid.NewGuid().ToString("N")[..10];
            ReadyTopic = ReadyPrefix + id;
            var args = new List<string> { "-h", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-t", topic, "-t", ReadyTopic, "-q", "1", "-v", "-F", "%t %r %p", "-i", "watcher-" + id };
            args.AddRange(extra);
            process = System.Diagnostics.Process.Start(new ProcessStartInfo("mosquitto_sub", args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false })!;
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                if (e.Data.StartsWith(ReadyPrefix, StringComparison.Ordinal))
                {
                    if (e.Data.StartsWith(ReadyTopic + " ", StringComparison.Ordinal)) ready = true;
                    return;
                }
                lock (lines) lines.AppendLine(e.Data);
            };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public string ReadyTopic { get; }

        public bool IsReady => ready;

        /// <summary>Received messages as (topic, retained, payload).</summary>
        public List<(string Topic, bool Retained, string Payload)> Messages
        {
            get
            {
                string text;
                lock (lines) text = lines.ToString();
                return text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line =>
                {
                    var first = line.IndexOf(' ');
                    var second = line.IndexOf(' ', first + 1);
                    return (line[..first], line[(first + 1)..second] == "1", line[(second + 1)..].TrimEnd('\r'));
                }).ToList();
            }
        }

        public async Task<List<(string Topic, bool Retained, string Payload)>> WaitFor(Func<List<(string Topic, bool Retained, string Payload)>, bool> done, TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (DateTime.UtcNow < deadline)
            {
                var messages = Messages;
                if (done(messages)) return messages;
                await Task.Delay(50);
            }
            return Messages;
        }

        public void Dispose()
        {
            if (!process.HasExited) process.Kill();
            process.Dispose();
        }
    }
}
