using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace StillControl.Archive;

/// <summary>A batch header as the still's journal holds it: the row of table <c>batches</c>, times in Unix milliseconds.</summary>
public sealed record ArchiveBatch(string Id, long StartedAt, long? EndedAt, string? Outcome, string RecipeName, string RecipeJson, string Phase,
    string? StateJson, long? StateAt, string? MetadataJson);

/// <summary>One journal sample of a batch; <see cref="Seq"/> is the still's journal row number, the idempotency key with still and batch.</summary>
public sealed record ArchiveSample(string BatchId, long Seq, long T, string Phase, bool Held, double Steam, double Cooling, string? Receiver, double? Strength,
    string Readings);

/// <summary>One journal event of a batch (alarms, trips, operator commands, phase changes).</summary>
public sealed record ArchiveEvent(string BatchId, long Seq, long T, string Kind, string Code, string Phase, string Message, string? Channel);

/// <summary>
/// What a still sends the plant in one message: the journal rows after its archive cursor and the headers that changed, for
/// one still. <see cref="Id"/> names the chunk in the plant's acknowledgement. Sent as gzip-compressed JSON.
/// </summary>
public sealed record ArchiveChunk(int Version, string Id, string Site, string Still, List<ArchiveBatch> Batches, List<ArchiveSample> Samples, List<ArchiveEvent> Events)
{
    public const int CurrentVersion = 1;

    /// <summary>Largest chunk the plant decompresses: a guard against a compressed bomb, far above any real chunk.</summary>
    public const int MaximumBytes = 256 * 1024 * 1024;

    public int Rows => Batches.Count + Samples.Count + Events.Count;

    public byte[] Encode()
    {
        using var memory = new MemoryStream();
        using (var gzip = new GZipStream(memory, CompressionLevel.Fastest, leaveOpen: true))
        {
            JsonSerializer.Serialize(gzip, this, ArchiveJsonContext.Default.ArchiveChunk);
        }
        return memory.ToArray();
    }

    /// <summary>Decodes and checks a chunk; anything unreadable is an <see cref="InvalidDataException"/> naming what is wrong.</summary>
    public static ArchiveChunk Decode(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 2 || payload[0] != 0x1f || payload[1] != 0x8b) throw new InvalidDataException("not gzip-compressed (an archive chunk is gzip-compressed JSON)");
        ArchiveChunk? chunk;
        try
        {
            using var input = new MemoryStream(payload.ToArray(), writable: false);
            using var gzip = new GZipStream(input, CompressionMode.Decompress);
            using var limited = new LimitedStream(gzip, MaximumBytes);
            chunk = JsonSerializer.Deserialize(limited, ArchiveJsonContext.Default.ArchiveChunk);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"not an archive chunk: {ex.Message.Split(". ")[0]}");
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"damaged gzip data: {ex.Message}");
        }
        if (chunk is null) throw new InvalidDataException("empty chunk");
        chunk.Check();
        return chunk;
    }

    /// <summary>Every field a store relies on is present and names a batch: a bad chunk is refused whole, never half stored.</summary>
    public void Check()
    {
        if (Version != CurrentVersion) throw new InvalidDataException($"version {Version}: this plant reads version {CurrentVersion}");
        if (string.IsNullOrEmpty(Id)) throw new InvalidDataException("no chunk id");
        if (string.IsNullOrEmpty(Still) || string.IsNullOrEmpty(Site)) throw new InvalidDataException("no still or site");
        if (Batches is null || Samples is null || Events is null) throw new InvalidDataException("batches, samples and events are required (empty lists are fine)");
        foreach (var b in Batches)
        {
            if (b is null || string.IsNullOrEmpty(b.Id) || b.RecipeName is null || b.RecipeJson is null || b.Phase is null)
                throw new InvalidDataException("a batch header without id, recipeName, recipeJson or phase");
        }
        foreach (var s in Samples)
        {
            if (s is null || string.IsNullOrEmpty(s.BatchId) || s.Phase is null || s.Readings is null)
                throw new InvalidDataException("a sample without batchId, phase or readings");
        }
        foreach (var e in Events)
        {
            if (e is null || string.IsNullOrEmpty(e.BatchId) || e.Kind is null || e.Code is null || e.Phase is null || e.Message is null)
                throw new InvalidDataException("an event without batchId, kind, code, phase or message");
        }
    }

    /// <summary>Reads at most a given number of bytes from the inner stream, then fails.</summary>
    private sealed class LimitedStream(Stream inner, long limit) : Stream
    {
        private long read;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => read; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = inner.Read(buffer, offset, count);
            read += n;
            if (read > limit) throw new InvalidDataException($"larger than {limit / (1024 * 1024)} MiB uncompressed");
            return n;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

/// <summary>The plant's answer to a chunk, once it is committed (<see cref="Ok"/>) or refused (<see cref="Error"/>).</summary>
public sealed record ArchiveAck(string Chunk, bool Ok, string? Error, int Rows);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(ArchiveChunk))]
[JsonSerializable(typeof(ArchiveAck))]
internal sealed partial class ArchiveJsonContext : JsonSerializerContext;
