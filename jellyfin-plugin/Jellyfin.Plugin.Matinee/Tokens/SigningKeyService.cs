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

            // DataFolderPath is {PluginsPath}/Jellyfin.Plugin.Matinee (MediaBrowser.Common/Plugins/
            // BasePluginOfT.cs line 49 at v10.10.7, 50 at v10.11.11). PluginManager.DiscoverPlugins
            // reads every folder under plugins/ and makes up a manifest where meta.json is missing,
            // but returns only folders holding DLLs (Emby.Server.Implementations/Plugins/
            // PluginManager.cs line 816 at v10.10.7, 813 at v10.11.11, 828 at v12.0-rc5: Where(DllFiles.Count != 0);
            // TryGetPluginDlls lists *.dll), writing nothing there, so this key-only folder never
            // shows as an extra plugin. A DLL must therefore never be written into it.
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
