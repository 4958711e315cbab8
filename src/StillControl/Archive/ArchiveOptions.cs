using Microsoft.Extensions.Options;

namespace StillControl.Archive;

/// <summary>
/// The still's side of the central batch archive: <see cref="Enabled"/> sends every batch record from the journal to the
/// plant through the MQTT broker the still already uses (the <c>Mqtt</c> section: host, credentials, TLS, topic root).
/// </summary>
public sealed class ArchiveOptions
{
    public const string Section = "Archive";

    public bool Enabled { get; set; }
    /// <summary>Journal samples (and, separately, events) per chunk; a chunk is one compressed MQTT message and one plant transaction.</summary>
    public int ChunkRows { get; set; } = 5000;
    /// <summary>How long a chunk waits for the plant's acknowledgement before it is sent again.</summary>
    public int AckTimeoutSeconds { get; set; } = 30;
    /// <summary>Longest wait between attempts while the broker or the plant is away (it doubles from one second up to this).</summary>
    public int RetryMaximumSeconds { get; set; } = 60;
    /// <summary>How often the journal is looked at for new rows when there is nothing to send.</summary>
    public int PollMilliseconds { get; set; } = 1000;
    /// <summary>Rows waiting in the journal beyond this raise an alarm; nothing is ever dropped.</summary>
    public long BacklogAlarmRows { get; set; } = 7 * 24 * 3600;
    /// <summary>How long a clean stop waits for the backlog to reach the plant.</summary>
    public int DrainOnStopSeconds { get; set; } = 10;
}

/// <param name="mqttEnabled">Whether the still's MQTT link is on (<c>Mqtt:Enabled</c>): the archive travels through its broker.</param>
public sealed class ArchiveOptionsValidator(bool mqttEnabled) : IValidateOptions<ArchiveOptions>
{
    public ValidateOptionsResult Validate(string? name, ArchiveOptions options)
    {
        var failures = new List<string>();
        if (options.Enabled && !mqttEnabled) failures.Add("Archive:Enabled = true: needs Mqtt:Enabled = true and Mqtt:Host (the plant's broker); the archive travels through it");
        if (options.ChunkRows is < 1 or > 100_000) failures.Add($"Archive:ChunkRows = {options.ChunkRows}: 1 to 100000");
        if (options.AckTimeoutSeconds is < 1 or > 3600) failures.Add($"Archive:AckTimeoutSeconds = {options.AckTimeoutSeconds}: 1 to 3600");
        if (options.RetryMaximumSeconds is < 1 or > 3600) failures.Add($"Archive:RetryMaximumSeconds = {options.RetryMaximumSeconds}: 1 to 3600");
        if (options.PollMilliseconds is < 10 or > 60_000) failures.Add($"Archive:PollMilliseconds = {options.PollMilliseconds}: 10 to 60000");
        if (options.BacklogAlarmRows < 1) failures.Add($"Archive:BacklogAlarmRows = {options.BacklogAlarmRows}: 1 or more");
        if (options.DrainOnStopSeconds is < 0 or > 3600) failures.Add($"Archive:DrainOnStopSeconds = {options.DrainOnStopSeconds}: 0 to 3600");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
