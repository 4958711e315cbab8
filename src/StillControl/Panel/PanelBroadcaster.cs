using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace StillControl.Panel;

/// <summary>
/// Carries the loop's snapshots to every connected page: serialised once per snapshot, off the loop's thread, then offered to
/// each client's own small queue that keeps only the newest messages. A slow or stalled client loses old states; it never holds
/// up the others, the broadcaster, or the loop.
/// </summary>
public sealed class PanelBroadcaster(PanelFeed feed)
{
    private readonly ConcurrentDictionary<long, Channel<byte[]>> clients = new();
    private long nextClient;
    private byte[]? latest;

    public int ClientCount => clients.Count;

    /// <summary>The newest snapshot as an SSE message, or null before the loop first published.</summary>
    public byte[]? Latest => Volatile.Read(ref latest) ?? (feed.Snapshot is { } s ? Message(s) : null);

    public async Task RunAsync(CancellationToken stopping)
    {
        try
        {
            await foreach (var snapshot in feed.Updates.ReadAllAsync(stopping))
            {
                var message = Message(snapshot);
                Volatile.Write(ref latest, message);
                foreach (var client in clients.Values) client.Writer.TryWrite(message);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public (long Id, ChannelReader<byte[]> Reader) Subscribe()
    {
        var channel = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(4) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        var id = Interlocked.Increment(ref nextClient);
        clients[id] = channel;
        return (id, channel.Reader);
    }

    public void Unsubscribe(long id)
    {
        if (clients.TryRemove(id, out var channel)) channel.Writer.TryComplete();
    }

    /// <summary>The state as <c>GET /api/state</c> gives it.</summary>
    public static byte[] Json(PanelSnapshot snapshot) => JsonSerializer.SerializeToUtf8Bytes(snapshot, PanelJson.Options);

    private static byte[] Message(PanelSnapshot snapshot)
    {
        var json = Json(snapshot);
        var prefix = "event: state\ndata: "u8;
        var message = new byte[prefix.Length + json.Length + 2];
        prefix.CopyTo(message);
        json.CopyTo(message, prefix.Length);
        message[^2] = (byte)'\n';
        message[^1] = (byte)'\n';
        return message;
    }

    public static readonly byte[] KeepAlive = Encoding.ASCII.GetBytes(": keep-alive\n\n");
}

