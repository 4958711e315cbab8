using System.Reflection;

namespace StillControl.Cli;

/// <summary>What <c>stillcontrol --version</c> prints: the program's informational version, which is &lt;Version&gt; in
/// Directory.Build.props (without a "+commit" suffix) and so also the Debian package's version.</summary>
public static class ProgramVersion
{
    public static string Version { get; } =
        typeof(ProgramVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public static string Text => $"stillcontrol {Version}";
}
