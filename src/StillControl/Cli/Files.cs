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
            throw new BadInputException(string.Join(Environment.NewLine, errors.Select(e => RecipeProblem(path, e))));
        }
        return recipe;
    }

    /// <summary>How <c>recipe check</c> (and the panel's upload) names one thing wrong with a recipe file: the file, the key, the value, what is accepted.</summary>
    public static string RecipeProblem(string file, RecipeError error) => $"recipe {file}: {error}";

    /// <summary>How <c>recipe check</c> (and the panel's upload) says a recipe file is valid.</summary>
    public static string RecipeValid(string file, Recipe recipe) => $"recipe {file}: valid ({recipe.Name})";

    /// <summary>How a recipe file larger than the limit is refused (<c>recipe check</c>, the panel's upload).</summary>
    public static string RecipeTooLarge(string file, long bytes) => TooLarge("recipe", file, bytes, SafetyEnvelope.RecipeFileMaximumBytes);

    private static string TooLarge(string what, string path, long bytes, long limit) => $"{what} {path}: {bytes} bytes, larger than the {limit} bytes a {what} file may have";

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
                throw new BadInputException(TooLarge(what, path, file.Length, limit));
            }
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new BadInputException($"{what} {path}: cannot be read ({ex.Message})");
        }
    }
}
