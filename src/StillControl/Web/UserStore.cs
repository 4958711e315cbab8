using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Identity;

namespace StillControl.Web;

/// <summary>What a user may do: each role can do everything the one below it can.</summary>
public enum Role
{
    /// <summary>Sees the still, the batches and the reports.</summary>
    Viewer = 0,

    /// <summary>Also works batches: start, seal, cut, hold, resume, abort, ack.</summary>
    Operator = 1,

    /// <summary>Also recipes, users and commissioning (the manual output test).</summary>
    Supervisor = 2,
}

public static class Roles
{
    public static IReadOnlyList<string> Names { get; } = ["viewer", "operator", "supervisor"];

    public static string Name(this Role role) => Names[(int)role];

    public static bool TryParse(string? text, out Role role)
    {
        var index = text is null ? -1 : Names.ToList().IndexOf(text.Trim().ToLowerInvariant());
        role = index < 0 ? Role.Viewer : (Role)index;
        return index >= 0;
    }
}

/// <summary>One line of the users file: a name, a role and a PasswordHasher hash (never the password).</summary>
public sealed class WebUser
{
    [JsonPropertyName("name")] public string Name { get; set; } = "";
    [JsonPropertyName("role")] public string Role { get; set; } = "viewer";
    [JsonPropertyName("hash")] public string Hash { get; set; } = "";
}

public sealed class UsersFileContent
{
    [JsonPropertyName("users")] public List<WebUser> Users { get; set; } = [];
}

/// <summary>The users file is unreadable or holds something it should not: names the file and the problem.</summary>
public sealed class UsersFileException(string message) : Exception(message);

