using System.Buffers.Binary;

namespace StillControl.Journal;

/// <summary>
/// A write-ahead log whose frames SQLite will not all replay: committed transactions lie after a frame that fails its checksum.
/// </summary>
/// <param name="Bytes">The log's length.</param>
/// <param name="FramesInFile">Whole frames in the file (of this log's current generation and older ones).</param>
/// <param name="FramesReplayed">Frames SQLite replays: up to the last commit before the first bad frame.</param>
/// <param name="FirstBadFrame">The first frame (1-based) SQLite stops at, or 0 when the log's header itself is bad.</param>
/// <param name="CommitsLost">Committed transactions of the current generation after that point: SQLite drops them without a word.</param>
public sealed record WriteAheadLogDamage(long Bytes, long FramesInFile, long FramesReplayed, long FirstBadFrame, long CommitsLost)
{
    /// <summary>What was found, for people: which frame, how much SQLite keeps and how much it drops.</summary>
    public string Describe() => FirstBadFrame == 0
        ? $"its header is damaged, so SQLite ignores all {Bytes} bytes of it"
        : $"frame {FirstBadFrame} of {FramesInFile} fails its checksum: SQLite replays only the first {FramesReplayed} frames and drops {CommitsLost} committed transaction{(CommitsLost == 1 ? "" : "s")} after it";
}

/// <summary>
/// Reads a SQLite write-ahead log the way SQLite's recovery does (https://sqlite.org/fileformat2.html#walformat), before SQLite
/// opens it: SQLite stops replaying at the first frame whose salts or cumulative checksum do not match, silently, so every
/// transaction committed after a damaged frame is lost without a word. Frames after that point that still carry the log's
/// salts and chain correctly from the frame before them are transactions that were committed and will be lost: that is damage.
/// Frames with other salts are an older generation of the log (left behind when it restarted after a checkpoint) and are not.
/// </summary>
public static class WriteAheadLogCheck
{
    private const int HeaderBytes = 32;
    private const int FrameHeaderBytes = 24;
    private const uint MagicLittleEndian = 0x377f0682;
    private const uint MagicBigEndian = 0x377f0683;

    /// <summary>The damage in the log at <paramref name="walPath"/>, or null when SQLite will replay every committed transaction in it (or there is no log).</summary>
    public static WriteAheadLogDamage? Inspect(string walPath)
    {
        FileStream file;
        try
        {
            file = new FileStream(walPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        using (file)
        {
            return Inspect(file);
        }
    }

    public static WriteAheadLogDamage? Inspect(Stream wal)
    {
        Span<byte> header = stackalloc byte[HeaderBytes];
        if (!ReadExactly(wal, header)) return null; // empty, or a header never written: nothing was committed in it
        var magic = BinaryPrimitives.ReadUInt32BigEndian(header);
        var pageSize = BinaryPrimitives.ReadUInt32BigEndian(header[8..]);
        var length = wal.Length;
        if (magic is not (MagicLittleEndian or MagicBigEndian) || pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) != 0)
        {
            // Without a readable header SQLite ignores the whole file. Anything beyond the header was written as frames of it.
            return length > HeaderBytes ? new WriteAheadLogDamage(length, 0, 0, 0, 0) : null;
        }
        var bigEndian = magic == MagicBigEndian;
        var frameBytes = FrameHeaderBytes + (int)pageSize;
        var frames = (length - HeaderBytes) / frameBytes;
        var (s0, s1) = Checksum(header[..24], bigEndian, 0, 0);
        if (s0 != BinaryPrimitives.ReadUInt32BigEndian(header[24..]) || s1 != BinaryPrimitives.ReadUInt32BigEndian(header[28..]))
        {
            return frames > 0 ? new WriteAheadLogDamage(length, frames, 0, 0, 0) : null;
        }
        var salt1 = BinaryPrimitives.ReadUInt32BigEndian(header[16..]);
        var salt2 = BinaryPrimitives.ReadUInt32BigEndian(header[20..]);

        var frame = new byte[frameBytes];
        long replayed = 0, firstBad = 0, lost = 0;
        // The previous frame's stored checksum: SQLite chains each frame's checksum from it.
        uint previous0 = s0, previous1 = s1;
        for (long i = 1; i <= frames; i++)
        {
            if (!ReadExactly(wal, frame)) break;
            var ours = BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(8)) == salt1 && BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(12)) == salt2;
            var commit = BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(4)) != 0;
            var (c0, c1) = Checksum(frame.AsSpan(0, 8), bigEndian, previous0, previous1);
            (c0, c1) = Checksum(frame.AsSpan(FrameHeaderBytes), bigEndian, c0, c1);
            var stored0 = BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(16));
            var stored1 = BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(20));
            var valid = ours && c0 == stored0 && c1 == stored1;
            if (firstBad == 0)
            {
                if (valid)
                {
                    if (commit) replayed = i;
                }
                else
                {
                    firstBad = i;
                    // A damaged commit frame of this generation is itself a committed transaction lost.
                    if (ours && commit) lost++;
                }
            }
            else if (valid && commit)
            {
                lost++;
            }
            previous0 = stored0;
            previous1 = stored1;
        }
        return lost > 0 ? new WriteAheadLogDamage(length, frames, replayed, firstBad, lost) : null;
    }

    private static bool ReadExactly(Stream stream, Span<byte> buffer)
    {
        try
        {
            stream.ReadExactly(buffer);
            return true;
        }
        catch (EndOfStreamException)
        {
            return false;
        }
    }

    /// <summary>SQLite's WAL checksum: pairs of 32-bit words, in the byte order the magic number names, added cumulatively.</summary>
    private static (uint, uint) Checksum(ReadOnlySpan<byte> data, bool bigEndian, uint s0, uint s1)
    {
        unchecked
        {
            for (var i = 0; i + 8 <= data.Length; i += 8)
            {
                var x0 = bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(data[i..]) : BinaryPrimitives.ReadUInt32LittleEndian(data[i..]);
                var x1 = bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(data[(i + 4)..]) : BinaryPrimitives.ReadUInt32LittleEndian(data[(i + 4)..]);
                s0 += x0 + s1;
                s1 += x1 + s0;
            }
        }
        return (s0, s1);
    }
}
