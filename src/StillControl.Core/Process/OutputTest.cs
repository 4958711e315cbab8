using System.Globalization;
using StillControl.Recipes;

namespace StillControl.Process;

/// <summary>An output a commissioning engineer may drive by hand, one at a time, while no batch runs.</summary>
public enum TestOutput
{
    SteamValve,
    CoolingValve,
    Diverter,
}

public static class TestOutputs
{
    private static readonly string[] names = ["steam-valve", "cooling-valve", "diverter"];

    public static IReadOnlyList<string> Names => names;

    public static string Name(this TestOutput output) => names[(int)output];

    public static bool TryParse(string? text, out TestOutput output)
    {
        var index = Array.IndexOf(names, text);
        output = index < 0 ? default : (TestOutput)index;
        return index >= 0;
    }
}

public enum OutputTestAction
{
    Start,
    Stop,
    /// <summary>The page that started the test is still there: the test's lease is renewed.</summary>
    KeepAlive,
}

/// <summary>
/// What a person asked of the output test. <paramref name="Percent"/> is the valve opening for a valve, <paramref name="Receiver"/>
/// the receiver for the diverter; <paramref name="Duration"/> how long the output is held before it goes back to safe by itself;
/// <paramref name="TestId"/> names the test so that only the page that started it keeps it alive.
/// </summary>
public sealed record OutputTestRequest(OutputTestAction Action, string Operator, string Source, string TestId, TestOutput Output = default, double Percent = 0,
    string? Receiver = null, TimeSpan Duration = default);

/// <summary>The output test as others may read it (published by the loop, replaced whole).</summary>
public sealed record OutputTestStatus(bool Active, string? Output, double? Percent, string? Receiver, string? Operator, DateTimeOffset? StartedAt, DateTimeOffset? Until,
    string? TestId, string? LastOutcome)
{
    public static readonly OutputTestStatus Idle = new(false, null, null, null, null, null, null, null, null);
}

/// <summary>
/// The manual output test (commissioning): one output driven by a person while every other output stays safe, back to safe by
/// itself after its time, when the page that started it stops answering, or at any doubt (a batch, a trip, a steam interlock, the
/// sensors settling). Pure: the control loop, the only writer of the outputs, calls it each step after the controller's step and
/// before the outputs are driven; it only ever changes the decisions the controller made for an idle still.
/// </summary>
public sealed class OutputTest
{
    /// <summary>Shortest and longest time an output may be held by hand.</summary>
    public static readonly TimeSpan MinimumDuration = TimeSpan.FromSeconds(1);

    public static readonly TimeSpan MaximumDuration = TimeSpan.FromMinutes(5);

    /// <summary>The page renews the test every couple of seconds; this long without a renewal and the output goes back to safe.</summary>
    public static readonly TimeSpan Lease = TimeSpan.FromSeconds(10);

    /// <summary>The code of the journal's events: <c>start</c>, <c>stop</c>, <c>revert</c> (kind <see cref="EventKind.OutputTest"/>).</summary>
    public const string CommandName = "output-test";

    /// <summary>A steam isolation valve is fitted: it stays shut during every test, so the steam valve moves with no steam behind it.</summary>
    public bool SteamIsolationFitted { get; init; }

    private TestOutput output;
    private double percent;
    private string? receiver;
    private string operatorName = "";
    private string source = "";
    private string testId = "";
    private DateTimeOffset startedAt;
    private DateTimeOffset until;
    private DateTimeOffset leaseUntil;

    public bool Active { get; private set; }

    /// <summary>How the last test ended (or why the last request was refused), for the page.</summary>
    public string? LastOutcome { get; private set; }

    public OutputTestStatus Status => Active
        ? new OutputTestStatus(true, output.Name(), output == TestOutput.Diverter ? null : percent, output == TestOutput.Diverter ? receiver : null, operatorName,
            startedAt, until, testId, LastOutcome)
        : OutputTestStatus.Idle with { LastOutcome = LastOutcome };

    /// <summary>Why an operator command may not run now because of the output test; null when it may.</summary>
    public string? Refusal(CommandKind kind) => Active && kind == CommandKind.Start
        ? $"an output test is running ({Describe()}): stop it first, or wait until it goes back to safe by itself at {until:HH:mm:ss} UTC"
        : null;

