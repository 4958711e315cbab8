using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StillControl.Process;
using StillControl.Sensors;
using StillControl.Web;

namespace StillControl.Panel;

/// <summary>What the commissioning page shows of one output now.</summary>
public sealed record CommissioningOutputs(double SteamValvePercent, double CoolingValvePercent, string? Receiver, bool SteamIsolationOpen, bool Horn);

/// <summary>
/// The commissioning page (supervisors only): every configured sensor with its quality and the reason when it is not good, the
/// 1-Wire thermometers on the bus, each bus's counters (the same survey as <c>stillcontrol probe</c>), and the manual output test.
/// The test goes through the control loop (<see cref="Hosting.ControlCycle.SubmitOutputTest"/>), which alone drives the outputs.
/// </summary>
public sealed partial class PanelServer
{
    private void MapCommissioning(WebApplication web)
    {
        // The loop's snapshots say whether an output is driven by hand, on every page (read on the loop's thread).
        feed.OutputTestRunning = () => cycle.OutputTestActive;

        web.MapGet("/commissioning", () => Asset("commissioning.html"));
        web.MapGet("/api/commissioning", Survey).RequireRole(Role.Supervisor);
        web.MapPost("/api/commissioning/test", (Delegate)(Func<HttpContext, Task<IResult>>)StartTest).RequireRole(Role.Supervisor);
        web.MapPost("/api/commissioning/keep-alive", (Delegate)(Func<HttpContext, Task<IResult>>)KeepTest).RequireRole(Role.Supervisor);
        web.MapPost("/api/commissioning/stop", (Delegate)(Func<HttpContext, Task<IResult>>)StopTest).RequireRole(Role.Operator);
    }

    /// <summary><c>GET /api/commissioning</c>: the readings with their quality, the buses, the outputs and the output test now.</summary>
    private IResult Survey()
    {
        if (feed.Snapshot is not { } snapshot)
        {
            return WebFoundation.Problem(StatusCodes.Status503ServiceUnavailable, "the control loop has not published its state yet");
        }
        var plan = host.GetService<PiPlan>();
        var bank = host.GetService<PiSensorBank>();
        var lines = new List<SurveyLine>(snapshot.Readings.Count);
        foreach (var reading in snapshot.Readings)
        {
            string key = "simulated";
            string? detail = null;
            if (Channels.TryParse(reading.Channel, out var channel) && plan is not null && plan.KeyOf.TryGetValue(channel, out var configured))
            {
                key = configured;
                detail = bank?.Latest.Detail(channel);
            }
            lines.Add(new SurveyLine(reading.Channel, key, reading.Quality == "good" ? "ok" : "fault", reading.Value, reading.Unit, reading.Fault, detail));
        }
        IReadOnlyList<SurveyOneWire> oneWire = plan is null ? [] : SensorSurvey.OneWire(plan);
        var live = snapshot.Live;
        var test = cycle.OutputTestStatus;
        return Results.Json(new
        {
            still = snapshot.Still,
            simulated = plan is null,
            at = live.At,
            readings = lines,
            oneWire,
            missingOneWire = plan is null ? [] : SensorSurvey.MissingOneWire(plan, oneWire),
            buses = bank is null ? [] : SensorSurvey.Buses(bank),
            notOpened = bank?.Failures ?? [],
            outputs = new CommissioningOutputs(live.SteamValvePercent, live.CoolingValvePercent, live.Receiver, snapshot.SteamIsolationOpen, snapshot.Horn),
            phase = live.Phase,
            batchId = live.BatchId,
            batchRunning = Phases.TryParse(live.Phase, out var phase) && phase.IsActive(),
            trips = snapshot.Alarms.Where(a => a.Active && a.Trip).Select(a => a.Code).ToArray(),
            interlocks = snapshot.Interlocks,
            test,
            testable = TestOutputs.Names,
            receivers = OutputTest.Receivers(cycle.Recipe),
            testSeconds = options.OutputTestSeconds,
            leaseSeconds = OutputTest.Lease.TotalSeconds,
        }, PanelJson.Options);
    }

