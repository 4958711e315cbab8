namespace StillControl;

/// <summary>A temporary folder per test, removed afterwards.</summary>
public sealed class TestFiles : IDisposable
{
    public string Folder { get; } = Directory.CreateTempSubdirectory("stillcontrol-test-").FullName;

    public string PathOf(string name) => System.IO.Path.Combine(Folder, name);

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
