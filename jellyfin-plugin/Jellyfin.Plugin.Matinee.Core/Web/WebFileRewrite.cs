using System;

namespace Jellyfin.Plugin.Matinee.Core.Web
{
    /// <summary>The outcome of <see cref="WebFileRewrite.Apply"/>.</summary>
    public sealed class WebFileRewriteResult
    {
        internal WebFileRewriteResult(string text, string problem)
        {
            Text = text;
            Problem = problem;
        }

        /// <summary>The new document, or null when the original should be served as it is.</summary>
        public string Text { get; }

        /// <summary>Why nothing was injected, worth a warning in the log; null when all is well.</summary>
        public string Problem { get; }
    }

    /// <summary>
    /// The one rewrite both injection paths apply (our middleware and the File Transformation
    /// plugin's callback): <c>index.html</c> gets the loader tag, <c>config.json</c> gets the
    /// client's window key. Kept apart from either path so they cannot drift.
    /// </summary>
    public static class WebFileRewrite
    {
        /// <summary>Rewrites <paramref name="text"/> as the file <paramref name="file"/>.</summary>
        /// <param name="file">Which file the text is.</param>
        /// <param name="text">The file as jellyfin-web ships it.</param>
        /// <param name="baseUrl">Jellyfin's BaseUrl (<c>""</c> or <c>/path</c>), for the script's address.</param>
        /// <param name="version">The plugin version (cache-buster).</param>
        /// <returns>The new text (null: serve the original) and any problem to log.</returns>
        public static WebFileRewriteResult Apply(WebFile file, string text, string baseUrl, string version)
        {
            if (text == null)
            {
                throw new ArgumentNullException(nameof(text));
            }

            if (file == WebFile.Index)
            {
                var result = IndexHtmlRewriter.Rewrite(text, baseUrl ?? string.Empty, version);
                return result.Injected
                    ? new WebFileRewriteResult(result.Html, null)
                    : new WebFileRewriteResult(null, "index.html was left unchanged: " + result.Outcome);
            }

            if (file == WebFile.Config)
            {
                var config = ConfigJsonRewriter.Rewrite(text);
                if (config.Outcome == ConfigRewriteOutcome.Added)
                {
                    return new WebFileRewriteResult(config.Json, null);
                }

                return config.Outcome == ConfigRewriteOutcome.AlreadyPresent
                    ? new WebFileRewriteResult(null, null)
                    : new WebFileRewriteResult(null, "config.json was left unchanged: " + config.Outcome);
            }

            return new WebFileRewriteResult(null, null);
        }
    }
}