/// <summary>
/// The users file: read when it changed (so <c>stillcontrol users add</c> takes effect on a running service), written whole
/// through a temporary file with mode 0600. Passwords are checked with ASP.NET Core Identity's PasswordHasher (PBKDF2).
/// </summary>
public sealed class UserStore
{
    private static readonly PasswordHasher<WebUser> Hasher = new();
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };
    /// <summary>A hash of a password nobody has, checked for unknown names so that a wrong name takes as long as a wrong password.</summary>
    private static readonly string DecoyHash = Hasher.HashPassword(new WebUser(), Guid.NewGuid().ToString());
    private readonly object gate = new();
    private UsersFileContent content = new();
    private DateTime loadedWriteTime = DateTime.MinValue;
    private long loadedLength = -1;

    public UserStore(string path)
    {
        Path = path;
    }

    public string Path { get; }

    public const int MinimumPasswordLength = 8;
    public const int MaximumPasswordLength = 256;

    /// <summary>1 to 32 letters (any script), digits, '-', '_' or '.': a name that fits every log line and journal row.</summary>
    public static string? NameProblem(string name) =>
        name.Length is < 1 or > 32 || !name.All(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.')
            ? $"user name '{Show(name)}': 1 to 32 letters, digits, '-', '_' or '.'"
            : null;

    public static string? PasswordProblem(string password) =>
        password.Length < MinimumPasswordLength ? $"the password has {password.Length} characters: at least {MinimumPasswordLength}"
        : password.Length > MaximumPasswordLength ? $"the password has {password.Length} characters: at most {MaximumPasswordLength}"
        : null;

    public IReadOnlyList<WebUser> Users()
    {
        lock (gate)
        {
            Refresh();
            return content.Users.Select(u => new WebUser { Name = u.Name, Role = u.Role, Hash = u.Hash }).ToList();
        }
    }

    /// <summary>The user and role when the name and password match; null otherwise (the same work is done for an unknown name).</summary>
    public (string Name, Role Role)? Verify(string name, string password)
    {
        WebUser? user;
        lock (gate)
        {
            try
            {
                Refresh();
            }
            catch (UsersFileException)
            {
                // A damaged file lets nobody in; the service reports it when it starts.
                content = new UsersFileContent();
            }
            user = content.Users.FirstOrDefault(u => string.Equals(u.Name, name, StringComparison.Ordinal));
        }
        if (password.Length > MaximumPasswordLength) return null;
        if (user is null)
        {
            Hasher.VerifyHashedPassword(new WebUser(), DecoyHash, password);
            return null;
        }
        PasswordVerificationResult result;
        try
        {
            result = Hasher.VerifyHashedPassword(user, user.Hash, password);
        }
        catch (FormatException)
        {
            return null;
        }
        if (result == PasswordVerificationResult.Failed || !Roles.TryParse(user.Role, out var role)) return null;
        return (user.Name, role);
    }

    /// <summary>Adds a user or replaces one of the same name (a new password or role).</summary>
    public bool AddOrReplace(string name, Role role, string password)
    {
        if (NameProblem(name) is { } badName) throw new UsersFileException(badName);
        if (PasswordProblem(password) is { } badPassword) throw new UsersFileException(badPassword);
        lock (gate)
        {
            Refresh();
            var user = new WebUser { Name = name, Role = role.Name() };
            user.Hash = Hasher.HashPassword(user, password);
            var replaced = content.Users.RemoveAll(u => string.Equals(u.Name, name, StringComparison.Ordinal)) > 0;
            content.Users.Add(user);
            Save();
            return replaced;
        }
    }

    public bool Remove(string name)
    {
        lock (gate)
        {
            Refresh();
            var removed = content.Users.RemoveAll(u => string.Equals(u.Name, name, StringComparison.Ordinal)) > 0;
            if (removed) Save();
            return removed;
        }
    }

    private void Refresh()
    {
        var info = new FileInfo(Path);
        if (!info.Exists)
        {
            content = new UsersFileContent();
            loadedWriteTime = DateTime.MinValue;
            loadedLength = -1;
            return;
        }
        if (info.LastWriteTimeUtc == loadedWriteTime && info.Length == loadedLength) return;
        UsersFileContent? read;
        try
        {
            read = JsonSerializer.Deserialize<UsersFileContent>(File.ReadAllText(Path), Json);
        }
        catch (JsonException ex)
        {
            throw new UsersFileException($"users file {Path} is not valid JSON ({ex.Message}); expected {{\"users\":[{{\"name\":…,\"role\":…,\"hash\":…}}]}} as 'stillcontrol users add' writes it");
        }
        catch (IOException ex)
        {
            throw new UsersFileException($"users file {Path} cannot be read ({ex.Message})");
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new UsersFileException($"users file {Path} cannot be read ({ex.Message})");
        }
        if (read?.Users is null) throw new UsersFileException($"users file {Path} holds no \"users\" list");
        foreach (var user in read.Users)
        {
            if (user is null || NameProblem(user.Name ?? "") is not null || !Roles.TryParse(user.Role, out _) || string.IsNullOrEmpty(user.Hash))
            {
                throw new UsersFileException($"users file {Path}: entry '{Show(user?.Name ?? "")}' needs a name (1 to 32 letters, digits, - _ .), a role ({string.Join(", ", Roles.Names)}) and a hash");
            }
        }
        content = read;
        loadedWriteTime = info.LastWriteTimeUtc;
        loadedLength = info.Length;
    }

    private void Save()
    {
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!;
        Directory.CreateDirectory(directory);
        var temporary = System.IO.Path.Combine(directory, $".{System.IO.Path.GetFileName(Path)}.{Environment.ProcessId}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(temporary, options))
        {
            JsonSerializer.Serialize(stream, content, Json);
            stream.Flush(flushToDisk: true);
        }
        // The mode is set again in case the temporary file was left by an earlier run with other bits.
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temporary, Path, overwrite: true);
        var info = new FileInfo(Path);
        loadedWriteTime = info.LastWriteTimeUtc;
        loadedLength = info.Length;
    }

    private static string Show(string text) => Process.PrintableText.Of(text.Length > 40 ? text[..40] + "…" : text);
}
