using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace StillControl.Web;

/// <summary>A signed-in user: the cookie carries only <see cref="Id"/>; the CSRF token must come back in X-CSRF-Token on every POST.</summary>
public sealed record WebSession(string Id, string User, Role Role, string CsrfToken, DateTimeOffset SignedInAt, DateTimeOffset ExpiresAt);

/// <summary>
/// Sessions kept in memory, by a random 256-bit id: a new id at every sign-in (a planted cookie is never taken over), gone on
/// sign-out, after <see cref="WebOptions.SessionMinutes"/> and when the service restarts (everyone signs in again).
/// </summary>
public sealed class SessionStore(TimeProvider time, TimeSpan lifetime)
{
    private readonly ConcurrentDictionary<string, WebSession> sessions = new(StringComparer.Ordinal);

    public WebSession Create(string user, Role role)
    {
        Sweep();
        var now = time.GetUtcNow();
        var session = new WebSession(NewToken(), user, role, NewToken(), now, now + lifetime);
        sessions[session.Id] = session;
        return session;
    }

    public WebSession? Find(string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > 100 || !sessions.TryGetValue(id, out var session)) return null;
        if (session.ExpiresAt <= time.GetUtcNow())
        {
            sessions.TryRemove(id, out _);
            return null;
        }
        return session;
    }

    public void End(string id) => sessions.TryRemove(id, out _);

    /// <summary>Ends every session of a user (removed, or given another role).</summary>
    public void EndAllOf(string user)
    {
        foreach (var (id, session) in sessions)
        {
            if (session.User == user) sessions.TryRemove(id, out _);
        }
    }

    public int Count => sessions.Count;

    private void Sweep()
    {
        var now = time.GetUtcNow();
        foreach (var (id, session) in sessions)
        {
            if (session.ExpiresAt <= now) sessions.TryRemove(id, out _);
        }
    }

    public static string NewToken() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static bool SameToken(string? a, string? b) =>
        a is not null && b is not null && CryptographicOperations.FixedTimeEquals(System.Text.Encoding.UTF8.GetBytes(a), System.Text.Encoding.UTF8.GetBytes(b));
}

/// <summary>
/// Failed sign-ins counted per user name and per client address over a sliding window; at the limit every attempt for that name
/// or from that address is refused (429, even with the right password) until the oldest failure leaves the window.
/// </summary>
public sealed class LoginLimiter(TimeProvider time, int attempts, TimeSpan window)
{
    private readonly ConcurrentDictionary<string, Queue<DateTimeOffset>> failures = new(StringComparer.Ordinal);

    /// <summary>Null when an attempt may be made now; otherwise how long to wait.</summary>
    public TimeSpan? Blocked(string address, string user)
    {
        var now = time.GetUtcNow();
        TimeSpan? wait = null;
        foreach (var key in Keys(address, user))
        {
            if (!failures.TryGetValue(key, out var queue)) continue;
            lock (queue)
            {
                while (queue.Count > 0 && queue.Peek() <= now - window) queue.Dequeue();
                if (queue.Count >= attempts)
                {
                    var until = queue.Peek() + window - now;
                    wait = wait is { } w && w > until ? w : until;
                }
            }
        }
        return wait;
    }

    public void Failed(string address, string user)
    {
        var now = time.GetUtcNow();
        foreach (var key in Keys(address, user))
        {
            var queue = failures.GetOrAdd(key, _ => new Queue<DateTimeOffset>());
            lock (queue)
            {
                queue.Enqueue(now);
                while (queue.Count > attempts) queue.Dequeue();
            }
        }
        if (failures.Count > 10_000)
        {
            // Bounded memory under a flood of made-up names: forget windows that have passed.
            foreach (var (key, queue) in failures)
            {
                lock (queue)
                {
                    if (queue.Count == 0 || queue.Peek() <= now - window) failures.TryRemove(key, out _);
                }
            }
        }
    }

    public void Succeeded(string user) => failures.TryRemove("user:" + user, out _);

    private static string[] Keys(string address, string user) => ["address:" + address, "user:" + (user.Length > 64 ? user[..64] : user)];
}