    /// <summary>The receivers the diverter can be sent to: those the recipe names.</summary>
    public static IReadOnlyList<string> Receivers(Recipe recipe) =>
        new[] { recipe.Heads.Receiver, recipe.Tails.Receiver, recipe.Steaming.Receiver }.Concat(recipe.Hearts.Grades.Select(g => g.Receiver))
            .Where(r => !string.IsNullOrEmpty(r)).Distinct(StringComparer.Ordinal).ToArray();

    /// <summary>Applies a request on the loop's thread; the result says what happened or why not. Events go to <paramref name="decisions"/>.</summary>
    public CommandResult Handle(OutputTestRequest request, BatchState state, Recipe recipe, DateTimeOffset now, Decisions decisions)
    {
        var result = request.Action switch
        {
            OutputTestAction.Start => Start(request, state, recipe, now, decisions),
            OutputTestAction.Stop => Stop(request, state, now, decisions),
            _ => KeepAlive(request, now),
        };
        // A refused keep-alive (the test already ended) is not worth a journal row every two seconds; a refused start is.
        if (!result.Accepted && request.Action == OutputTestAction.Start)
        {
            var what = $"{request.Output.Name()} {Setting(request.Output, request.Percent, request.Receiver)}";
            decisions.Events.Add(new ControllerEvent(EventKind.CommandRefused, now, state.Phase, CommandName,
                $"{CommandName} {what} by {request.Operator} ({request.Source}): {result.Reason}"));
        }
        return result;
    }

    private CommandResult Start(OutputTestRequest request, BatchState state, Recipe recipe, DateTimeOffset now, Decisions decisions)
    {
        if (Active)
        {
            return CommandResult.Refuse($"an output test is already running ({Describe()}): one output at a time; stop it first");
        }
        if (state.Phase.IsActive())
        {
            return CommandResult.Refuse($"batch {state.BatchId} is running ({StillController.Describe(state)}): outputs are tested only while no batch runs");
        }
        if (request.Duration < MinimumDuration || request.Duration > MaximumDuration)
        {
            return CommandResult.Refuse($"test time {request.Duration.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s: {MinimumDuration.TotalSeconds:0} to {MaximumDuration.TotalSeconds:0} s");
        }
        switch (request.Output)
        {
            case TestOutput.SteamValve or TestOutput.CoolingValve when !double.IsFinite(request.Percent) || request.Percent is < 0 or > 100:
                return CommandResult.Refuse($"{request.Output.Name()} opening {request.Percent.ToString(CultureInfo.InvariantCulture)} %: 0 to 100");
            case TestOutput.Diverter when request.Receiver is null || !Receivers(recipe).Contains(request.Receiver, StringComparer.Ordinal):
                return CommandResult.Refuse($"receiver '{PrintableText.Of(request.Receiver ?? "")}': one of {string.Join(", ", Receivers(recipe))}");
        }
        if (state.LastStepAt is null || state.SettledAt is null)
        {
            return CommandResult.Refuse("no readings yet: wait for the sensors' first samples");
        }
        if (TripHolding(state) is { } trip)
        {
            return CommandResult.Refuse($"alarm trip holds: {trip}; the outputs stay safe until it clears");
        }
        if (request.Output == TestOutput.SteamValve && request.Percent > 0 && SteamRefusal(state, recipe) is { } blocking)
        {
            return CommandResult.Refuse($"steam may not open: {blocking}");
        }
        Active = true;
        output = request.Output;
        percent = request.Output == TestOutput.Diverter ? 0 : request.Percent;
        receiver = request.Output == TestOutput.Diverter ? request.Receiver : null;
        operatorName = request.Operator;
        source = request.Source;
        testId = request.TestId;
        startedAt = now;
        until = now + request.Duration;
        leaseUntil = now + Lease;
        LastOutcome = null;
        var text = $"{Describe()} for {request.Duration.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s; every other output safe";
        decisions.Events.Add(new ControllerEvent(EventKind.OutputTest, now, state.Phase, "start", $"{CommandName} by {operatorName} ({source}): {text}"));
        return CommandResult.Accept($"output test: {text}");
    }

    private CommandResult Stop(OutputTestRequest request, BatchState state, DateTimeOffset now, Decisions decisions)
    {
        if (!Active)
        {
            return CommandResult.Accept("no output test is running: the outputs are safe");
        }
        // Anyone allowed to test may stop any test: going back to safe is never refused.
        var was = Describe();
        End(state, now, decisions, "stop", $"{CommandName} of {was} stopped by {request.Operator} ({request.Source}): outputs back to safe");
        return CommandResult.Accept($"output test stopped: {was} back to safe");
    }

