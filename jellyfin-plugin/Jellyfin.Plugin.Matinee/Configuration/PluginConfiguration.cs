using MediaBrowser.Model.Plugins;

namespace Jellyfin.Plugin.Matinee.Configuration;

/// <summary>
/// The admin's settings, stored by Jellyfin as XML (MediaBrowser.Common/Plugins/BasePluginOfT.cs)
/// and edited on the plugin's config page. Only administrators can read or change plugin
/// configuration through Jellyfin's API; users get the parts they need from <c>GET /Matinee/Config</c>.
/// </summary>
public class PluginConfiguration : BasePluginConfiguration
{
    /// <summary>Gets or sets the session server's public URL, e.g. <c>https://watch.example.org</c>.</summary>
    public string ServerUrl { get; set; } = string.Empty;

    /// <summary>Gets or sets the token lifetime in seconds (clamped to 30–3600; default 300).</summary>
    public int TokenLifetimeSeconds { get; set; } = 300;

    /// <summary>Gets or sets who may control playback in a new room: <c>host</c> or <c>shared</c>.</summary>
    public string DefaultControl { get; set; } = "host";

    /// <summary>Gets or sets a value indicating whether new rooms wait for buffering members.</summary>
    public bool DefaultWaitForAll { get; set; } = true;
}
