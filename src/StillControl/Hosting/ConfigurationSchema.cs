using System.Collections;
using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace StillControl.Hosting;

/// <summary>
/// Every configuration key, from every source (appsettings.json, --config, STILLCONTROL_ variables, options), checked against
/// the options types before anything starts: a misspelled key or a value of the wrong type is named with what is accepted,
/// instead of being ignored (a still that silently leaves the plant's broker) or failing later with a stack trace.
/// </summary>
public static class ConfigurationSchema
{
    private static readonly (string Section, Type Type)[] Sections =
    [
        (StillOptions.Section, typeof(StillOptions)), (HardwareOptions.Section, typeof(HardwareOptions)), (ControlLoopOptions.Section, typeof(ControlLoopOptions)),
        (JournalOptions.Section, typeof(JournalOptions)), (RecipeOptions.Section, typeof(RecipeOptions)), (SimulationOptions.Section, typeof(SimulationOptions)),
        (Telemetry.MqttOptions.Section, typeof(Telemetry.MqttOptions)), (History.HistoryOptions.Section, typeof(History.HistoryOptions)),
        (Web.WebOptions.Section, typeof(Web.WebOptions)),
    ];

    /// <summary>Sections read by the framework (logging) or set by the program itself, not checked here.</summary>
    private static readonly string[] Free = ["Logging", "ConfigDirectory", HostDefaults.ContentRootKey, HostDefaults.EnvironmentKey, HostDefaults.ApplicationKey];

    /// <summary>Checks the configuration a service would run with: appsettings.json beside the program, then <paramref name="overrides"/>.</summary>
    public static List<string> Check(IDictionary<string, string?> overrides) =>
        Check(new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddInMemoryCollection(overrides)
            .Build());

    public static List<string> Check(IConfiguration configuration) => Check(configuration, Sections);

    /// <summary>Checks <paramref name="configuration"/> against another program's sections (the plant's: Plant, Mqtt and its modules').</summary>
    public static List<string> Check(IConfiguration configuration, IReadOnlyList<(string Section, Type Type)> sections)
    {
        var errors = new List<string>();
        foreach (var (key, value) in configuration.AsEnumerable().OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (value is null) continue;
            var parts = key.Split(':');
            if (Free.Contains(parts[0], StringComparer.OrdinalIgnoreCase)) continue;
            var section = sections.FirstOrDefault(s => string.Equals(s.Section, parts[0], StringComparison.OrdinalIgnoreCase));
            if (section.Type is null)
            {
                errors.Add($"{key}: unknown section '{parts[0]}'; accepted: {string.Join(", ", sections.Select(s => s.Section))}");
                continue;
            }
            if (Resolve(section.Type, parts, 1, key, value) is { } problem) errors.Add(problem);
        }
        return errors.Distinct(StringComparer.Ordinal).ToList();
    }

    private static string? Resolve(Type type, string[] parts, int index, string key, string value)
    {
        var path = string.Join(':', parts[..index]);
        if (index == parts.Length)
        {
            return Leaf(type, key, value);
        }
        var segment = parts[index];
        if (DictionaryValue(type) is { } valueType)
        {
            return Resolve(valueType, parts, index + 1, key, value);
        }
        if (ListElement(type) is { } elementType)
        {
            if (!int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                return $"{key}: {path} is a list; '{segment}' is not a position in it";
            }
            return Resolve(elementType, parts, index + 1, key, value);
        }
        var properties = Bindable(type);
        var property = properties.FirstOrDefault(p => string.Equals(p.Name, segment, StringComparison.OrdinalIgnoreCase));
        if (property is null)
        {
            return $"{key}: unknown key '{segment}' under {path}; accepted: {string.Join(", ", properties.Select(p => p.Name))}";
        }
        return Resolve(property.PropertyType, parts, index + 1, key, value);
    }

    private static string? Leaf(Type type, string key, string value)
    {
        var target = Nullable.GetUnderlyingType(type) ?? type;
        if (target == typeof(string)) return null;
        // An empty JSON array or object arrives as an empty value on a list or an object key.
        if (value.Length == 0 && (ListElement(target) is not null || DictionaryValue(target) is not null || Bindable(target).Length > 0)) return null;
        if (ListElement(target) is not null || DictionaryValue(target) is not null || (target.IsClass && Bindable(target).Length > 0))
        {
            return $"{key} = \"{value}\": an object or a list, not a single value";
        }
        try
        {
            TypeDescriptor.GetConverter(target).ConvertFromInvariantString(value);
            return null;
        }
        catch (Exception ex) when (ex is FormatException or NotSupportedException or ArgumentException or OverflowException || ex.InnerException is FormatException or OverflowException)
        {
            return $"{key} = \"{value}\": {Accepted(target)}";
        }
    }

    private static string Accepted(Type type) => type switch
    {
        _ when type == typeof(int) => "a whole number",
        _ when type == typeof(long) => "a whole number",
        _ when type == typeof(double) => "a number (with a dot for decimals)",
        _ when type == typeof(bool) => "true or false",
        _ when type.IsEnum => "one of " + string.Join(", ", Enum.GetNames(type)),
        _ => $"a value of type {type.Name}",
    };

    private static PropertyInfo[] Bindable(Type type) =>
        type.IsPrimitive || type == typeof(string) || type.IsEnum
            ? []
            : type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0 && (p.CanWrite || ListElement(p.PropertyType) is not null || DictionaryValue(p.PropertyType) is not null)).ToArray();

    private static Type? DictionaryValue(Type type) =>
        type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>) && type.GetGenericArguments()[0] == typeof(string) ? type.GetGenericArguments()[1] : null;

    private static Type? ListElement(Type type) =>
        type.IsArray ? type.GetElementType()
        : type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>) ? type.GetGenericArguments()[0]
        : null;
}
