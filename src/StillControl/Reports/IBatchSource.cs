using StillControl.Journal;
using StillControl.Process;

namespace StillControl.Reports;

/// <summary>
/// Where the review verbs (batches, batch, report, export, compare) read batches from: one still's journal
/// (<see cref="JournalQuery"/>) or the plant's archive of every still (<see cref="Archive.ArchiveStore"/>). The review code
/// (<see cref="BatchReview"/>, <see cref="HtmlReport"/>, <see cref="BatchExport"/>) works on either unchanged.
/// </summary>
public interface IBatchSource : IDisposable
{
    /// <summary>How messages name this source: "journal PATH" or "archive PATH".</summary>
    string Description { get; }

    /// <summary>The option that selects this source, for hints in messages: "--journal PATH" or "--archive PATH".</summary>
    string Option { get; }

    /// <summary>False for an empty file or a database that never held a batch.</summary>
    bool HasTables { get; }

    List<BatchListing> List(BatchFilter filter);

    /// <summary>The stored state, recipe and outcome of one batch; null when there is no such batch.</summary>
    (BatchState State, string RecipeJson, string Outcome, DateTimeOffset? StateAt)? Load(string id);

    /// <summary>A batch's metadata (grain lot and mass, pit, notes); null when it has none.</summary>
    BatchMetadata? Metadata(string id);

    /// <summary>Every sample of a batch, oldest first.</summary>
    List<SampleRow> Samples(string batchId);

    /// <summary>Every event of a batch, in journal order.</summary>
    List<JournalEvent> Events(string batchId);

    /// <summary>The still a batch ran on.</summary>
    string StillName(string batchId);

    /// <summary>Whether an unfinished batch is running now (otherwise it was interrupted).</summary>
    bool IsRunning(string batchId);
}
