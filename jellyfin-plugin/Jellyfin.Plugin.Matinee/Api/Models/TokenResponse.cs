using System.Text.Json.Serialization;

namespace Jellyfin.Plugin.Matinee.Api.Models;

/// <summary>The body of <c>GET /Matinee/Token</c>.</summary>
/// <param name="Token">The signed JWT for the session server's <c>hello</c>.</param>
/// <param name="ExpiresIn">Seconds until the token expires.</param>
public sealed record TokenResponse(
    [property: JsonPropertyName("Token")] string Token,
    [property: JsonPropertyName("ExpiresIn")] int ExpiresIn);