    /// <summary>
    /// <c>POST /api/commissioning/test</c> {"output": "steam-valve"|"cooling-valve"|"diverter", "percent": 0-100, "receiver": name}:
    /// starts an output test as the signed-in supervisor; answers {"accepted", "reason", "testId", "until"}.
    /// </summary>
    private async Task<IResult> StartTest(HttpContext context)
    {
        var session = WebFoundation.SessionOf(context)!;
        var (body, problem) = await WebFoundation.ReadJsonAsync(context, 1024);
        if (body is not { } json) return WebFoundation.Problem(StatusCodes.Status400BadRequest, problem!);
        var name = WebFoundation.Text(json, "output");
        if (!TestOutputs.TryParse(name, out var output))
        {
            return WebFoundation.Problem(StatusCodes.Status400BadRequest,
                $"\"output\": {(name is null ? "missing or not text" : $"'{PrintableText.Of(name)}'")}; one of {string.Join(", ", TestOutputs.Names)}");
        }
        double percent = 0;
        string? receiver = null;
        if (output == TestOutput.Diverter)
        {
            receiver = WebFoundation.Text(json, "receiver");
            if (string.IsNullOrEmpty(receiver) || receiver.Length > 64)
            {
                return WebFoundation.Problem(StatusCodes.Status400BadRequest, $"\"receiver\": the receiver's name (1-64 characters); one of {string.Join(", ", OutputTest.Receivers(cycle.Recipe))}");
            }
        }
        else if (!json.TryGetProperty("percent", out var value) || value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out percent) || !double.IsFinite(percent) || percent is < 0 or > 100)
        {
            return WebFoundation.Problem(StatusCodes.Status400BadRequest, "\"percent\": the valve opening, a number from 0 to 100");
        }
        var testId = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12)).ToLowerInvariant();
        var request = new OutputTestRequest(OutputTestAction.Start, session.User, Source, testId, output, percent, receiver, TimeSpan.FromSeconds(options.OutputTestSeconds));
        if (await AskLoop(request, context.RequestAborted) is not { } result)
        {
            return WebFoundation.Problem(StatusCodes.Status503ServiceUnavailable, "the control loop did not answer within 10 s; the outputs stay as the loop decides (safe unless a test began)");
        }
        LogOutputTest("start", session.User, result.Accepted, PrintableText.Of(result.Reason));
        var status = cycle.OutputTestStatus;
        return Results.Json(new
        {
            accepted = result.Accepted,
            reason = result.Reason,
            testId = result.Accepted ? testId : null,
            until = result.Accepted && status.TestId == testId ? status.Until : null,
        }, PanelJson.Options);
    }

    /// <summary><c>POST /api/commissioning/keep-alive</c> {"testId"}: the page that started the test is still open; 409 once the test has ended.</summary>
    private async Task<IResult> KeepTest(HttpContext context)
    {
        var session = WebFoundation.SessionOf(context)!;
        var (body, problem) = await WebFoundation.ReadJsonAsync(context, 1024);
        if (body is not { } json) return WebFoundation.Problem(StatusCodes.Status400BadRequest, problem!);
        if (WebFoundation.Text(json, "testId") is not { Length: > 0 and <= 64 } testId)
        {
            return WebFoundation.Problem(StatusCodes.Status400BadRequest, "\"testId\": the id the test's start answered");
        }
        var result = await AskLoop(new OutputTestRequest(OutputTestAction.KeepAlive, session.User, Source, testId), context.RequestAborted);
        if (result is null) return WebFoundation.Problem(StatusCodes.Status503ServiceUnavailable, "the control loop did not answer within 10 s");
        return result.Accepted
            ? Results.Json(new { kept = true, test = cycle.OutputTestStatus }, PanelJson.Options)
            : Results.Json(new { kept = false, reason = result.Reason, test = cycle.OutputTestStatus }, PanelJson.Options, statusCode: StatusCodes.Status409Conflict);
    }

    /// <summary><c>POST /api/commissioning/stop</c>: back to safe now, whoever started the test. Never refused.</summary>
    private async Task<IResult> StopTest(HttpContext context)
    {
        var session = WebFoundation.SessionOf(context)!;
        var result = await AskLoop(new OutputTestRequest(OutputTestAction.Stop, session.User, Source, ""), context.RequestAborted);
        if (result is null) return WebFoundation.Problem(StatusCodes.Status503ServiceUnavailable, "the control loop did not answer within 10 s; without keep-alives the test goes back to safe by itself");
        LogOutputTest("stop", session.User, result.Accepted, PrintableText.Of(result.Reason));
        return Results.Json(new { accepted = result.Accepted, reason = result.Reason }, PanelJson.Options);
    }

    private async Task<CommandResult?> AskLoop(OutputTestRequest request, CancellationToken aborted)
    {
        var submitted = cycle.SubmitOutputTest(request);
        // A stop is sent even when the page is going away: it is not cut short by the request ending.
        var wait = request.Action == OutputTestAction.Stop ? CancellationToken.None : aborted;
        try
        {
            var finished = await Task.WhenAny(submitted, Task.Delay(TimeSpan.FromSeconds(10), wait));
            return finished == submitted ? await submitted : null;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Panel output test {Action} by {User}: accepted {Accepted}, {Reason}")]
    private partial void LogOutputTest(string action, string user, bool accepted, string reason);
}
