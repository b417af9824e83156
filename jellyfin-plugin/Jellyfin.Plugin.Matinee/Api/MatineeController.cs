using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Mime;
using System.Security.Claims;
using System.Security.Cryptography;
using Jellyfin.Plugin.Matinee.Api.Models;
using Jellyfin.Plugin.Matinee.Core.Settings;
using Jellyfin.Plugin.Matinee.Core.Tokens;
using Jellyfin.Plugin.Matinee.Core.Web;
using Jellyfin.Plugin.Matinee.Tokens;
using MediaBrowser.Common.Api;
using MediaBrowser.Controller;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace Jellyfin.Plugin.Matinee.Api;

/// <summary>
/// The plugin's HTTP API under <c>{BaseUrl}/Matinee</c>: the client files, the JWKS, tokens and
/// the user-visible configuration.
/// </summary>
[ApiController]
[Route("Matinee")]
public sealed class MatineeController : ControllerBase
{
    private static readonly Lazy<Dictionary<string, string>> ClientResources = new(LoadClientResources);

    private readonly MatineeContext _context;
    private readonly SigningKeyService _keys;
    private readonly InjectionStatus _status;
    private readonly IServerApplicationHost _host;
    private readonly ILogger<MatineeController> _logger;

    /// <summary>
    /// Initializes a new instance of the <see cref="MatineeController"/> class.
    /// </summary>
    /// <param name="context">The plugin context.</param>
    /// <param name="keys">The signing key service.</param>
    /// <param name="status">Which injection path is active.</param>
    /// <param name="host">Jellyfin's application host (its <c>SystemId</c> is the token issuer).</param>
    /// <param name="logger">The logger.</param>
    public MatineeController(MatineeContext context, SigningKeyService keys, InjectionStatus status, IServerApplicationHost host, ILogger<MatineeController> logger)
    {
        _context = context;
        _keys = keys;
        _status = status;
        _host = host;
        _logger = logger;
    }

    /// <summary>
    /// The loader injected into jellyfin-web's index.html: a classic script that defines
    /// <c>window.MatineePlugin</c>.
    /// </summary>
    /// <returns>The script.</returns>
    [HttpGet("ClientScript")]
    [AllowAnonymous]
    [ProducesResponseType(StatusCodes.Status200OK)]
    [ProducesResponseType(StatusCodes.Status404NotFound)]
    public IActionResult GetClientScript() => ServeClientFile(ClientAssets.LoaderPath);

    /// <summary>One client module, e.g. <c>core/timesync.js</c>, from the embedded set only.</summary>
    /// <param name="path">The file's path relative to client-js/src.</param>
    /// <returns>The file.</returns>
    [HttpGet("Client/{**path}")]
    [AllowAnonymous]
    [ProducesResponseType(StatusCodes.Status200OK)]
    [ProducesResponseType(StatusCodes.Status404NotFound)]
    public IActionResult GetClientFile([FromRoute] string path) => ServeClientFile(path);

    /// <summary>The public signing key as a JWKS, for the session server.</summary>
    /// <returns>The JWKS document.</returns>
    [HttpGet("Jwks")]
    [AllowAnonymous]
    [Produces(MediaTypeNames.Application.Json)]
    [ProducesResponseType(StatusCodes.Status200OK)]
    [ProducesResponseType(StatusCodes.Status503ServiceUnavailable)]
    public IActionResult GetJwks()
    {
        string jwks;
        try
        {
            jwks = _keys.Jwks;
        }
        catch (Exception e) when (IsKeyFailure(e))
        {
            return KeyUnavailable();
        }

        // Short public caching: the key changes only if the admin replaces the key file.
        Response.Headers.CacheControl = "public, max-age=300";
        return Content(jwks, MediaTypeNames.Application.Json);
    }

    /// <summary>
    /// A short-lived RS256 token for the calling user. Callers without a user (API keys) are refused:
    /// plain <c>[Authorize]</c> admits API keys, so <see cref="JellyfinClaims.TokenSubject"/> (Core,
    /// where the claim names and rules are checked against Jellyfin's source and tested) decides.
    /// </summary>
    /// <returns>The token and its lifetime.</returns>
    [HttpGet("Token")]
    [Authorize]
    [Produces(MediaTypeNames.Application.Json)]
    [ProducesResponseType(StatusCodes.Status200OK)]
    [ProducesResponseType(StatusCodes.Status403Forbidden)]
    [ProducesResponseType(StatusCodes.Status503ServiceUnavailable)]
    public ActionResult<TokenResponse> GetToken()
    {
        // A bearer credential: never stored by a browser or a proxy.
        Response.Headers.CacheControl = "no-store";
        Response.Headers.Pragma = "no-cache";

        string? subject = JellyfinClaims.TokenSubject(User.Claims.Select(c => new KeyValuePair<string, string>(c.Type, c.Value)));
        if (subject is null)
        {
            return StatusCode(
                StatusCodes.Status403Forbidden,
                new ErrorResponse("forbidden", "Matinee tokens are issued to signed-in users only, not to API keys."));
        }

        string name = ClaimValue(User, ClaimTypes.Name) ?? string.Empty;
        if (name.Length > JwtIssuer.MaxNameLength)
        {
            name = name[..JwtIssuer.MaxNameLength];
        }

        int lifetime = TokenLifetime.Effective(_context.Configuration.TokenLifetimeSeconds);
        string token;
        try
        {
            token = _keys.Issuer.Issue(
                subject,
                name,
                _host.SystemId,
                DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
                lifetime);
        }
        catch (Exception e) when (IsKeyFailure(e))
        {
            return KeyUnavailable();
        }

        return new TokenResponse(token, lifetime);
    }