    private CommandResult KeepAlive(OutputTestRequest request, DateTimeOffset now)
    {
        if (!Active || request.TestId != testId)
        {
            return CommandResult.Refuse("that output test is not running (it ended or went back to safe)");
        }
        leaseUntil = now + Lease;
        return CommandResult.Accept("kept");
    }

    /// <summary>
    /// Each step, after the controller's: ends the test at any doubt, else drives its one output. Must be called every step while
    /// <see cref="Active"/>; nothing happens when no test runs.
    /// </summary>
    public void Apply(BatchState state, Recipe recipe, DateTimeOffset now, Decisions decisions)
    {
        if (!Active)
        {
            return;
        }
        if (Doubt(state, recipe, now, decisions) is { } reason)
        {
            End(state, now, decisions, "revert", $"{CommandName} of {Describe()} by {operatorName} reverted to safe: {reason}");
            return;
        }
        switch (output)
        {
            case TestOutput.SteamValve:
                decisions.SteamValvePercent = percent;
                break;
            case TestOutput.CoolingValve:
                decisions.CoolingValvePercent = percent;
                break;
            case TestOutput.Diverter:
                decisions.Receiver = receiver;
                break;
        }
        // The isolation valve stays shut: a steam-valve test moves the modulating valve, and no steam passes a fitted isolation valve.
        decisions.SteamIsolationOpen = false;
        // The beacon tells anyone near the still that an output is being driven by hand.
        decisions.Beacon = true;
        // What the outputs were told, so the valve-position cross-check compares the feedback with the test's command.
        state.SteamValvePercent = decisions.SteamValvePercent;
        state.CoolingValvePercent = decisions.CoolingValvePercent;
    }

    /// <summary>Why the test must end now, or null.</summary>
    private string? Doubt(BatchState state, Recipe recipe, DateTimeOffset now, Decisions decisions)
    {
        if (now >= until)
        {
            return $"its time is up ({(until - startedAt).TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s)";
        }
        if (now >= leaseUntil)
        {
            return $"the page that started it stopped answering (nothing for {Lease.TotalSeconds:0} s)";
        }
        if (state.Phase.IsActive())
        {
            return $"batch {state.BatchId} is running";
        }
        if (decisions.Settling)
        {
            return "the sensors are settling after a restart";
        }
        if (TripHolding(state) is { } trip)
        {
            return $"alarm trip: {trip}";
        }
        if (output == TestOutput.SteamValve && percent > 0 && SteamRefusal(state, recipe) is { } blocking)
        {
            return $"steam interlock: {blocking}";
        }
        return null;
    }

    /// <summary>
    /// Why the steam valve may not be opened by hand: what would keep steam closed at the start of a batch, and a lid that is not
    /// proven closed where no isolation valve is fitted (outside a batch the lid interlock is not judged, but a valve tested by
    /// hand on an open still blows steam at the people unloading it).
    /// </summary>
    private string? SteamRefusal(BatchState state, Recipe recipe)
    {
        if (StillController.Blocking(state, recipe, Phase.Loading) is { Length: > 0 } blocking) return blocking;
        // With an isolation valve fitted (shut throughout the test) no steam passes, and the valve's travel can be checked
        // with the lid off; without one, steam reaches the still.
        if (!SteamIsolationFitted && StillController.LidNotProvenClosed(state))
        {
            var lid = state.Signal(Channel.LidClosed);
            return lid.IsGood ? "the still's lid is open (lid switch)" : $"the lid switch is unreadable ({lid.Fault.Name()})";
        }
        return null;
    }

    private void End(BatchState state, DateTimeOffset now, Decisions decisions, string code, string message)
    {
        Active = false;
        LastOutcome = message;
        decisions.Events.Add(new ControllerEvent(EventKind.OutputTest, now, state.Phase, code, message));
    }

    private static string? TripHolding(BatchState state)
    {
        for (var i = 0; i < state.AlarmSlots.Length; i++)
        {
            var slot = state.AlarmSlots[i];
            if (slot.Active && slot.Trip) return $"{Alarms.Code(i)} ({slot.Detail})";
        }
        return null;
    }

    private string Describe() => $"{output.Name()} {Setting(output, percent, receiver)}";

    private static string Setting(TestOutput output, double percent, string? receiver) => output == TestOutput.Diverter
        ? $"to receiver {PrintableText.Of(receiver ?? "")}"
        : $"at {percent.ToString("0.#", CultureInfo.InvariantCulture)} %";
}
