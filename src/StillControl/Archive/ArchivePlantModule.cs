using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StillControl.Plant;
using StillControl.Telemetry;

namespace StillControl.Archive;

/// <summary>
/// The central batch archive in <c>stillcontrol plant</c>: with <c>Plant:Archive</c> (or <c>--archive PATH|CONNECTION</c>) set,
/// the plant takes every still's batch records from its broker (the <c>Mqtt</c> section) into that archive. Without it, the
/// plant keeps no archive and the stills keep their backlog in their journals.
/// </summary>
public sealed class ArchivePlantModule : IPlantModule
{
    public IEnumerable<(string Section, Type Type)> Sections => [];

    public void AddServices(WebApplicationBuilder builder)
    {
        var archive = builder.Configuration.GetSection(PlantOptions.Section).Get<PlantOptions>()?.Archive;
        if (string.IsNullOrWhiteSpace(archive)) return;
        builder.Services.AddSingleton(sp => new ArchiveIngest(sp.GetRequiredService<IOptions<MqttOptions>>().Value, archive, sp.GetRequiredService<ILogger<ArchiveIngest>>()));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ArchiveIngest>());
    }

    public void Map(WebApplication app)
    {
    }
}
