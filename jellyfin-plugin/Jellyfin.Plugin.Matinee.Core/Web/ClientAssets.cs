using System;
using System.Collections.Generic;

namespace Jellyfin.Plugin.Matinee.Core.Web
{
    /// <summary>
    /// Naming rules for the client files the plugin serves at <c>GET /Matinee/Client/{**path}</c>.
    /// They are embedded in the plugin assembly under <see cref="ResourcePrefix"/> followed by their
    /// path relative to client-js/src, with '/' separators; the served set is exactly the embedded
    /// set, so a request can never reach the file system.
    /// </summary>
    public static class ClientAssets
    {
        /// <summary>Prefix of the embedded resource names (the csproj sets LogicalName to it).</summary>
        public const string ResourcePrefix = "matinee-client/";

        /// <summary>The loader: the classic script injected into index.html.</summary>
        public const string LoaderPath = "loader.js";

        /// <summary>Longest request path considered.</summary>
        public const int MaxPathLength = 200;

        private static readonly Dictionary<string, string> Types = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            { ".js", "text/javascript; charset=utf-8" },
            { ".mjs", "text/javascript; charset=utf-8" },
            { ".css", "text/css; charset=utf-8" },
            { ".json", "application/json; charset=utf-8" },
            { ".html", "text/html; charset=utf-8" },
            { ".svg", "image/svg+xml" },
            { ".png", "image/png" },
        };

        /// <summary>The Content-Type for a served file, or null for an extension we never serve.</summary>
        public static string ContentTypeFor(string path)
        {
            if (path == null)
            {
                return null;
            }

            int dot = path.LastIndexOf('.');
            int slash = path.LastIndexOf('/');
            if (dot <= slash + 1)
            {
                return null;
            }

            string type;
            return Types.TryGetValue(path.Substring(dot), out type) ? type : null;
        }

        /// <summary>
        /// Maps a request path (relative, '/'-separated, e.g. <c>core/timesync.js</c>) to its
        /// resource name, or null when the path is not a plain relative file path: empty
        /// segments, dot segments, backslashes, control characters, a leading slash and
        /// over-long paths are all refused before any lookup.
        /// </summary>
        public static string ResourceNameFor(string requestPath)
        {
            if (string.IsNullOrEmpty(requestPath) || requestPath.Length > MaxPathLength)
            {
                return null;
            }

            foreach (var seg in requestPath.Split('/'))
            {
                if (seg.Length == 0 || seg == "." || seg == "..")
                {
                    return null;
                }

                foreach (char c in seg)
                {
                    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                        || c == '-' || c == '_' || c == '.';
                    if (!ok)
                    {
                        return null;
                    }
                }
            }

            if (ContentTypeFor(requestPath) == null)
            {
                return null;
            }

            return ResourcePrefix + requestPath;
        }
    }
}
