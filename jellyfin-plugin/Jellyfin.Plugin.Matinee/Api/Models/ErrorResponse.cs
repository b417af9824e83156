using System.Text.Json.Serialization;

namespace Jellyfin.Plugin.Matinee.Api.Models;

/// <summary>An error body: a stable code and a sentence for people.</summary>
/// <param name="Code">A stable machine-readable code.</param>
/// <param name="Message">What went wrong and what to do.</param>
public sealed record ErrorResponse(
    [property: JsonPropertyName("Code")] string Code,
    [property: JsonPropertyName("Message")] string Message);
