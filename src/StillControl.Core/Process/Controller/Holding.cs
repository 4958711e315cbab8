namespace StillControl.Process;

public static partial class StillController
{
    /// <summary>
    /// Holds the batch: steam closed, cooling open, the loops reset. With <see cref="Release"/> the only writer of the hold state
    /// (<see cref="BatchState.Held"/>, <see cref="BatchState.HoldCause"/>, <see cref="BatchState.HeldSince"/>).
    /// </summary>
    private static void Hold(BatchState state, DateTimeOffset now, string cause, Decisions d)
    {
        state.Held = true;
        state.HoldCause = cause;
        state.HeldSince = now;
        ResetLoops(state);
        d.Events.Add(new ControllerEvent(EventKind.Held, now, state.Phase, cause, $"batch held in {state.Phase.Name()}: {cause}; steam closed, cooling open"));
    }

    /// <summary>Ends a hold (a resume, or the batch ending); returns the cause it had.</summary>
    private static string? Release(BatchState state)
    {
        var cause = state.HoldCause;
        state.Held = false;
        state.HoldCause = null;
        state.HeldSince = null;
        ResetLoops(state);
        return cause;
    }

    /// <summary>A hold and its end both start the output loops afresh: nothing they integrated before still applies.</summary>
    private static void ResetLoops(BatchState state)
    {
        state.CoolingLoop.Reset();
        state.FlowTrim.Reset();
        state.DistillateFlowTrendKilogramsPerMinute = null;
    }
}
