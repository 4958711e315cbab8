using System.Security.Cryptography.X509Certificates;
using MQTTnet;
using Microsoft.Extensions.Options;
using StillControl.Process;

namespace StillControl.Telemetry;

/// <summary>
/// The MQTT link. <see cref="Host"/> unset: an embedded broker on loopback (<see cref="EmbeddedPort"/>) so a lone still still
/// publishes. The password is a secret: it comes from <see cref="PasswordFile"/> or the environment
/// (<c>STILLCONTROL_Mqtt__Password</c>), never from a file in the repository.
/// </summary>
public sealed class MqttOptions
{
    public const string Section = "Mqtt";

    public bool Enabled { get; set; }
    public string? Host { get; set; }
    public int Port { get; set; } = 1883;
    public int EmbeddedPort { get; set; } = 1883;
    public string? Username { get; set; }
    public string? Password { get; set; }
    public string? PasswordFile { get; set; }
    public bool Tls { get; set; }
    public string? CaFile { get; set; }
    /// <summary>Optional client certificate (PEM) and its key (PEM) for brokers that require one.</summary>
    public string? ClientCertificateFile { get; set; }
    public string? ClientKeyFile { get; set; }
    /// <summary>Rows waiting in the journal beyond this raise an alarm; nothing is ever dropped.</summary>
    public long BacklogAlarmRows { get; set; } = 7 * 24 * 3600;
    public string TopicRoot { get; set; } = "stillcontrol";
    /// <summary>Commands a remote user may send. Opening steam remotely (start, seal, resume) must be added on purpose.</summary>
    public List<string> RemoteCommands { get; set; } = ["hold", "abort", "ack"];
    public int MaximumCommandBytes { get; set; } = 2048;
    public int StatePeriodSeconds { get; set; } = 10;
    public int ReconnectMaximumSeconds { get; set; } = 30;
    /// <summary>How long a clean stop waits for the journal's backlog to reach the broker.</summary>
    public int DrainOnStopSeconds { get; set; } = 10;
    /// <summary>
    /// Journal rows published (QoS 1) before the oldest one's acknowledgement must be back. 1 is one round trip per row;
    /// keep it at or below the broker's receive maximum (Mosquitto's max_inflight_messages, 20 by default).
    /// </summary>
    public int MaxInFlight { get; set; } = 16;
    /// <summary>Publish Home Assistant discovery configs (retained, under homeassistant/).</summary>
    public bool HomeAssistantDiscovery { get; set; } = true;

    public string? ResolvePassword()
    {
        if (PasswordFile is { } file)
        {
            return File.ReadAllText(file).Trim();
        }
        return Password;
    }
}

public sealed class MqttOptionsValidator : IValidateOptions<MqttOptions>
{
    public ValidateOptionsResult Validate(string? name, MqttOptions options)
    {
        var failures = new List<string>();
        if (options.Port is < 1 or > 65535) failures.Add($"Mqtt:Port = {options.Port}: 1 to 65535");
        if (options.EmbeddedPort is < 1 or > 65535) failures.Add($"Mqtt:EmbeddedPort = {options.EmbeddedPort}: 1 to 65535");
        foreach (var command in options.RemoteCommands)
        {
            if (!CommandKinds.TryParse(command, out _)) failures.Add($"Mqtt:RemoteCommands contains \"{command}\": each one of {string.Join(", ", CommandKinds.Names)}");
        }
        if (options.PasswordFile is { } file && !File.Exists(file)) failures.Add($"Mqtt:PasswordFile = \"{file}\": a readable file holding the password");
        if (options.CaFile is { } ca && !File.Exists(ca)) failures.Add($"Mqtt:CaFile = \"{ca}\": a readable PEM file");
        if (options.ClientCertificateFile is { } certificate && !File.Exists(certificate)) failures.Add($"Mqtt:ClientCertificateFile = \"{certificate}\": a readable PEM file");
        if (options.ClientCertificateFile is not null && options.ClientKeyFile is not { } key) failures.Add("Mqtt:ClientKeyFile = null: the PEM key of Mqtt:ClientCertificateFile");
        if (options.ClientKeyFile is { } keyFile && !File.Exists(keyFile)) failures.Add($"Mqtt:ClientKeyFile = \"{keyFile}\": a readable PEM file");
        if ((options.CaFile is not null || options.ClientCertificateFile is not null) && !options.Tls) failures.Add("Mqtt:Tls = false: set it to true to use Mqtt:CaFile or a client certificate");
        if (options.MaximumCommandBytes is < 64 or > 65536) failures.Add($"Mqtt:MaximumCommandBytes = {options.MaximumCommandBytes}: 64 to 65536");
        if (options.StatePeriodSeconds is < 1 or > 3600) failures.Add($"Mqtt:StatePeriodSeconds = {options.StatePeriodSeconds}: 1 to 3600");
        if (options.MaxInFlight is < 1 or > 1000) failures.Add($"Mqtt:MaxInFlight = {options.MaxInFlight}: 1 to 1000 (at most the broker's receive maximum)");
        if (string.IsNullOrWhiteSpace(options.TopicRoot) || options.TopicRoot.IndexOfAny(['+', '#']) >= 0) failures.Add($"Mqtt:TopicRoot = \"{options.TopicRoot}\": a topic without wildcards");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>The topics of one still: <c>{root}/{site}/{still}/…</c>.</summary>
public sealed class StillTopics(string root, string site, string still)
{
    public string Base { get; } = $"{root}/{site}/{still}";
    public string Availability => Base + "/availability";
    public string State => Base + "/state";
    public string Telemetry => Base + "/telemetry";
    public string Events => Base + "/events";
    public string Command => Base + "/command";
    public string CommandResult => Base + "/command/result";
}

/// <summary>How every StillControl MQTT client (the still's link, its archive forwarder, the plant) signs in and trusts its broker: one place.</summary>
public static class MqttConnection
{
    /// <summary>Credentials (Mqtt:Username, password or password file) and TLS (trust exactly Mqtt:CaFile; a client certificate if given).</summary>
    public static MqttClientOptionsBuilder WithBrokerCredentials(this MqttClientOptionsBuilder builder, MqttOptions options)
    {
        if (options.Username is { } user)
        {
            builder.WithCredentials(user, options.ResolvePassword() ?? "");
        }
        if (options.Tls)
        {
            builder.WithTlsOptions(tls =>
            {
                tls.UseTls(true);
                if (options.CaFile is { } ca)
                {
                    // Trust exactly the plant's CA: the broker's certificate must chain to it.
                    var chain = new X509Certificate2Collection();
                    chain.ImportFromPemFile(ca);
                    tls.WithTrustChain(chain);
                }
                if (options.ClientCertificateFile is { } certificate)
                {
                    var pem = X509Certificate2.CreateFromPemFile(certificate, options.ClientKeyFile);
                    // SslStream on Linux wants the key in an exportable form; round-trip through PKCS#12 to get one.
                    tls.WithClientCertificates([X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null)]);
                }
            });
        }
        return builder;
    }
}
