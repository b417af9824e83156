using System;

namespace Jellyfin.Plugin.Matinee.Core.Settings
{
    /// <summary>
    /// Validation of the admin's settings, shared by the config page's server-side checks and
    /// <c>GET /Matinee/Config</c>, so a bad value never reaches a browser.
    /// </summary>
    public static class SettingsRules
    {
        /// <summary>Longest session server URL accepted.</summary>
        public const int MaxServerUrlLength = 2048;

        /// <summary>
        /// Returns the session server's public base URL in canonical form (<c>https://host[:port][/path]</c>,
        /// no trailing slash), or null when <paramref name="url"/> is empty or unusable: not absolute,
        /// not http/https/ws/wss, carrying user info (credentials must never travel in URLs), a
        /// query or a fragment. The client derives <c>wss://…/ws</c> from it.
        /// </summary>
        public static string NormalizeServerUrl(string url)
        {
            if (string.IsNullOrWhiteSpace(url))
            {
                return null;
            }

            url = url.Trim();
            if (url.Length > MaxServerUrlLength)
            {
                return null;
            }

            Uri uri;
            if (!Uri.TryCreate(url, UriKind.Absolute, out uri))
            {
                return null;
            }

            string scheme = uri.Scheme.ToLowerInvariant();
            if (scheme != "http" && scheme != "https" && scheme != "ws" && scheme != "wss")
            {
                return null;
            }

            if (!string.IsNullOrEmpty(uri.UserInfo) || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment)
                || url.IndexOf('?') >= 0 || url.IndexOf('#') >= 0 || string.IsNullOrEmpty(uri.Host))
            {
                return null;
            }

            string path = uri.AbsolutePath.TrimEnd('/');
            return scheme + "://" + uri.Authority.ToLowerInvariant() + path;
        }

        /// <summary>
        /// Checks settings as the admin submits them. Returns null when they can be saved, else one
        /// sentence saying what is wrong. An empty server URL is allowed (not configured yet).
        /// </summary>
        public static string Validate(string serverUrl, int tokenLifetimeSeconds, string control)
        {
            if (!string.IsNullOrWhiteSpace(serverUrl) && NormalizeServerUrl(serverUrl) == null)
            {
                return "The session server URL must be an absolute http(s) URL without user name, password, query or fragment.";
            }

            if (tokenLifetimeSeconds < Tokens.TokenLifetime.MinSeconds || tokenLifetimeSeconds > Tokens.TokenLifetime.MaxSeconds)
            {
                return "The token lifetime must be between " + Tokens.TokenLifetime.MinSeconds + " and " + Tokens.TokenLifetime.MaxSeconds + " seconds.";
            }

            if (!string.Equals(control, "host", StringComparison.OrdinalIgnoreCase) && !string.Equals(control, "shared", StringComparison.OrdinalIgnoreCase))
            {
                return "Room control must be \"host\" or \"shared\".";
            }

            return null;
        }

        /// <summary>The room control default: <c>"shared"</c> if so configured, else <c>"host"</c>.</summary>
        public static string NormalizeControl(string control) =>
            string.Equals(control, "shared", StringComparison.OrdinalIgnoreCase) ? "shared" : "host";
    }
}
