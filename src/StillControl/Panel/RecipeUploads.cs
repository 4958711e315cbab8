using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using StillControl.Cli;
using StillControl.Recipes;

namespace StillControl.Panel;

/// <summary>One accepted upload: its file in the uploads folder, the recipe's name and version, the file name it came as, who and when.</summary>
public sealed record RecipeUpload(string File, string Name, string Version, string UploadedAs, string User, DateTimeOffset At);

/// <summary>
/// Recipes uploaded in the panel, kept on disk beside the journal, in the folder <c>JOURNAL.recipes</c> (for
/// <c>/var/lib/stillcontrol/stillcontrol.db</c>: <c>/var/lib/stillcontrol/stillcontrol.db.recipes/</c>): every accepted upload
/// as its own file, the text exactly as uploaded; <c>effective.json</c> naming the one the next start uses; <c>history.jsonl</c>,
/// one line per accepted upload. <c>run</c> and <c>simulate</c> start with the effective upload unless <c>--recipe</c> names a
/// file, so a restart keeps what the supervisor chose.
/// </summary>
public sealed class RecipeUploads(string journalPath)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = false };

    public string Folder { get; } = journalPath + ".recipes";

    public string EffectivePath => Path.Combine(Folder, "effective.json");

    private string HistoryPath => Path.Combine(Folder, "history.jsonl");

    /// <summary>A recipe's version as the batch report shows it: the first 8 hex digits of the SHA-256 of its stored JSON.</summary>
    public static string Version(Recipe recipe) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(RecipeJson.Serialize(recipe))))[..8];

    /// <summary>
    /// The recipe a service starts with: the file <paramref name="given"/> on the command line (<c>--recipe</c>); else the recipe
    /// last uploaded in the panel (beside <paramref name="journalPath"/>); else the file <paramref name="configured"/>
    /// (<c>Recipe:Path</c>); else the built-in one. A damaged upload is bad input naming its file, never silently replaced.
    /// </summary>
    public static Recipe Starting(string? given, string? configured, string journalPath)
    {
        if (given is not null) return Files.LoadRecipe(given);
        if (new RecipeUploads(journalPath).Effective() is { } uploaded) return uploaded.Recipe;
        return Files.LoadRecipe(configured);
    }

    /// <summary>The effective upload and its recipe; null when none was ever accepted. Damage is a <see cref="BadInputException"/> naming the file.</summary>
    public (Recipe Recipe, RecipeUpload Upload)? Effective()
    {
        if (!File.Exists(EffectivePath)) return null;
        RecipeUpload? upload;
        try
        {
            upload = JsonSerializer.Deserialize<RecipeUpload>(File.ReadAllText(EffectivePath), Json);
        }
        catch (Exception ex) when (ex is JsonException or IOException or UnauthorizedAccessException)
        {
            throw new BadInputException($"recipe uploads: {EffectivePath} cannot be read ({ex.Message}): remove it to start with Recipe:Path or the built-in recipe, or upload a recipe again");
        }
        if (upload is null || string.IsNullOrEmpty(upload.File) || upload.File.Contains('/') || upload.File.Contains('\\') || upload.File.StartsWith('.'))
        {
            throw new BadInputException($"recipe uploads: {EffectivePath} does not name an uploaded file: remove it to start with Recipe:Path or the built-in recipe, or upload a recipe again");
        }
        var file = Path.Combine(Folder, upload.File);
        if (!File.Exists(file)) throw new BadInputException($"recipe uploads: {EffectivePath} names {upload.File}, which is not in {Folder}: remove {EffectivePath}, or upload a recipe again");
        return (Files.LoadRecipe(file), upload);
    }

    /// <summary>Accepted uploads, newest first (at most <paramref name="count"/>); a line that cannot be read is left out.</summary>
    public List<RecipeUpload> History(int count = 20)
    {
        if (!File.Exists(HistoryPath)) return [];
        var uploads = new List<RecipeUpload>();
        foreach (var line in File.ReadLines(HistoryPath).Reverse())
        {
            if (uploads.Count >= count) break;
            try
            {
                if (JsonSerializer.Deserialize<RecipeUpload>(line, Json) is { } upload) uploads.Add(upload);
            }
            catch (JsonException)
            {
            }
        }
        return uploads;
    }

    /// <summary>Writes an upload's text to its own file (not yet effective); the file name carries the time and the version.</summary>
    public RecipeUpload Stage(string text, Recipe recipe, string uploadedAs, string user, DateTimeOffset at)
    {
        Directory.CreateDirectory(Folder);
        var version = Version(recipe);
        var name = string.Create(CultureInfo.InvariantCulture, $"{at.UtcDateTime:yyyyMMdd-HHmmss}-{version}.json");
        // The same recipe uploaded twice in one second gets a name of its own: a refused second upload is discarded by name,
        // and must never take the first one's file (perhaps the effective one) with it.
        for (var n = 2; File.Exists(Path.Combine(Folder, name)); n++)
        {
            name = string.Create(CultureInfo.InvariantCulture, $"{at.UtcDateTime:yyyyMMdd-HHmmss}-{version}-{n}.json");
        }
        var upload = new RecipeUpload(name, recipe.Name, version, uploadedAs, user, at);
        WriteAtomically(Path.Combine(Folder, name), text);
        return upload;
    }

    /// <summary>Names <paramref name="upload"/> as the effective recipe (replacing the file whole, never half-written) and adds it to the history.</summary>
    public void MakeEffective(RecipeUpload upload)
    {
        WriteAtomically(EffectivePath, JsonSerializer.Serialize(upload, Json));
        File.AppendAllText(HistoryPath, JsonSerializer.Serialize(upload, Json) + "\n");
    }

    /// <summary>Removes a staged upload the loop refused.</summary>
    public void Discard(RecipeUpload upload)
    {
        try
        {
            File.Delete(Path.Combine(Folder, upload.File));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>
    /// Writes the whole file under a temporary name, flushes it to the disk, then renames it over the old one: a power loss
    /// leaves the old file or the new one (should the rename itself be lost), never an empty one: the service refuses to start
    /// on a damaged recipe file.
    /// </summary>
    private static void WriteAtomically(string path, string text)
    {
        var temporary = path + ".tmp";
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(new UTF8Encoding(false).GetBytes(text));
            file.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }
}
