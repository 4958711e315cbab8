using System.Xml.Linq;

namespace StillControl.Packaging;

/// <summary>The Debian package of one architecture, built once per test run with <c>deploy/package.sh</c> (a real
/// self-contained ReadyToRun publish: minutes, not seconds) and unpacked with <c>dpkg -x</c> into a clean root.</summary>
public abstract class PackageFixture : IDisposable
{
    private readonly TestFiles files = new();

    protected PackageFixture(string arch)
    {
        Arch = arch;
        try
        {
            Repository = TestFiles.Repository();
            Version = XDocument.Load(Path.Combine(Repository, "Directory.Build.props")).Descendants("Version").Single().Value.Trim();
            // STILLCONTROL_TEST_PACKAGES=DIR tests the packages deploy/package.sh already wrote to DIR (a developer iterating
            // on the tests); unset, as in the full run, they are built here from the working tree.
            var prebuilt = Environment.GetEnvironmentVariable("STILLCONTROL_TEST_PACKAGES");
            if (!string.IsNullOrEmpty(prebuilt))
            {
                Deb = Path.Combine(prebuilt, $"stillcontrol_{Version}_{arch}.deb");
            }
            else
            {
                Deb = files.PathOf($"stillcontrol_{Version}_{arch}.deb");
                BuildOutput = Run.CommandAsync("bash", [Path.Combine(Repository, "deploy", "package.sh"), arch, "--out", files.Folder],
                    TimeSpan.FromMinutes(30), workingDirectory: Repository).GetAwaiter().GetResult().Succeeded($"deploy/package.sh {arch}").Output;
            }
            Assert.True(File.Exists(Deb), $"package.sh did not write {Deb}; it said:\n{BuildOutput}");
            Root = files.PathOf("root");
            Directory.CreateDirectory(Root);
            Run.CommandAsync("dpkg", ["-x", Deb, Root], TimeSpan.FromMinutes(2)).GetAwaiter().GetResult().Succeeded("dpkg -x");
        }
        catch
        {
            files.Dispose();
            throw;
        }
    }

    public string Arch { get; }

    public string Repository { get; } = "";

    /// <summary>&lt;Version&gt; in Directory.Build.props, read here on its own.</summary>
    public string Version { get; } = "";

    public string Deb { get; } = "";

    public string BuildOutput { get; } = "";

    /// <summary>The package's files unpacked into an otherwise empty folder.</summary>
    public string Root { get; } = "";

    public string Program => Path.Combine(Root, "usr", "lib", "stillcontrol", "stillcontrol");

    public string Scratch(string name)
    {
        var path = files.PathOf(name);
        Directory.CreateDirectory(path);
        return path;
    }

    public void Dispose()
    {
        files.Dispose();
        GC.SuppressFinalize(this);
    }
}

public sealed class Amd64Package() : PackageFixture("amd64");

public sealed class Arm64Package() : PackageFixture("arm64");

/// <summary>The packaging tests share their two packages and run one at a time (each publish keeps both cores busy).</summary>
[CollectionDefinition(Name)]
public sealed class PackagingCollection : ICollectionFixture<Amd64Package>, ICollectionFixture<Arm64Package>
{
    public const string Name = "Packaging";
}
