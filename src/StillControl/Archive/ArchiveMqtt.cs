using System.Security.Cryptography.X509Certificates;
using MQTTnet;
using StillControl.Telemetry;

namespace StillControl.Archive;

/// <summary>The archive's topics under the still's own: chunks up from the still, acknowledgements down from the plant.</summary>
public static class ArchiveTopics
{
    public static string Chunk(string root, string site, string still) => $"{root}/{site}/{still}/archive/chunk";

    public static string Ack(string root, string site, string still) => $"{root}/{site}/{still}/archive/ack";

    /// <summary>What the plant subscribes to: every still's chunks.</summary>
    public static string AllChunks(string root) => $"{root}/+/+/archive/chunk";

    /// <summary>The site and still of a chunk topic, or null when the topic is not one.</summary>
    public static (string Site, string Still)? Parse(string root, string topic)
    {
        var parts = topic.Split('/');
        var rootParts = root.Split('/');
        if (parts.Length != rootParts.Length + 4 || !parts.AsSpan(0, rootParts.Length).SequenceEqual(rootParts)) return null;
        var rest = parts[rootParts.Length..];
        return rest[2] == "archive" && rest[3] == "chunk" && rest[0].Length > 0 && rest[1].Length > 0 ? (rest[0], rest[1]) : null;
    }
}

/// <summary>Client options for the archive's own MQTT connections, from the same <see cref="MqttOptions"/> as the still's link.</summary>
public static class ArchiveMqtt
{
    public static MqttClientOptions ClientOptions(MqttOptions options, string clientId)
    {
        var builder = new MqttClientOptionsBuilder()
            .WithClientId(clientId)
            .WithTcpServer(options.Host ?? "127.0.0.1", options.Host is null ? options.EmbeddedPort : options.Port)
            .WithCleanSession(true)
            .WithTimeout(TimeSpan.FromSeconds(10))
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(15));
        builder.WithBrokerCredentials(options);
        return builder.Build();
    }

    public static string Describe(MqttOptions options) =>
        options.Host is { } host ? $"{host}:{options.Port}" : $"embedded broker on 127.0.0.1:{options.EmbeddedPort}";
}
