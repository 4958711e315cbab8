using System.Diagnostics;
using System.Text.Json;

namespace StillControl.Notifications;

/// <summary>One mail as the sink got it, parsed by Python's own e-mail package (not by MimeKit, which sends it).</summary>
public sealed record ReceivedMail(string MailFrom, List<string> RcptTos, string? Login, string Subject, string From, string To, string ContentType, string? Charset, string TransferEncoding, string Body, string MessageId, string Raw);

/// <summary>
/// A real SMTP server on a free loopback port: Debian's python3-aiosmtpd, with a handler that writes each message as it came
/// (and as Python's e-mail package reads it) to a folder. Optionally asks for a login (plain AUTH without TLS, loopback only).
/// </summary>
public sealed class SmtpSink : IDisposable
{
    private const string Script = """
        import email, email.policy, json, os, sys, threading, time
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        port, folder = int(sys.argv[1]), sys.argv[2]
        user = sys.argv[3] if len(sys.argv) > 3 else None
        password = sys.argv[4] if len(sys.argv) > 4 else None
        counter = [0]

        def authenticate(server, session, envelope, mechanism, auth_data):
            ok = user is not None and auth_data.login.decode() == user and auth_data.password.decode() == password
            return AuthResult(success=ok, handled=False, auth_data=auth_data)

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                raw = envelope.original_content or envelope.content
                message = email.message_from_bytes(raw, policy=email.policy.default)
                body = message.get_body(preferencelist=('plain',))
                counter[0] += 1
                name = os.path.join(folder, "%06d" % counter[0])
                login = session.login_data.decode() if session.authenticated and isinstance(session.login_data, bytes) else None
                record = {
                    "mailFrom": envelope.mail_from, "rcptTos": envelope.rcpt_tos, "login": login,
                    "subject": str(message["Subject"]), "from": str(message["From"]), "to": str(message["To"]),
                    "contentType": body.get_content_type(), "charset": body.get_content_charset(),
                    "transferEncoding": str(body["Content-Transfer-Encoding"]), "body": body.get_content(),
                    "messageId": str(message["Message-ID"]), "raw": raw.decode("ascii", "replace"),
                }
                with open(name + ".tmp", "w", encoding="utf-8") as f:
                    json.dump(record, f, ensure_ascii=False)
                os.rename(name + ".tmp", name + ".json")
                return "250 OK"

        kwargs = {}
        if user is not None:
            kwargs = dict(authenticator=authenticate, auth_required=True, auth_require_tls=False)
        controller = Controller(Handler(), hostname="127.0.0.1", port=port, **kwargs)
        controller.start()
        print("ready", flush=True)
        sys.stdin.read()
        controller.stop()
        """;

    private readonly TestFiles files = new();
    private readonly System.Diagnostics.Process process;

    public int Port { get; } = FreePort.Next();
    public string Folder { get; }

    public SmtpSink(string? user = null, string? password = null)
    {
        Folder = Directory.CreateDirectory(files.PathOf("mail")).FullName;
        var script = files.Write("smtp_sink.py", Script);
        var arguments = new List<string> { script, Port.ToString(System.Globalization.CultureInfo.InvariantCulture), Folder };
        if (user is not null) arguments.AddRange([user, password!]);
        process = System.Diagnostics.Process.Start(new ProcessStartInfo("/usr/bin/python3", arguments)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        })!;
        try
        {
            var ready = process.StandardOutput.ReadLineAsync();
            if (!ready.Wait(TimeSpan.FromSeconds(20)) || ready.Result != "ready")
            {
                throw new InvalidOperationException($"the SMTP sink (python3-aiosmtpd) did not start: {process.StandardError.ReadToEnd()}");
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public IReadOnlyList<ReceivedMail> Mails() =>
        Directory.GetFiles(Folder, "*.json").Order(StringComparer.Ordinal)
            .Select(f => JsonSerializer.Deserialize<ReceivedMail>(File.ReadAllText(f), new JsonSerializerOptions { PropertyNameCaseInsensitive = true })!)
            .ToList();

    public async Task<IReadOnlyList<ReceivedMail>> WaitForAsync(int count, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            var mails = Mails();
            if (mails.Count >= count) return mails;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the SMTP sink got {mails.Count} of {count} mails");
            await Task.Delay(50);
        }
    }

    public void Dispose()
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        process.Dispose();
        files.Dispose();
    }
}
