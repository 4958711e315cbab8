namespace StillControl.Recipes;

/// <summary>One thing wrong with a recipe: where (a JSON key path), what was there, and what would be accepted.</summary>
public sealed record RecipeError(string Path, string Value, string Accepted)
{
    public override string ToString() => $"{Path} = {Value}: {Accepted}";
}
