using System.Text.Json.Serialization;
using StillControl.Physics;
using StillControl.Process;

namespace StillControl.Journal;

/// <summary>
/// Compile-time JSON for what the journal saves on every commit (the batch state and the simulator checkpoint): no reflection
/// at run time, so the first save of a service or simulation costs no more than the thousandth.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, IncludeFields = true)]
[JsonSerializable(typeof(BatchState))]
[JsonSerializable(typeof(StillModelState))]
internal sealed partial class JournalJsonContext : JsonSerializerContext;
