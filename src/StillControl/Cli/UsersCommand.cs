using Microsoft.Extensions.Configuration;
using StillControl.Web;

namespace StillControl.Cli;

/// <summary>
/// <c>stillcontrol users add NAME --role viewer|operator|supervisor --password-stdin [--users FILE]</c>, <c>users list</c>,
/// <c>users remove NAME</c>: the panel's users file (<c>Panel:UsersFile</c>, mode 0600, PasswordHasher hashes).
/// </summary>
public static class UsersCommand
{
    public const string UsageLines = """
          stillcontrol users add NAME --role viewer|operator|supervisor --password-stdin [--users FILE] [--config FILE]
          stillcontrol users list [--users FILE] [--config FILE] [--json]     stillcontrol users remove NAME [--users FILE]
              The panel's users (file Panel:UsersFile, mode 0600; the password is read from standard input, one line).
    """;

    public static int Run(string[] args, TextWriter output, TextWriter error) => Run(args, Console.In, output, error);

    public static int Run(string[] args, TextReader input, TextWriter output, TextWriter error)
    {
        var a = Arguments.Parse(args, "users", ["--password-stdin", "--json"], ["--role", "--users", "--config"]);
        if (a.Positionals.Count == 0) throw new BadInputException("users: add, list or remove (see --help)");
        var verb = a.Positionals[0];
        var path = a.Value("--users") ?? UsersFileFromConfiguration(a.Value("--config"));
        var store = new UserStore(path);
        try
        {
            switch (verb)
            {
                case "add":
                {
                    if (a.Positionals.Count != 2) throw new BadInputException("users add: one NAME");
                    var name = a.Positionals[1];
                    if (UserStore.NameProblem(name) is { } badName) throw new BadInputException($"users add: {badName}");
                    var roleText = a.Value("--role") ?? throw new BadInputException($"users add: --role is needed: one of {string.Join(", ", Roles.Names)}");
                    if (!Roles.TryParse(roleText, out var role)) throw new BadInputException($"users add: --role '{roleText}': one of {string.Join(", ", Roles.Names)}");
                    if (!a.Has("--password-stdin")) throw new BadInputException("users add: --password-stdin is needed (the password is read from standard input, never from the command line)");
                    var password = input.ReadLine();
                    if (password is null) throw new BadInputException("users add: --password-stdin: standard input is empty; pipe the password in, one line");
                    if (UserStore.PasswordProblem(password) is { } badPassword) throw new BadInputException($"users add: {badPassword}");
                    var replaced = store.AddOrReplace(name, role, password);
                    output.WriteLine($"{(replaced ? "replaced" : "added")} {name} ({role.Name()}) in {path}");
                    return 0;
                }
                case "list":
                {
                    if (a.Positionals.Count != 1) throw new BadInputException($"users list: unexpected argument '{a.Positionals[1]}'");
                    var users = store.Users();
                    if (a.Has("--json"))
                    {
                        output.WriteLine(System.Text.Json.JsonSerializer.Serialize(users.Select(u => new { name = u.Name, role = u.Role })));
                    }
                    else if (users.Count == 0)
                    {
                        output.WriteLine($"no users in {path}: add the first with 'stillcontrol users add NAME --role supervisor --password-stdin'");
                    }
                    else
                    {
                        foreach (var user in users.OrderBy(u => u.Name, StringComparer.Ordinal)) output.WriteLine($"{user.Name,-32} {user.Role}");
                    }
                    return 0;
                }
                case "remove":
                {
                    if (a.Positionals.Count != 2) throw new BadInputException("users remove: one NAME");
                    if (!store.Remove(a.Positionals[1]))
                    {
                        throw new BadInputException($"users remove: no user '{Process.PrintableText.Of(a.Positionals[1])}' in {path}");
                    }
                    output.WriteLine($"removed {a.Positionals[1]} from {path}");
                    return 0;
                }
                default:
                    throw new BadInputException($"users: unknown subcommand '{verb}'; accepted: add, list, remove");
            }
        }
        catch (UsersFileException ex)
        {
            error.WriteLine($"stillcontrol: {ex.Message}");
            return 2;
        }
        catch (UnauthorizedAccessException ex)
        {
            error.WriteLine($"stillcontrol: users file {path}: {ex.Message}");
            return 2;
        }
        catch (IOException ex)
        {
            error.WriteLine($"stillcontrol: users file {path}: {ex.Message}");
            return 2;
        }
    }

    /// <summary>Panel:UsersFile as the service would read it: appsettings.json beside the program, --config, STILLCONTROL_ variables.</summary>
    private static string UsersFileFromConfiguration(string? file)
    {
        if (file is not null && !File.Exists(file)) throw new BadInputException($"users: --config {file}: no such file");
        var builder = new ConfigurationBuilder().AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true);
        if (file is not null) builder.AddJsonFile(Path.GetFullPath(file), optional: false);
        builder.AddEnvironmentVariables("STILLCONTROL_");
        try
        {
            var configured = builder.Build()[$"{WebOptions.Section}:{nameof(WebOptions.UsersFile)}"];
            return string.IsNullOrWhiteSpace(configured) ? new WebOptions().UsersFile : configured;
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException)
        {
            throw new BadInputException($"users: {(file is null ? "configuration" : $"--config {file}")} is not valid JSON ({ex.Message})");
        }
    }
}
