using System;
using System.Collections.Generic;
using Jellyfin.Plugin.Matinee.Configuration;
using Jellyfin.Plugin.Matinee.Core.Settings;
using MediaBrowser.Common.Configuration;
using MediaBrowser.Common.Plugins;
using MediaBrowser.Model.Plugins;
using MediaBrowser.Model.Serialization;

namespace Jellyfin.Plugin.Matinee;

/// <summary>
/// The Matinee plugin: serves the watch-party client, injects it into jellyfin-web and issues
/// short-lived tokens for the session server.
/// </summary>
/// <remarks>
/// Checked against MediaBrowser.Common/Plugins/BasePluginOfT.cs (v10.10.7, v10.11.11, v12.0-rc5): the
/// constructor takes <see cref="IApplicationPaths"/> and <see cref="IXmlSerializer"/>;
/// <see cref="BasePlugin.DataFolderPath"/> is <c>{PluginsPath}/Jellyfin.Plugin.Matinee</c>, a
/// folder outside the versioned install folder, so the signing key survives plugin updates.
/// No static <c>Instance</c>: services reach the plugin through <see cref="MatineeContext"/>.
/// </remarks>
public sealed class Plugin : BasePlugin<PluginConfiguration>, IHasWebPages
{
    /// <summary>The plugin's id; also the <c>guid</c> in build.yaml and the repository manifest.</summary>
    public const string IdString = "4bcd6a6f-d0e4-4124-8b2e-39ba28d71063";

    /// <summary>Name of the configuration page (Dashboard → Plugins → Matinee).</summary>
    public const string ConfigPageName = "Matinee";

    /// <summary>Name of the config page's ES module, loaded by the page's <c>data-controller</c>.</summary>
    public const string ConfigScriptName = "matineeconfigjs";

    /// <summary>
    /// Initializes a new instance of the <see cref="Plugin"/> class.
    /// </summary>
    /// <param name="applicationPaths">Jellyfin's application paths.</param>
    /// <param name="xmlSerializer">Jellyfin's XML serializer (plugin configuration storage).</param>
    public Plugin(IApplicationPaths applicationPaths, IXmlSerializer xmlSerializer)
        : base(applicationPaths, xmlSerializer)
    {
    }

    /// <inheritdoc />
    public override string Name => "Matinee";

    /// <inheritdoc />
    public override Guid Id => Guid.Parse(IdString);

    /// <inheritdoc />
    public override string Description => "Synchronized watch parties: a Watch party button in the player, rooms on a Matinee session server.";

    /// <summary>
    /// Validates and normalises settings before Jellyfin saves them. Bad input throws
    /// <see cref="ArgumentException"/> before <c>base.UpdateConfiguration</c> runs, so nothing is
    /// saved; Jellyfin.Api/Middleware/ExceptionMiddleware.cs answers it with HTTP 400 and logs the
    /// message (the body says only "Error processing request." outside a Development host,
    /// which is why the config page checks the same rules before it submits).
    /// </summary>
    /// <param name="configuration">The submitted configuration.</param>
    public override void UpdateConfiguration(BasePluginConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (configuration is not PluginConfiguration config)
        {
            throw new ArgumentException("Not a Matinee configuration.", nameof(configuration));
        }

        string? problem = SettingsRules.Validate(config.ServerUrl, config.TokenLifetimeSeconds, config.DefaultControl);
        if (problem is not null)
        {
            throw new ArgumentException(problem, nameof(configuration));
        }

        config.ServerUrl = SettingsRules.NormalizeServerUrl(config.ServerUrl) ?? string.Empty;
        config.DefaultControl = SettingsRules.NormalizeControl(config.DefaultControl);
        base.UpdateConfiguration(config);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Served by Jellyfin.Api/Controllers/DashboardController.cs (<c>GET web/ConfigurationPage?name=…</c>),
    /// which looks the page up by <see cref="PluginPageInfo.Name"/> and streams the embedded resource.
    /// The page's <c>data-controller="__plugin/matineeconfigjs"</c> makes jellyfin-web import the
    /// second entry as an ES module, as jellyfin-plugin-opensubtitles does.
    /// The HTML page must stay first: 10.11's React dashboard links a plugin's Settings button to
    /// the first of its pages unless one has <c>EnableInMainMenu</c>
    /// (jellyfin-web src/apps/dashboard/features/plugins/api/configurationPage.ts, v10.11.11), and
    /// both 10.10.7 and 10.11.11 then load it as a legacy page: the route <c>configurationpage</c>
    /// renders ServerContentPage, which fetches the HTML; viewContainer.js requires
    /// <c>data-role="page"</c>, imports <c>configurationpage?name=matineeconfigjs</c> and
    /// viewManager.js calls <c>new module.default(view, params)</c> before dispatching
    /// <c>viewshow</c> — hence a plain (constructible) function as the default export.
    /// tests/browser/config-page.mjs drives the page through exactly that contract.
    /// </remarks>
    public IEnumerable<PluginPageInfo> GetPages()
    {
        return
        [
            new PluginPageInfo
            {
                Name = ConfigPageName,
                EmbeddedResourcePath = GetType().Namespace + ".Configuration.configPage.html",
            },
            new PluginPageInfo
            {
                Name = ConfigScriptName,
                EmbeddedResourcePath = GetType().Namespace + ".Configuration.configPage.js",
            },
        ];
    }
}
