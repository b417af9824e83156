using System;
using System.IO;
using Jellyfin.Plugin.Matinee.Core.Tokens;
using Microsoft.Extensions.Logging;

namespace Jellyfin.Plugin.Matinee.Tokens;

/// <summary>
/// Owns the plugin's RSA signing key: created on first use in the plugin's data folder
/// (owner-only permissions on Unix), then kept for the life of the process.
/// </summary>
public sealed class SigningKeyService : IDisposable
{
    private readonly MatineeContext _context;
    private readonly ILogger<SigningKeyService> _logger;
    private readonly object _lock = new();
    private JwtIssuer? _issuer;
    private string? _jwks;

    /// <summary>
    /// Initializes a new instance of the <see cref="SigningKeyService"/> class.
    /// </summary>
    /// <param name="context">The plugin context (data folder).</param>
    /// <param name="logger">The logger.</param>
    public SigningKeyService(MatineeContext context, ILogger<SigningKeyService> logger)
    {
        _context = context;
        _logger = logger;
    }

    /// <summary>Gets the token issuer, loading or creating the key on first use.</summary>
    /// <exception cref="InvalidDataException">The key file exists but is unusable (logged; retried on the next call).</exception>
    public JwtIssuer Issuer
    {
        get
        {
            EnsureLoaded();
            return _issuer!;
        }
    }

    /// <summary>Gets the JWKS document with the public key.</summary>
    public string Jwks
    {
        get
        {
            EnsureLoaded();
            return _jwks!;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_lock)
        {
            _issuer?.Dispose();
            _issuer = null;
        }
    }

    private void EnsureLoaded()
    {
        lock (_lock)
        {
            if (_issuer is not null)
            {
                return;
            }

            // NOTE(unverified): PluginManager.DiscoverPlugins (v10.10.7, v10.11.11) reads every
            // folder under plugins/ as a plugin, making up a manifest when meta.json is missing,
            // so this data folder may show in Dashboard -> Plugins as an extra entry named
            // "Jellyfin.Plugin.Matinee" with no DLLs. Check on a real server; if it does, keep
            // the key under IApplicationPaths.DataPath instead (and update docs/install.md).
            string folder = _context.Plugin.DataFolderPath;
            try
            {
                var key = RsaKeyStore.LoadOrCreate(folder, RestrictToOwner);
                var issuer = new JwtIssuer(key);
                _jwks = RsaJwk.JwksDocument(issuer.PublicKey);
                _issuer = issuer;
                _logger.LogInformation("Matinee signing key ready (kid {Kid}) in {Folder}", issuer.Kid, folder);
            }
            catch (Exception e)
            {
                _logger.LogError(e, "Matinee cannot load or create its signing key in {Folder}", folder);
                throw;
            }
        }
    }

    private static void RestrictToOwner(string path)
    {
        // The key file holds the private key: readable by Jellyfin's user only.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }
}
