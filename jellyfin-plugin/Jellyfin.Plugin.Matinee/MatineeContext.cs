using System;
using System.Globalization;
using Jellyfin.Plugin.Matinee.Configuration;
using MediaBrowser.Common.Plugins;

namespace Jellyfin.Plugin.Matinee;

/// <summary>
/// Gives services the running plugin instance (its configuration, data folder and version)
/// without a static singleton: Jellyfin's plugin manager owns the instance
/// (MediaBrowser.Common/Plugins/IPluginManager.cs <c>GetPlugin(Guid)</c> → <c>LocalPlugin.Instance</c>).
/// </summary>
public sealed class MatineeContext
{
    private readonly IPluginManager _pluginManager;

    /// <summary>
    /// Initializes a new instance of the <see cref="MatineeContext"/> class.
    /// </summary>
    /// <param name="pluginManager">Jellyfin's plugin manager.</param>
    public MatineeContext(IPluginManager pluginManager)
    {
        _pluginManager = pluginManager;
    }

    /// <summary>Gets the plugin instance.</summary>
    /// <exception cref="InvalidOperationException">The plugin is not loaded (disabled or failed).</exception>
    public Plugin Plugin =>
        _pluginManager.GetPlugin(Guid.Parse(Plugin.IdString))?.Instance as Plugin
        ?? throw new InvalidOperationException("The Matinee plugin is not loaded.");

    /// <summary>Gets the current configuration.</summary>
    public PluginConfiguration Configuration => Plugin.Configuration;

    /// <summary>Gets the plugin version as <c>x.y.z.abi</c> (the cache-buster for the injected script).</summary>
    public string FullVersion => typeof(MatineeContext).Assembly.GetName().Version?.ToString() ?? "0.0.0.0";

    /// <summary>Gets the plugin version as <c>x.y.z</c>.</summary>
    public string Version
    {
        get
        {
            var v = typeof(MatineeContext).Assembly.GetName().Version;
            return v is null ? "0.0.0" : string.Create(CultureInfo.InvariantCulture, $"{v.Major}.{v.Minor}.{Math.Max(0, v.Build)}");
        }
    }
}
