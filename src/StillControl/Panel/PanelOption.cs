using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using StillControl.Cli;

namespace StillControl.Panel;

/// <summary><c>simulate --panel PORT [--users FILE] [--distiller on|off]</c>: the panel on loopback while the simulated batch runs.</summary>
public sealed record PanelOption(int? Port, string? UsersFile, bool? Distiller)
{
    public static PanelOption Parse(string? port, string? users, string? distiller)
    {
        int? number = null;
        if (port is not null)
        {
            if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var p) || p > 65535)
            {
                throw new BadInputException($"simulate: --panel = '{port}': a TCP port, 1 to 65535 (0: any free one)");
            }
            number = p;
        }
        if (users is not null && number is null) throw new BadInputException("simulate: --users goes with --panel PORT");
        bool? acting = distiller switch
        {
            null => null,
            "on" => true,
            "off" => false,
            _ => throw new BadInputException($"simulate: --distiller = '{distiller}': on (the simulated distiller gives the commands) or off (you do, from the panel)"),
        };
        return new PanelOption(number, users, acting);
    }

    public void AddTo(IDictionary<string, string?> overrides)
    {
        if (Distiller is { } acting) overrides["Simulation:Distiller"] = acting ? "true" : "false";
        if (Port is not { } port) return;
        overrides["Panel:Enabled"] = "true";
        overrides["Panel:Urls"] = string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}");
        if (UsersFile is not null) overrides["Panel:UsersFile"] = UsersFile;
    }

    /// <summary>Tells the person where the panel is, once it listens (the real port when 0 was asked).</summary>
    public void Announce(IServiceProvider services, TextWriter output)
    {
        var server = services.GetService<PanelServer>();
        if (server is null || server.Addresses.Count == 0)
        {
            output.WriteLine("Panel: not serving (see the log above); the simulation runs on");
            return;
        }
        var options = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Web.WebOptions>>().Value;
        output.WriteLine($"Panel: {server.Addresses[0]}/ (users file {options.UsersFile}); stop with Ctrl-C");
        output.Flush();
    }
}
