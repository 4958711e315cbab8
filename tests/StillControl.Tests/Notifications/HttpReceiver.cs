using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace StillControl.Notifications;

/// <summary>One HTTP request as the receiver got it.</summary>
public sealed record ReceivedRequest(string Method, string PathAndQuery, Dictionary<string, string> Headers, string Body, DateTime At)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var v) ? v : null;
}

/// <summary>
/// A real HTTP server on a free loopback port (HttpListener) that records every request: the receiver of webhooks, ntfy topics,
/// the Telegram Bot API and the WeCom and DingTalk robots in the tests. It can be stopped (connections refused) and started
/// again on the same port, and told what to answer.
/// </summary>
public sealed class HttpReceiver : IDisposable
{
    private HttpListener? listener;
    private readonly ConcurrentQueue<ReceivedRequest> requests = new();
    private readonly SemaphoreSlim arrived = new(0);

    public int Port { get; } = FreePort.Next();
    public string Url => $"http://127.0.0.1:{Port}";
    /// <summary>What to answer: status and body, from the request.</summary>
    public Func<ReceivedRequest, (int Status, string Body)> Answer { get; set; } = _ => (200, "{\"ok\":true,\"errcode\":0,\"errmsg\":\"ok\"}");

    public HttpReceiver() => Start();

    public IReadOnlyList<ReceivedRequest> Requests => requests.ToArray();

    public void Start()
    {
        var l = new HttpListener();
        l.Prefixes.Add($"http://127.0.0.1:{Port}/");
        l.Start();
        listener = l;
        _ = Task.Run(() => Serve(l));
    }

    /// <summary>Stops listening: every connection is refused until <see cref="Start"/>.</summary>
    public void Stop()
    {
        var l = listener;
        listener = null;
        l?.Stop();
        l?.Close();
    }

    private async Task Serve(HttpListener l)
    {
        while (l.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await l.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            try
            {
                using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
                var body = await reader.ReadToEndAsync();
                var headers = context.Request.Headers.AllKeys.Where(k => k is not null).ToDictionary(k => k!, k => context.Request.Headers[k]!, StringComparer.OrdinalIgnoreCase);
                var request = new ReceivedRequest(context.Request.HttpMethod, context.Request.Url!.PathAndQuery, headers, body, DateTime.UtcNow);
                var (status, answer) = Answer(request);
                if (status is >= 200 and < 300) requests.Enqueue(request);
                context.Response.StatusCode = status;
                var bytes = Encoding.UTF8.GetBytes(answer);
                context.Response.ContentType = "application/json";
                await context.Response.OutputStream.WriteAsync(bytes);
                context.Response.Close();
                arrived.Release();
            }
            catch (Exception ex) when (ex is HttpListenerException or IOException or ObjectDisposedException)
            {
            }
        }
    }

    /// <summary>Waits until at least <paramref name="count"/> requests were taken (answered 2xx); fails after <paramref name="timeout"/>.</summary>
    public async Task<IReadOnlyList<ReceivedRequest>> WaitForAsync(int count, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (requests.Count < count)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) throw new TimeoutException($"the receiver got {requests.Count} of {count} requests");
            await arrived.WaitAsync(left < TimeSpan.FromMilliseconds(200) ? left : TimeSpan.FromMilliseconds(200));
        }
        return Requests;
    }

    public void Dispose() => Stop();
}
