using System.Buffers;
using System.Text.Json;
using StillControl.Process;

namespace StillControl.Telemetry;

/// <summary>
/// Notices a second service publishing under this still's name: its state arrives live (not as the broker's retained copy)
/// on our own state topic with an <c>instance</c> that is not ours. Raises alarm <c>duplicate-still</c> once per episode (on
/// both services, since each sees the other) and clears it when nothing foreign has been seen for <paramref name="quiet"/>.
/// A retained state left by an earlier run of this still is not a second service and is ignored.
/// </summary>
public sealed class DuplicateStillWatch(string ownInstance, string stillName, TimeSpan quiet, Action<ControllerEvent> audit)
{
    public const string Code = "duplicate-still";

    private readonly Lock gate = new();
    private string? otherInstance;
    private DateTimeOffset lastSeen;

    public bool Raised { get; private set; }

    public void Seen(ReadOnlySequence<byte> payload, bool retained, DateTimeOffset now)
    {
        if (retained) return;
        var instance = InstanceOf(payload);
        if (instance is null || instance == ownInstance) return;
        lock (gate)
        {
            lastSeen = now;
            if (Raised) return;
            Raised = true;
            otherInstance = instance;
        }
        audit(new ControllerEvent(EventKind.AlarmRaised, now, Phase.Idle, Code,
            $"another stillcontrol service ({Short(instance)}) publishes live as {stillName} on this broker: two services for one still; " +
            "stop one of them, or give each still its own Still:Site/Still:Name"));
    }

    /// <summary>Clears the alarm when the other service has been quiet long enough; called from the link's loop.</summary>
    public void Check(DateTimeOffset now)
    {
        string? other;
        lock (gate)
        {
            if (!Raised || now - lastSeen < quiet) return;
            Raised = false;
            other = otherInstance;
            otherInstance = null;
        }
        audit(new ControllerEvent(EventKind.AlarmCleared, now, Phase.Idle, Code,
            $"no other service has published as {stillName} for {quiet.TotalSeconds:0} s (last {Short(other ?? "?")})"));
    }

    private static string Short(string instance) => PrintableText.Of(instance.Length > 80 ? instance[..80] + "…" : instance);

    private static string? InstanceOf(ReadOnlySequence<byte> payload)
    {
        if (payload.Length is 0 or > 64 * 1024) return null;
        try
        {
            var reader = new Utf8JsonReader(payload);
            using var document = JsonDocument.ParseValue(ref reader);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("instance", out var value) && value.ValueKind == JsonValueKind.String
                ? value.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
