using System.Text.Json;
using System.Text.RegularExpressions;

namespace StillControl.Packaging;

/// <summary>The Debian packages deploy/package.sh builds: their control data, their files, and the program run from an
/// unpacked package without the .NET SDK (amd64 natively, arm64 under qemu-user).</summary>
[Collection(PackagingCollection.Name)]
[Trait("Category", "Packaging")]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class PackageTests(Amd64Package amd64, Arm64Package arm64)
{
    private static readonly TimeSpan Short = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Control_fields_name_the_version_the_architecture_and_what_a_Pi_must_have()
    {
        foreach (var package in new PackageFixture[] { amd64, arm64 })
        {
            var control = Fields((await Run.CommandAsync("dpkg-deb", ["-f", package.Deb], Short)).Succeeded("dpkg-deb -f").Output);
            Assert.Equal("stillcontrol", control["Package"]);
            Assert.Equal(package.Version, control["Version"]);
            Assert.Equal(package.Arch, control["Architecture"]);
            var depends = control["Depends"].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(d => d.Split(' ')[0]).ToHashSet();
            // The runtime's own natives need these; TLS to the plant broker needs OpenSSL (loaded at run time).
            Assert.Superset(new HashSet<string> { "libc6", "libgcc-s1", "libstdc++6", "libssl3" }, depends);
            // Invariant globalization: no ICU needed, so none demanded (a Pi without libicu installs it).
            Assert.DoesNotContain(depends, d => d.StartsWith("libicu", StringComparison.Ordinal));

            // Installed-Size (KiB) agrees with the files the package holds.
            var listed = Listing((await Run.CommandAsync("dpkg-deb", ["-c", package.Deb], Short)).Succeeded("dpkg-deb -c").Output);
            var bytes = listed.Sum(e => e.Size);
            var installedKb = long.Parse(control["Installed-Size"], System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(installedKb, bytes / 1024 * 0.95, bytes / 1024 * 1.10);
        }
    }

    [Fact]
    public async Task The_reference_configuration_is_a_conffile_and_the_maintainer_scripts_are_there_and_parse()
    {
        var info = (await Run.CommandAsync("dpkg-deb", ["-I", amd64.Deb], Short)).Succeeded("dpkg-deb -I").Output;
        foreach (var script in new[] { "postinst", "prerm", "postrm", "conffiles", "control" })
            Assert.Matches(new Regex($@"^\s+\d+ bytes,\s+\d+ lines\s+(\*\s+)?{script}\b", RegexOptions.Multiline), info);
        var conffiles = (await Run.CommandAsync("dpkg-deb", ["-I", amd64.Deb, "conffiles"], Short)).Succeeded("dpkg-deb -I conffiles").Output;
        Assert.Equal(["/etc/stillcontrol/stillcontrol.json"], conffiles.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

        var control = amd64.Scratch("control");
        (await Run.CommandAsync("dpkg-deb", ["-e", amd64.Deb, control], Short)).Succeeded("dpkg-deb -e");
        foreach (var script in new[] { "postinst", "prerm", "postrm" })
        {
            var path = Path.Combine(control, script);
            Assert.True(File.GetUnixFileMode(path).HasFlag(UnixFileMode.UserExecute), $"{script} is not executable");
            (await Run.CommandAsync("sh", ["-n", path], Short)).Succeeded($"sh -n {script}");
            // Each script refuses an action it does not know, as dpkg expects.
            var unknown = await Run.CommandAsync("sh", [path, "no-such-action"], Short);
            Assert.NotEqual(0, unknown.ExitCode);
            Assert.Contains("no-such-action", unknown.Error);
        }

        // The conffile as shipped is the repository's reference configuration.
        Assert.Equal(File.ReadAllText(Path.Combine(amd64.Repository, "deploy", "stillcontrol.json")),
            File.ReadAllText(Path.Combine(amd64.Root, "etc", "stillcontrol", "stillcontrol.json")));
    }

    [Fact]
    public async Task The_package_holds_the_program_the_command_link_and_the_unit_at_the_package_paths_and_nothing_unused()
    {
        var listed = Listing((await Run.CommandAsync("dpkg-deb", ["-c", amd64.Deb], Short)).Succeeded("dpkg-deb -c").Output);
        var byPath = listed.ToDictionary(e => e.Path);
        Assert.All(listed, e => Assert.Equal("root/root", e.Owner));
        Assert.StartsWith("-rwxr-xr-x", byPath["./usr/lib/stillcontrol/stillcontrol"].Mode);
        Assert.Equal("../lib/stillcontrol/stillcontrol", byPath["./usr/bin/stillcontrol"].LinkTarget);
        foreach (var path in new[]
                 {
                     "./usr/lib/stillcontrol/stillcontrol.dll", "./usr/lib/stillcontrol/libcoreclr.so", "./usr/lib/stillcontrol/libe_sqlite3.so",
                     "./usr/lib/stillcontrol/firmware-config/registers/pt100-8ch.json", "./usr/lib/systemd/system/stillcontrol.service",
                     "./usr/lib/udev/rules.d/99-stillcontrol.rules", "./etc/stillcontrol/stillcontrol.json", "./usr/share/doc/stillcontrol/copyright",
                     "./usr/share/stillcontrol/config.txt.stillcontrol",
                 })
            Assert.True(byPath.ContainsKey(path), $"{path} is not in the package");
        Assert.StartsWith("-rw-r-----", byPath["./etc/stillcontrol/stillcontrol.json"].Mode);
        // Left out: debugger and dump support, the LTTng provider, standalone GCs, satellite resources.
        foreach (var left in new[] { "libmscordbi.so", "libmscordaccore.so", "createdump", "libcoreclrtraceptprovider.so", "libclrgc.so", "libclrgcexp.so" })
            Assert.False(byPath.ContainsKey($"./usr/lib/stillcontrol/{left}"), $"{left} is in the package");
        Assert.DoesNotContain(listed, e => Regex.IsMatch(e.Path, @"/[a-z]{2}(-[A-Z][A-Za-z]+)*/[^/]+\.resources\.dll$"));
        // The program's own JIT would run if ReadyToRun had not been applied. The publish is composite: the program's two
        // assemblies (and the framework's) are components whose native code is in one image, stillcontrol.r2r.dll.
        var lib = Path.Combine(amd64.Root, "usr", "lib", "stillcontrol");
        foreach (var assembly in new[] { "stillcontrol.dll", "StillControl.Core.dll", "System.Private.CoreLib.dll", "System.Text.Json.dll" })
        {
            var flags = ReadyToRunFlags(Path.Combine(lib, assembly));
            Assert.True(flags is { } f && (f & ReadyToRunComponent) != 0, $"{assembly} is not a component of a composite ReadyToRun image (flags {flags})");
        }
        Assert.Contains("RTR_HEADER", Exports(Path.Combine(lib, "stillcontrol.r2r.dll")));

        // The unit is the repository's, pointed at the package's paths, with nothing else changed.
        var shipped = File.ReadAllLines(Path.Combine(amd64.Root, "usr", "lib", "systemd", "system", "stillcontrol.service"));
        var original = File.ReadAllLines(Path.Combine(amd64.Repository, "deploy", "stillcontrol.service"));
        Assert.Contains("ExecStart=/usr/bin/stillcontrol run --config /etc/stillcontrol/stillcontrol.json", shipped);
        Assert.Contains("ExecStopPost=/usr/bin/stillcontrol safe --config /etc/stillcontrol/stillcontrol.json", shipped);
        Assert.DoesNotContain(shipped, l => l.Contains("/opt/", StringComparison.Ordinal));
        Assert.Equal(original.Length, shipped.Length);
        var changed = original.Zip(shipped).Where(p => p.First != p.Second).Select(p => p.First.Split('=')[0]).ToList();
        Assert.Equal(["Documentation", "ExecStart", "ExecStopPost"], changed);
    }

    [Fact]
    public async Task Unpacked_in_a_clean_root_the_program_prints_its_version_and_runs_a_whole_batch_without_the_SDK()
    {
        var version = await NoSdkAsync(amd64, [Path.Combine(amd64.Root, "usr", "bin", "stillcontrol"), "--version"]);
        Assert.Equal($"stillcontrol {amd64.Version}", version.Succeeded("--version").Output.Trim());

        var journal = Path.Combine(amd64.Scratch("amd64-run"), "journal.db");
        var run = await NoSdkAsync(amd64, [Path.Combine(amd64.Root, "usr", "bin", "stillcontrol"), "simulate", "--speed", "max", "--mqtt", "off",
            "--journal", journal, "--json", "--seed", "7"]);
        AssertWholeBatch(run.Succeeded("simulate from the unpacked package"), journal);
    }

    [Fact]
    public async Task The_arm64_package_runs_its_version_and_a_whole_batch_under_qemu()
    {
        var coreclr = File.ReadAllBytes(Path.Combine(arm64.Root, "usr", "lib", "stillcontrol", "libcoreclr.so"));
        Assert.Equal(183, BitConverter.ToUInt16(coreclr, 18)); // ELF e_machine: EM_AARCH64

        var qemu = new[] { "qemu-aarch64", "-L", "/usr/aarch64-linux-gnu", arm64.Program };
        var version = await NoSdkAsync(arm64, [.. qemu, "--version"], arm: true);
        Assert.Equal($"stillcontrol {arm64.Version}", version.Succeeded("--version under qemu-aarch64").Output.Trim());

        var journal = Path.Combine(arm64.Scratch("arm64-run"), "journal.db");
        var run = await NoSdkAsync(arm64, [.. qemu, "simulate", "--speed", "max", "--mqtt", "off", "--journal", journal, "--json", "--seed", "7"], arm: true);
        AssertWholeBatch(run.Succeeded("simulate under qemu-aarch64"), journal);
    }

    [Fact]
    public async Task Installed_upgraded_removed_and_purged_with_dpkg_the_maintainer_scripts_do_what_they_say()
    {
        var script = Path.Combine(AppContext.BaseDirectory, "Packaging", "install-in-overlay.sh");
        var run = (await Run.CommandAsync("unshare", ["--mount", "--pid", "--fork", "--propagation", "private", "bash", script, amd64.Deb],
            TimeSpan.FromMinutes(6))).Succeeded("install-in-overlay.sh");
        var facts = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(": ", 2)).Where(p => p.Length == 2).GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.Last()[1]);
        string Fact(string key) => facts.TryGetValue(key, out var v) ? v : throw new Xunit.Sdk.XunitException($"no '{key}' in:\n{run.Output}\n{run.Error}");

        Assert.Equal("0", Fact("install exit"));
        Assert.Contains("stillcontrol probe", Fact("install said")); // the next steps are printed on a fresh install
        Assert.Equal($"install ok installed {amd64.Version}", Fact("status"));
        Assert.Matches(@"^stillcontrol:x:\d+:\d+:[^:]*:/var/lib/stillcontrol:/usr/sbin/nologin$", Fact("user"));
        Assert.Superset(new HashSet<string> { "stillcontrol", "gpio", "dialout", "spi", "i2c" }, Fact("groups").Split(' ').ToHashSet());
        Assert.Equal("root:stillcontrol 750", Fact("mode /etc/stillcontrol"));
        Assert.Equal("root:stillcontrol 640", Fact("mode /etc/stillcontrol/stillcontrol.json"));
        Assert.Equal("root:root 700", Fact("mode /etc/stillcontrol/credentials"));
        Assert.Equal("root:root 600", Fact("mode /etc/stillcontrol/credentials/mqtt-password"));
        Assert.Equal("root:root 600", Fact("mode /etc/stillcontrol/credentials/influx-token"));
        Assert.Equal("stillcontrol:stillcontrol 750", Fact("mode /var/lib/stillcontrol"));
        Assert.Equal($"stillcontrol {amd64.Version}", Fact("version"));
        Assert.Equal("/usr/lib/stillcontrol/stillcontrol", Fact("link"));
        Assert.Equal("0", Fact("batch exit"));
        Assert.Matches("\"completed\"", Fact("batch outcome"));

        Assert.Equal("0", Fact("upgrade exit"));
        Assert.Equal("yes", Fact("config kept"));
        Assert.Equal("s3cret", Fact("secret kept"));

        Assert.Equal("0", Fact("remove exit"));
        Assert.Equal("deinstall ok config-files", Fact("status after remove"));
        Assert.Equal("absent", Fact("program after remove"));
        Assert.Equal("present", Fact("config after remove"));
        Assert.Equal("present", Fact("journal after remove"));

        Assert.Equal("0", Fact("purge exit"));
        Assert.Equal("absent", Fact("etc after purge"));
        Assert.Equal("present", Fact("journal after purge")); // the batch record outlives a purge, and purge says so
        Assert.Contains("kept /var/lib/stillcontrol", Fact("purge said"));
        Assert.Equal("present", Fact("user after purge"));

        Assert.Equal("0", Fact("second install exit"));
        Assert.Equal("0", Fact("second purge exit"));
        Assert.Equal("absent", Fact("state after empty purge"));
    }

    /// <summary>Runs a command with an environment of its own (a minimal PATH, no DOTNET_ROOT) in a mount namespace where the
    /// machine's .NET installation is hidden under an empty tmpfs: whatever runs can only be the package's own runtime.</summary>
    private static Task<Run.Result> NoSdkAsync(PackageFixture package, string[] command, bool arm = false)
    {
        var dotnet = "/usr/share/dotnet";
        var hide = Directory.Exists(dotnet) ? $"mount -t tmpfs -o size=1m none {dotnet} && " : "";
        var environment = new Dictionary<string, string>
        {
            ["PATH"] = "/usr/bin:/bin",
            ["HOME"] = package.Scratch("home"),
            ["LANG"] = "C.UTF-8",
        };
        // No arm64 ICU on this machine (the program is built with invariant globalization anyway; this says so twice).
        if (arm) environment["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = "1";
        return Run.CommandAsync("unshare", ["--mount", "--propagation", "private", "sh", "-c", hide + "exec \"$@\"", "sh", .. command],
            TimeSpan.FromMinutes(arm ? 10 : 3), environment, package.Scratch("cwd"));
    }

    private static void AssertWholeBatch(Run.Result run, string journal)
    {
        using var result = JsonDocument.Parse(run.Output);
        var root = result.RootElement;
        Assert.Equal("completed", root.GetProperty("outcome").GetString());
        var phases = root.GetProperty("phases").EnumerateArray().ToList();
        Assert.True(phases.Count >= 5, $"only {phases.Count} phases: {run.Output}");
        Assert.True(root.GetProperty("simulatedSeconds").GetDouble() > 3600, run.Output);
        Assert.NotEmpty(root.GetProperty("fractions").EnumerateArray());
        Assert.True(new FileInfo(journal).Length > 0, "the journal was not written");
    }

    /// <summary>READYTORUN_FLAG_COMPONENT: the assembly's native code is in a composite image.</summary>
    private const uint ReadyToRunComponent = 0x20;

    /// <summary>The flags of an assembly's ReadyToRun header ("RTR"), or null when it has none (IL only).</summary>
    private static uint? ReadyToRunFlags(string assembly)
    {
        using var stream = File.OpenRead(assembly);
        using var pe = new System.Reflection.PortableExecutable.PEReader(stream);
        if (pe.PEHeaders.CorHeader?.ManagedNativeHeaderDirectory is not { Size: > 0 } header) return null;
        var reader = pe.GetSectionData(header.RelativeVirtualAddress).GetReader();
        if (reader.ReadUInt32() != 0x00525452) return null;
        reader.ReadUInt16();
        reader.ReadUInt16();
        return reader.ReadUInt32();
    }

    /// <summary>The names a native image exports (a composite ReadyToRun image exports its header as RTR_HEADER).</summary>
    private static List<string> Exports(string image)
    {
        using var stream = File.OpenRead(image);
        using var pe = new System.Reflection.PortableExecutable.PEReader(stream);
        var names = new List<string>();
        if (pe.PEHeaders.PEHeader?.ExportTableDirectory is not { Size: > 0 } exports) return names;
        var directory = pe.GetSectionData(exports.RelativeVirtualAddress).GetReader();
        directory.Offset = 24;
        var count = directory.ReadInt32();
        directory.ReadInt32();
        var namesAt = directory.ReadInt32();
        var table = pe.GetSectionData(namesAt).GetReader();
        for (var i = 0; i < count; i++)
        {
            var name = pe.GetSectionData(table.ReadInt32()).GetReader();
            var bytes = new List<byte>();
            for (byte b; (b = name.ReadByte()) != 0;) bytes.Add(b);
            names.Add(System.Text.Encoding.ASCII.GetString([.. bytes]));
        }
        return names;
    }

    private static Dictionary<string, string> Fields(string control)
    {
        var fields = new Dictionary<string, string>();
        string? last = null;
        foreach (var line in control.Split('\n'))
        {
            if (line.Length == 0) continue;
            if (char.IsWhiteSpace(line[0]) && last is not null) { fields[last] += "\n" + line.Trim(); continue; }
            var colon = line.IndexOf(':');
            last = line[..colon];
            fields[last] = line[(colon + 1)..].Trim();
        }
        return fields;
    }

    private sealed record Entry(string Mode, string Owner, long Size, string Path, string? LinkTarget);

    private static List<Entry> Listing(string listing)
    {
        // drwxr-xr-x root/root         0 2026-11-30 06:30 ./usr/bin/
        // lrwxrwxrwx root/root         0 2026-11-30 06:30 ./usr/bin/stillcontrol -> ../lib/stillcontrol/stillcontrol
        var entries = new List<Entry>();
        foreach (var line in listing.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var m = Regex.Match(line, @"^(\S+)\s+(\S+)\s+(\d+)\s+\S+\s+\S+\s+(.+?)(?: -> (.+))?$");
            Assert.True(m.Success, $"unexpected dpkg-deb -c line: {line}");
            entries.Add(new Entry(m.Groups[1].Value, m.Groups[2].Value, long.Parse(m.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture),
                m.Groups[4].Value, m.Groups[5].Success ? m.Groups[5].Value : null));
        }
        return entries;
    }
}
