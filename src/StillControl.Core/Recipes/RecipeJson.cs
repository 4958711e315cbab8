using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace StillControl.Recipes;

/// <summary>Reads and writes recipes as JSON. A recipe file names only what differs from the built-in default.</summary>
public static class RecipeJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        PreferredObjectCreationHandling = JsonObjectCreationHandling.Populate,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public static string Serialize(Recipe recipe) => JsonSerializer.Serialize(recipe, Options);

    /// <summary>Parses and validates. Never throws for bad input: every problem comes back as a <see cref="RecipeError"/>.</summary>
    public static (Recipe? Recipe, IReadOnlyList<RecipeError> Errors) Parse(string json)
    {
        if (json.Length > SafetyEnvelope.RecipeFileMaximumBytes)
        {
            return (null, [new RecipeError("(recipe)", $"{json.Length} characters", $"at most {SafetyEnvelope.RecipeFileMaximumBytes} bytes: a recipe is a few kilobytes")]);
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            return (null, [new RecipeError($"line {ex.LineNumber + 1}", "(not JSON)", $"a JSON object ({FirstSentence(ex.Message)})")]);
        }

        using (document)
        {
            var shapeErrors = new List<RecipeError>();
            CheckShape(document.RootElement, typeof(Recipe), "", shapeErrors);
            if (shapeErrors.Count > 0)
            {
                return (null, shapeErrors);
            }
        }

        Recipe recipe;
        try
        {
            recipe = JsonSerializer.Deserialize<Recipe>(json, Options) ?? new Recipe();
        }
        catch (JsonException ex)
        {
            return (null, [new RecipeError(ex.Path?.TrimStart('$', '.') ?? "(recipe)", "(wrong type)", FirstSentence(ex.Message))]);
        }

        var errors = RecipeValidator.Validate(recipe);
        return errors.Count == 0 ? (recipe, errors) : (null, errors);
    }

    /// <summary>Walks the document against the recipe's types so an unknown key or a wrong kind of value is named with what is accepted.</summary>
    private static void CheckShape(JsonElement element, Type type, string path, List<RecipeError> errors)
    {
        var underlying = Nullable.GetUnderlyingType(type);
        if (underlying is not null)
        {
            if (element.ValueKind == JsonValueKind.Null)
            {
                return;
            }
            type = underlying;
        }

        string Here() => path.Length == 0 ? "(recipe)" : path;

        if (type == typeof(double))
        {
            if (element.ValueKind != JsonValueKind.Number)
            {
                errors.Add(new RecipeError(Here(), Show(element), "a number" + (underlying is null ? "" : " or null")));
            }
            return;
        }
        if (type == typeof(string))
        {
            if (element.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
            {
                errors.Add(new RecipeError(Here(), Show(element), "a string"));
            }
            return;
        }
        if (typeof(IList).IsAssignableFrom(type))
        {
            if (element.ValueKind != JsonValueKind.Array)
            {
                errors.Add(new RecipeError(Here(), Show(element), "an array"));
                return;
            }
            var itemType = type.GetGenericArguments()[0];
            var i = 0;
            foreach (var item in element.EnumerateArray())
            {
                CheckShape(item, itemType, $"{path}[{i++}]", errors);
            }
            return;
        }
        if (element.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new RecipeError(Here(), Show(element), "an object"));
            return;
        }

        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetCustomAttribute<JsonIgnoreAttribute>() is null && p.GetIndexParameters().Length == 0)
            .ToDictionary(JsonName, p => p.PropertyType, StringComparer.Ordinal);
        foreach (var member in element.EnumerateObject())
        {
            var childPath = path.Length == 0 ? member.Name : $"{path}.{member.Name}";
            if (properties.TryGetValue(member.Name, out var childType))
            {
                CheckShape(member.Value, childType, childPath, errors);
            }
            else
            {
                errors.Add(new RecipeError(childPath, Show(member.Value), $"no such key; accepted here: {string.Join(", ", properties.Keys)}"));
            }
        }
    }

    private static string JsonName(PropertyInfo property) =>
        property.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? JsonNamingPolicy.CamelCase.ConvertName(property.Name);

    private static string Show(JsonElement element)
    {
        var text = element.ValueKind switch
        {
            JsonValueKind.Object => "{…}",
            JsonValueKind.Array => "[…]",
            _ => element.GetRawText(),
        };
        return text.Length > 40 ? text[..40] + "…" : text;
    }

    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(". ", StringComparison.Ordinal);
        return end < 0 ? message : message[..end];
    }

    /// <summary>A number as people write it: 0.### in the everyday range, exponent notation outside it (so 1e-9 is not shown as 0).</summary>
    internal static string Format(double value) =>
        value != 0 && double.IsFinite(value) && (Math.Abs(value) < 0.001 || Math.Abs(value) >= 1e9)
            ? value.ToString("G6", CultureInfo.InvariantCulture)
            : value.ToString("0.###", CultureInfo.InvariantCulture);
}
