using StillControl.Archive;
using StillControl.Reports;

namespace StillControl.Cli;

/// <summary>
/// <c>--archive PATH|CONNECTION</c> on the review verbs (batches, batch, report, export, compare): they then read the plant's
/// archive, every still's batches, instead of one still's journal. A file path is the SQLite archive; a PostgreSQL connection
/// string (anything with <c>Host=</c>, or a postgres:// address) is the PostgreSQL one.
/// </summary>
public static class ArchiveSource
{
    public const string Option = "--archive";

    /// <summary>The archive when <c>--archive</c> is given, otherwise null (the verb reads its journal).</summary>
    public static IBatchSource? Open(Arguments a, string verb)
    {
        if (a.Value(Option) is not { } value) return null;
        if (a.Value("--journal") is not null) throw new BadInputException($"{verb}: --journal and --archive: give one (a still's journal, or the plant's archive of every still)");
        try
        {
            return ArchiveStore.Open(value, readOnly: true);
        }
        catch (ArchiveUnavailableException ex)
        {
            throw new BadInputException($"{verb}: {ex.Message}");
        }
    }
}
