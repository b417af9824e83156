using System;
using System.Linq;
using System.Runtime.Loader;
using System.Threading;
using System.Threading.Tasks;
using Jellyfin.Plugin.Matinee.Core.Web;
using MediaBrowser.Common.Net;
using MediaBrowser.Controller.Configuration;
using MediaBrowser.Controller.Extensions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Jellyfin.Plugin.Matinee.Web;

/// <summary>
/// Decides, once at startup, how the client gets into jellyfin-web: through the File
/// Transformation plugin when it is installed (registered by reflection, no compile-time
/// reference), else through <see cref="WebRewriteMiddleware"/>; not at all when Jellyfin does not
/// host the web client. The outcome is in <see cref="InjectionStatus"/> for the config page.
/// </summary>
/// <remarks>
/// Hosted services start in <c>host.StartAsync()</c>, which Jellyfin.Server/Program.cs calls after
/// <c>appHost.InitializeServices</c> has created every plugin (v10.10.7 lines 159-164,
/// v10.11.11 lines 209-217, v12.0-rc5 lines 214-225; <c>PluginManager.CreatePlugins</c> in ApplicationHost.InitializeServices),
/// so File Transformation's own plugin instance, which its <c>RegisterTransformation</c> needs,
/// exists by then — and no request has been served yet.
/// </remarks>
public sealed class InjectionStartup : IHostedService
{
    private readonly InjectionStatus _status;
    private readonly MatineeContext _context;
    private readonly IServerConfigurationManager _serverConfiguration;
    private readonly IConfiguration _appConfiguration;
    private readonly ILogger<InjectionStartup> _logger;

    /// <summary>
    /// Initializes a new instance of the <see cref="InjectionStartup"/> class.
    /// </summary>
    /// <param name="status">Where the decision is kept.</param>
    /// <param name="context">The plugin context (version for the cache-buster).</param>
    /// <param name="serverConfiguration">Jellyfin's configuration (the BaseUrl).</param>
    /// <param name="appConfiguration">The host configuration that <c>Startup.Configure</c> reads <c>hostwebclient</c> from.</param>
    /// <param name="logger">The logger.</param>
    public InjectionStartup(
        InjectionStatus status,
        MatineeContext context,
        IServerConfigurationManager serverConfiguration,
        IConfiguration appConfiguration,
        ILogger<InjectionStartup> logger)
    {
        _status = status;
        _context = context;
        _serverConfiguration = serverConfiguration;
        _appConfiguration = appConfiguration;
        _logger = logger;
    }

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        // MediaBrowser.Controller/Extensions/ConfigurationExtensions.cs HostWebClient() (both tags):
        // false with --nowebclient (StartupOptions.ConvertToConfig adds hostwebclient=false),
        // and then Startup.Configure registers no /web static files at all.
        bool hosted = _appConfiguration.HostWebClient();
        FileTransformationRegistration? fileTransformation = null;
        if (hosted)
        {
            // Plugins live in their own load contexts: look through all of them. Left lazy so
            // that TryRegister, which never throws, also catches a failure while enumerating.
            fileTransformation = FileTransformationBridge.TryRegister(
                AssemblyLoadContext.All.SelectMany(c => c.Assemblies),
                RewriteForFileTransformation);
        }

        _status.Decide(hosted, fileTransformation);
        _logger.LogInformation(
            "Matinee injection path: {Path}. {Detail}",
            InjectionStatus.WireName(_status.Path),
            fileTransformation?.Detail ?? "Jellyfin does not host the web client.");
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private string? RewriteForFileTransformation(WebFile file, string text)
    {
        // File Transformation hands us the file, not the request, so the BaseUrl comes from
        // Jellyfin's network settings (MediaBrowser.Common/Net/NetworkConfiguration.cs BaseUrl:
        // "" or "/path", normalised by its setter; a change needs a restart anyway).
        string baseUrl = _serverConfiguration.GetNetworkConfiguration().BaseUrl;
        if (!WebPaths.IsSafeBaseUrl(baseUrl))
        {
            _logger.LogWarning("Matinee cannot inject: the BaseUrl {BaseUrl} is not one it can put in a script address", baseUrl);
            return null;
        }

        var result = WebFileRewrite.Apply(file, text, baseUrl, _context.FullVersion);
        if (result.Problem is not null)
        {
            _logger.LogWarning("Matinee could not inject through File Transformation: {Problem}", result.Problem);
        }

        _status.Record(file, result.Text is null ? "Unchanged" : "Rewritten", DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        return result.Text;
    }
}
