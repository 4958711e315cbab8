namespace StillControl.Plant;

/// <summary>
/// Wakes the board's open event streams when a still changed. Each stream then sends the stills whose view is newer than
/// what it sent last, so a burst of samples costs one message per still per wake-up, not one per sample.
/// </summary>
public sealed class BoardStream
{
    private TaskCompletionSource changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public BoardStream(StillRegistry registry)
    {
        registry.Updated += _ => Signal();
    }

    /// <summary>Completes at the next change after this call.</summary>
    public Task Next => Volatile.Read(ref changed).Task;

    public void Signal() => Interlocked.Exchange(ref changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
}
