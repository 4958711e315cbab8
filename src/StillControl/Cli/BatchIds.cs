using StillControl.Reports;

namespace StillControl.Cli;

/// <summary>Batch ids as a user gives them: <c>latest</c> names the newest batch (the first that 'stillcontrol batches' lists).</summary>
public static class BatchIds
{
    public const string Latest = "latest";

    /// <summary>Each id as given, with <c>latest</c> replaced by the journal's newest batch; an empty journal is bad input.</summary>
    public static List<string> Resolve(string verb, IBatchSource journal, IEnumerable<string> ids) =>
        ids.Select(id => id == Latest ? Newest(verb, journal) : id).ToList();

    private static string Newest(string verb, IBatchSource journal) =>
        (journal.HasTables ? journal.List(new BatchFilter()).FirstOrDefault()?.Id : null)
            ?? throw new BadInputException($"{verb}: latest: {journal.Description} holds no batches yet");
}
