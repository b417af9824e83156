using System.Text.Json.Serialization;

namespace Jellyfin.Plugin.Matinee.Api.Models;

/// <summary>
/// The body of <c>GET /Matinee/Config</c>: what the client needs, nothing secret. Property names
/// are fixed with <see cref="JsonPropertyNameAttribute"/> because Jellyfin lets a caller switch
/// its JSON output between PascalCase and camelCase (Jellyfin.Server/Extensions/ApiServiceCollectionExtensions.cs).
/// </summary>
/// <param name="ServerUrl">The session server's public URL, or empty when not configured.</param>
/// <param name="Version">The plugin version, <c>x.y.z</c>.</param>
/// <param name="DefaultControl"><c>host</c> or <c>shared</c>.</param>
/// <param name="DefaultWaitForAll">Whether new rooms wait for buffering members.</param>
/// <param name="TokenLifetimeSeconds">Lifetime of tokens from <c>GET /Matinee/Token</c>.</param>
public sealed record ConfigResponse(
    [property: JsonPropertyName("ServerUrl")] string ServerUrl,
    [property: JsonPropertyName("Version")] string Version,
    [property: JsonPropertyName("DefaultControl")] string DefaultControl,
    [property: JsonPropertyName("DefaultWaitForAll")] bool DefaultWaitForAll,
    [property: JsonPropertyName("TokenLifetimeSeconds")] int TokenLifetimeSeconds);