    /// <summary>What the client needs to know: the session server URL and room defaults.</summary>
    /// <returns>The configuration visible to users.</returns>
    [HttpGet("Config")]
    [Authorize]
    [Produces(MediaTypeNames.Application.Json)]
    [ProducesResponseType(StatusCodes.Status200OK)]
    public ActionResult<ConfigResponse> GetConfig()
    {
        var config = _context.Configuration;
        Response.Headers.CacheControl = "no-cache";
        return new ConfigResponse(
            SettingsRules.NormalizeServerUrl(config.ServerUrl) ?? string.Empty,
            _context.Version,
            SettingsRules.NormalizeControl(config.DefaultControl),
            config.DefaultWaitForAll,
            TokenLifetime.Effective(config.TokenLifetimeSeconds));
    }

    /// <summary>
    /// How the client gets into jellyfin-web on this server — Matinee's middleware, the File
    /// Transformation plugin, or nothing (<c>--nowebclient</c>) — and what the last rewrite of
    /// each file did. Administrators only (the config page shows it): the detail names plugins
    /// and versions.
    /// </summary>
    /// <returns><c>{"InjectionPath", "Detail", "LastIndexHtml", "LastConfigJson", "Version"}</c>.</returns>
    [HttpGet("Status")]
    [Authorize(Policy = Policies.RequiresElevation)]
    [Produces(MediaTypeNames.Application.Json)]
    [ProducesResponseType(StatusCodes.Status200OK)]
    public IActionResult GetStatus()
    {
        Response.Headers.CacheControl = "no-cache";
        return Content(_status.ToJson(_context.Version), MediaTypeNames.Application.Json);
    }

    private static bool IsKeyFailure(Exception e) =>
        e is InvalidDataException or IOException or UnauthorizedAccessException or CryptographicException;

    private static string? ClaimValue(ClaimsPrincipal user, string type) =>
        user.Claims.FirstOrDefault(c => c.Type.Equals(type, StringComparison.OrdinalIgnoreCase))?.Value;

    private static Dictionary<string, string> LoadClientResources()
    {
        // The allow-list: exactly the client files embedded at build time, keyed by their
        // '/'-separated path (MSBuild's RecursiveDir uses '\' on Windows).
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in typeof(MatineeController).Assembly.GetManifestResourceNames())
        {
            string normalized = name.Replace('\\', '/');
            if (normalized.StartsWith(ClientAssets.ResourcePrefix, StringComparison.Ordinal))
            {
                map[normalized] = name;
            }
        }

        return map;
    }

    private ObjectResult KeyUnavailable()
    {
        return StatusCode(
            StatusCodes.Status503ServiceUnavailable,
            new ErrorResponse("unavailable", "Matinee's signing key could not be loaded; the Jellyfin log says why."));
    }

    private IActionResult ServeClientFile(string path)
    {
        string? resourceKey = ClientAssets.ResourceNameFor(path);
        if (resourceKey is null || !ClientResources.Value.TryGetValue(resourceKey, out var resourceName))
        {
            return NotFound();
        }

        Stream? stream = typeof(MatineeController).Assembly.GetManifestResourceStream(resourceName);
        if (stream is null)
        {
            _logger.LogError("Embedded client file {Resource} is listed but cannot be opened", resourceName);
            return NotFound();
        }

        // Module URLs carry no version, so browsers revalidate every time; the entity tag (the
        // plugin version) makes that a cheap 304 until the plugin is updated. FileStreamResult
        // sets the ETag header, evaluates If-None-Match itself (lists, weak tags, "*") and
        // disposes the stream, also when it answers 304.
        Response.Headers.CacheControl = "no-cache";
        Response.Headers.XContentTypeOptions = "nosniff";
        var entityTag = new EntityTagHeaderValue("\"" + _context.FullVersion + "\"");
        return File(stream, ClientAssets.ContentTypeFor(path)!, lastModified: null, entityTag: entityTag);
    }
}
