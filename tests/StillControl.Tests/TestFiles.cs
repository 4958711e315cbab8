namespace StillControl;

/// <summary>A temporary folder per test, removed afterwards.</summary>
public sealed class TestFiles : IDisposable
{
    public string Folder { get; } = Directory.CreateTempSubdirectory("stillcontrol-test-").FullName;

    public string PathOf(string name) => System.IO.Path.Combine(Folder, name);

    /// <summary>The repository's root (where StillControl.sln is), for tests of the files it ships: dashboards, configurations.</summary>
    public static string Repository()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(System.IO.Path.Combine(root, "StillControl.sln"))) root = System.IO.Path.GetDirectoryName(root)!;
        return root;
    }

    public string Write(string name, string text)
    {
        var path = PathOf(name);
        File.WriteAllText(path, text);
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
