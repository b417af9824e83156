using System;

namespace Jellyfin.Plugin.Matinee.Core.Web
{
    /// <summary>Which jellyfin-web file a request path names, as far as the rewrites care.</summary>
    public enum WebFile
    {
        /// <summary>Not a file we rewrite.</summary>
        None,

        /// <summary><c>{base}/web/</c> or <c>{base}/web/index.html</c>.</summary>
        Index,

        /// <summary><c>{base}/web/config.json</c>.</summary>
        Config,
    }

    /// <summary>The outcome of <see cref="WebPaths.Classify"/>.</summary>
    public struct WebRequestMatch
    {
        /// <summary>Creates a match.</summary>
        public WebRequestMatch(WebFile file, string baseUrl)
        {
            File = file;
            BaseUrl = baseUrl;
        }

        /// <summary>Which file.</summary>
        public WebFile File { get; }

        /// <summary>
        /// The path prefix in front of <c>/web/</c> as the browser sees it: <c>""</c> at the root,
        /// <c>"/jellyfin"</c> when Jellyfin's BaseUrl is <c>/jellyfin</c>. Never ends with a slash.
        /// </summary>
        public string BaseUrl { get; }
    }

    /// <summary>
    /// Recognises jellyfin-web's <c>index.html</c> and <c>config.json</c> requests and works out
    /// the base URL from the path itself. The middleware runs before Jellyfin's own
    /// <c>app.Map(BaseUrl, …)</c> (an <c>IStartupFilter</c> wraps the whole pipeline, see
    /// Jellyfin.Server/Startup.cs <c>Configure</c>), so the path it sees still carries the BaseUrl.
    /// </summary>
    public static class WebPaths
    {
        /// <summary>Longest base URL accepted; Jellyfin's are short path prefixes.</summary>
        public const int MaxBaseUrlLength = 256;

        /// <summary>
        /// Classifies <paramref name="pathBase"/> + <paramref name="path"/> (ASP.NET's PathBase and
        /// Path, both decoded, either may be empty). Matching ignores case because ASP.NET's
        /// <c>RequestPath = "/web"</c> and <c>app.Map(BaseUrl)</c> do; the rewrite only applies
        /// to a 200 response anyway, so a name the file system does not serve changes nothing.
        /// A base URL with characters outside a plain path segment set yields
        /// <see cref="WebFile.None"/>: it is written into HTML, and a Jellyfin BaseUrl that
        /// needs escaping is not something we try to support.
        /// </summary>
        public static WebRequestMatch Classify(string pathBase, string path)
        {
            string full = (pathBase ?? string.Empty) + (path ?? string.Empty);
            WebFile file;
            int cut;
            if (full.EndsWith("/web/", StringComparison.OrdinalIgnoreCase))
            {
                file = WebFile.Index;
                cut = full.Length - "/web/".Length;
            }
            else if (full.EndsWith("/web/index.html", StringComparison.OrdinalIgnoreCase))
            {
                file = WebFile.Index;
                cut = full.Length - "/web/index.html".Length;
            }
            else if (full.EndsWith("/web/config.json", StringComparison.OrdinalIgnoreCase))
            {
                file = WebFile.Config;
                cut = full.Length - "/web/config.json".Length;
            }
            else
            {
                return new WebRequestMatch(WebFile.None, string.Empty);
            }

            string baseUrl = full.Substring(0, cut);
            if (!IsSafeBaseUrl(baseUrl))
            {
                return new WebRequestMatch(WebFile.None, string.Empty);
            }

            return new WebRequestMatch(file, baseUrl);
        }

        /// <summary>
        /// True for <c>""</c> or <c>/seg(/seg)*</c> where segments hold only unreserved URL
        /// characters; false for anything that would need escaping in HTML or a URL, for empty
        /// segments (<c>//</c>) and for dot segments.
        /// </summary>
        public static bool IsSafeBaseUrl(string baseUrl)
        {
            if (baseUrl == null || baseUrl.Length > MaxBaseUrlLength)
            {
                return false;
            }

            if (baseUrl.Length == 0)
            {
                return true;
            }

            if (baseUrl[0] != '/')
            {
                return false;
            }

            var segments = baseUrl.Substring(1).Split('/');
            foreach (var seg in segments)
            {
                if (seg.Length == 0 || seg == "." || seg == "..")
                {
                    return false;
                }

                foreach (char c in seg)
                {
                    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                        || c == '-' || c == '.' || c == '_' || c == '~';
                    if (!ok)
                    {
                        return false;
                    }
                }
            }

            return true;
        }
    }
}
