using StillControl.Recipes;
using StillControl.Simulation;

namespace StillControl.Cli;

/// <summary>Loads the files a user names, turning every problem into a message that names the file, the key, the value and what is accepted.</summary>
public static class Files
{
    public static Recipe LoadRecipe(string? path)
    {
        if (path is null) return DefaultRecipe.Create();
        var (recipe, errors) = RecipeJson.Parse(Read(path, "recipe", SafetyEnvelope.RecipeFileMaximumBytes));
        if (recipe is null)
        {
            throw new BadInputException($"recipe {path}: " + string.Join(Environment.NewLine + $"recipe {path}: ", errors));
        }
        return recipe;
    }

    public static Scenario LoadScenario(string? path)
    {
        if (path is null) return new Scenario();
        var (scenario, errors) = Scenario.Parse(Read(path, "scenario"));
        if (scenario is null)
        {
            throw new BadInputException($"scenario {path}: " + string.Join(Environment.NewLine + $"scenario {path}: ", errors));
        }
        return scenario;
    }

    public static string Read(string path, string what, long? maximumBytes = null)
    {
        try
        {
            if (maximumBytes is { } limit && new FileInfo(path) is { Exists: true } file && file.Length > limit)
            {
                throw new BadInputException($"{what} {path}: {file.Length} bytes, larger than the {limit} bytes a {what} file may have");
            }
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new BadInputException($"{what} {path}: cannot be read ({ex.Message})");
        }
    }
}
