using StillControl.Process;
using StillControl.Recipes;

namespace StillControl.Process;

/// <summary>Drives the pure controller step by step with readings a test sets, the way the control cycle does.</summary>
public sealed class ControllerHarness
{
    public static readonly TimeSpan Period = TimeSpan.FromMilliseconds(250);

    public Recipe Recipe { get; }
    public BatchState State { get; } = new();
    public Decisions Decisions { get; } = new();
    public ReadingSnapshot Readings { get; } = new();
    public DateTimeOffset Now { get; private set; } = new(2026, 11, 28, 8, 0, 0, TimeSpan.Zero);
    public List<ControllerEvent> Events { get; } = [];

    /// <summary>Current value per channel; null: faulted with <see cref="Faults"/>' reason; missing key: not configured.</summary>
    public Dictionary<Channel, double?> Values { get; } = new()
    {
        [Channel.Steam] = 104, [Channel.SteamPressure] = 15, [Channel.Vapour] = 25, [Channel.BedSurface] = 30,
        [Channel.CoolingIn] = 20, [Channel.CoolingOut] = 22, [Channel.CoolingFlow] = 40, [Channel.Distillate] = 21,
        [Channel.DistillateFlow] = 0, [Channel.Barometer] = 1013.25, [Channel.EmergencyStop] = 0,
    };

    public Dictionary<Channel, FaultReason> Faults { get; } = [];

    /// <summary>Channels read exactly, without the wobble: for a value at a limit (only for less than the channel's stuck time).</summary>
    public HashSet<Channel> Exact { get; } = [];

    /// <summary>Channels counted from pulses (a flow meter): read exactly and never judged stuck, as the hardware reports them.</summary>
    public HashSet<Channel> Pulses { get; } = [];

    /// <summary>What the sensors report now: values move toward <see cref="Values"/> no faster than a real process (80 % of the spike limit).</summary>
    private readonly Dictionary<Channel, double> emitted = [];

    private int tick;

    public ControllerHarness(Recipe? recipe = null) => Recipe = recipe ?? DefaultRecipe.Create();

    public void Step(int count = 1)
    {
        for (var i = 0; i < count; i++)
        {
            Now += Period;
            tick++;
            Fill();
            Decisions.Clear(Now);
            StillController.Step(Readings, State, Recipe, Now, Decisions);
            Events.AddRange(Decisions.Events);
        }
    }

    public void StepSeconds(double seconds) => Step((int)Math.Ceiling(seconds / Period.TotalSeconds));

    public CommandResult Command(CommandKind kind, string? argument = null)
    {
        Decisions.Clear(Now);
        var result = StillController.Apply(new OperatorCommand(kind, "tester", "test", argument ?? (kind == CommandKind.Start ? "batch-1" : null)), State, Recipe, Now, Decisions);
        Events.AddRange(Decisions.Events);
        return result;
    }

    /// <summary>Fills readings; a tiny alternating wobble keeps live sensors from looking stuck.</summary>
    private void Fill()
    {
        foreach (var channel in Channels.All)
        {
            if (!Values.TryGetValue(channel, out var value))
            {
                Readings[channel] = Reading.NotConfigured;
            }
            else if (value is { } target)
            {
                var v = Slew(channel, target);
                var wobble = channel is Channel.EmergencyStop or Channel.LidClosed || v == 0 || Exact.Contains(channel) ? 0 : (tick % 2 == 0 ? 0.01 : -0.01);
                Readings[channel] = Pulses.Contains(channel) ? Reading.FromPulses(v, Now) : Reading.Good(v + wobble, Now);
            }
            else
            {
                Readings[channel] = Reading.Faulted(Faults.GetValueOrDefault(channel, FaultReason.Disconnected), Now);
            }
        }
    }

    private double Slew(Channel channel, double target)
    {
        if (!emitted.TryGetValue(channel, out var current) || Recipe.LimitsFor(channel).MaximumRatePerSecond is not { } rate)
        {
            emitted[channel] = target;
            return target;
        }
        var step = rate * 0.8 * Period.TotalSeconds;
        current = Math.Abs(target - current) <= step ? target : current + Math.Sign(target - current) * step;
        emitted[channel] = current;
        return current;
    }

    /// <summary>The next reading of the channel jumps straight to the value, as a faulty sensor would.</summary>
    public void Jump(Channel channel, double value)
    {
        Values[channel] = value;
        emitted[channel] = value;
    }

    /// <summary>Steps until the batch is held (at most the given time); returns the steam commanded in the step that held it.</summary>
    public double StepUntilHeld(double maximumSeconds = 30)
    {
        for (var i = 0; i < maximumSeconds / Period.TotalSeconds; i++)
        {
            Step();
            if (State.Held) return Decisions.SteamValvePercent;
        }
        throw new Xunit.Sdk.XunitException($"not held after {maximumSeconds} s; phase {State.Phase}");
    }

    /// <summary>Readings of a still that is distilling steadily at a given vapour temperature.</summary>
    public void Distilling(double vapourCelsius, double flowLitresPerMinute = 2.5)
    {
        Values[Channel.Vapour] = vapourCelsius;
        Values[Channel.BedSurface] = 99;
        Values[Channel.DistillateFlow] = flowLitresPerMinute;
        Values[Channel.Distillate] = 28;
        if (Values.ContainsKey(Channel.DistillateCheck)) Values[Channel.DistillateCheck] = 28;
        Values[Channel.CoolingOut] = 40;
    }

    /// <summary>Start, load, seal and run until the batch reaches <paramref name="phase"/>.</summary>
    public void RunTo(Phase phase)
    {
        Step(4);
        Assert.True(Command(CommandKind.Start).Accepted);
        Step(4);
        if (phase == Phase.Loading) return;
        Assert.True(Command(CommandKind.Seal).Accepted);
        Step(4);
        if (phase == Phase.Sealed) return;
        Distilling(82);
        StepSeconds(12);
        Assert.Equal(Phase.Heads, State.Phase);
        if (phase == Phase.Heads) return;
        StepSeconds(40);
        Assert.Equal(Phase.Hearts, State.Phase);
        if (phase == Phase.Hearts) return;
        Assert.True(Command(CommandKind.Cut).Accepted);
        Assert.True(Command(CommandKind.Cut).Accepted);
        Assert.Equal(Phase.Tails, State.Phase);
        Distilling(96);
        StepSeconds(5);
        if (phase == Phase.Tails) return;
        Assert.True(Command(CommandKind.Cut).Accepted);
        Step(4);
        Assert.Equal(Phase.Steaming, State.Phase);
    }
}
