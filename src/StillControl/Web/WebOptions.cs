namespace StillControl.Web;

/// <summary>
/// The web panel's settings (section <c>Panel</c>): where it listens, the users file, HTTPS, sessions and the login rate limit.
/// Shared by every web page the program serves (the still's panel, the plant's pages).
/// </summary>
public sealed class WebOptions
{
    public const string Section = "Panel";

    /// <summary>False: no web server at all.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Where the panel listens: one or more URLs separated by ';' (https ones need <see cref="CertificatePath"/>).</summary>
    public string Urls { get; set; } = "http://0.0.0.0:8080";

    /// <summary>The users file (JSON, written by <c>stillcontrol users</c>, mode 0600).</summary>
    public string UsersFile { get; set; } = "users.json";

    /// <summary>A PEM certificate (with <see cref="CertificateKeyPath"/>) or a PKCS#12 file (with <see cref="CertificatePassword"/> if it has one).</summary>
    public string? CertificatePath { get; set; }

    public string? CertificateKeyPath { get; set; }

    public string? CertificatePassword { get; set; }

    /// <summary>A session ends this long after sign-in.</summary>
    public int SessionMinutes { get; set; } = 12 * 60;

    /// <summary>Failed sign-ins allowed per user name and per client address within <see cref="LoginWindowSeconds"/>; then 429.</summary>
    public int LoginAttempts { get; set; } = 5;

    public int LoginWindowSeconds { get; set; } = 300;

    /// <summary>The still's time zone for the page's times (IANA id such as Asia/Shanghai); empty: the machine's own.</summary>
    public string? TimeZone { get; set; }

    /// <summary>A manual output test (commissioning) goes back to safe by itself after this many seconds.</summary>
    public int OutputTestSeconds { get; set; } = 30;

    /// <summary>Every problem with these settings, each naming the key, the value and what is accepted.</summary>
    public List<string> Problems()
    {
        var problems = new List<string>();
        if (!Enabled) return problems;
        var urls = UrlList();
        if (urls.Count == 0) problems.Add($"Panel:Urls = \"{Urls}\": one or more http:// or https:// URLs separated by ';'");
        foreach (var url in urls)
        {
            if (!Uri.TryCreate(url.Replace("://*", "://localhost", StringComparison.Ordinal).Replace("://+", "://localhost", StringComparison.Ordinal), UriKind.Absolute, out var uri)
                || uri.Scheme is not ("http" or "https"))
            {
                problems.Add($"Panel:Urls contains \"{url}\": an http:// or https:// URL with a host and port, such as http://0.0.0.0:8080");
            }
            else if (uri.Scheme == "https" && string.IsNullOrWhiteSpace(CertificatePath))
            {
                problems.Add($"Panel:Urls contains \"{url}\": https needs Panel:CertificatePath (a PEM certificate with Panel:CertificateKeyPath, or a .pfx file)");
            }
        }
        if (string.IsNullOrWhiteSpace(UsersFile)) problems.Add("Panel:UsersFile is empty: the path of the users file (stillcontrol users add writes it)");
        if (CertificatePath is { Length: > 0 } cert && !File.Exists(cert)) problems.Add($"Panel:CertificatePath = \"{cert}\": no such file");
        if (CertificateKeyPath is { Length: > 0 } key && !File.Exists(key)) problems.Add($"Panel:CertificateKeyPath = \"{key}\": no such file");
        if (SessionMinutes is < 1 or > 7 * 24 * 60) problems.Add($"Panel:SessionMinutes = {SessionMinutes}: 1 to {7 * 24 * 60}");
        if (LoginAttempts is < 1 or > 1000) problems.Add($"Panel:LoginAttempts = {LoginAttempts}: 1 to 1000");
        if (LoginWindowSeconds is < 1 or > 86400) problems.Add($"Panel:LoginWindowSeconds = {LoginWindowSeconds}: 1 to 86400");
        if (OutputTestSeconds is < 1 or > 300) problems.Add($"Panel:OutputTestSeconds = {OutputTestSeconds}: 1 to 300 (seconds before a manual output test goes back to safe)");
        if (TimeZone is { Length: > 0 } zone && !TimeZoneInfo.TryFindSystemTimeZoneById(zone, out _))
        {
            problems.Add($"Panel:TimeZone = \"{zone}\": a time zone id such as Asia/Shanghai, or empty for the machine's own");
        }
        return problems;
    }

    public List<string> UrlList() => Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    /// <summary>The still's time zone as an IANA id for the browser.</summary>
    public string TimeZoneId()
    {
        var zone = TimeZone is { Length: > 0 } configured && TimeZoneInfo.TryFindSystemTimeZoneById(configured, out var found) ? found : TimeZoneInfo.Local;
        if (zone.HasIanaId) return zone.Id;
        return TimeZoneInfo.TryConvertWindowsIdToIanaId(zone.Id, out var iana) ? iana : "UTC";
    }
}

/// <summary>Panel settings checked before anything starts (exit 2 naming the key, the value and what is accepted).</summary>
public sealed class WebOptionsValidator : Microsoft.Extensions.Options.IValidateOptions<WebOptions>
{
    public Microsoft.Extensions.Options.ValidateOptionsResult Validate(string? name, WebOptions options) =>
        options.Problems() is { Count: > 0 } problems
            ? Microsoft.Extensions.Options.ValidateOptionsResult.Fail(problems)
            : Microsoft.Extensions.Options.ValidateOptionsResult.Success;
}
