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

/// <summary>
/// The same JSON as <see cref="JournalJsonContext"/>, written by generated code only (no property metadata is built): the loop
/// writes the batch state with it. Building the metadata of a state this size means compiling some hundreds of generic methods
/// while the loop runs, on its first save; reading a state back (a resume, a review) still uses the full context.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, IncludeFields = true, GenerationMode = JsonSourceGenerationMode.Serialization)]
[JsonSerializable(typeof(BatchState))]
[JsonSerializable(typeof(StillModelState))]
internal sealed partial class JournalWriteContext : JsonSerializerContext;
