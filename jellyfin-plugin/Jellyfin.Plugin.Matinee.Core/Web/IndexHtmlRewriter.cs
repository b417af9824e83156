using System;
using System.Collections.Generic;
using System.Text;
using System.Text.RegularExpressions;

namespace Jellyfin.Plugin.Matinee.Core.Web
{
    /// <summary>What <see cref="IndexHtmlRewriter.Rewrite"/> did.</summary>
    public enum IndexRewriteOutcome
    {
        /// <summary>Our tag was inserted.</summary>
        Inserted,

        /// <summary>The document already had our tag; it now has exactly one, with the current version.</summary>
        Replaced,

        /// <summary>No <c>&lt;script&gt;</c> and no <c>&lt;/head&gt;</c>: the document is returned untouched.</summary>
        NoAnchor,

        /// <summary>The document is larger than <see cref="IndexHtmlRewriter.MaxDocumentLength"/>: untouched.</summary>
        TooLarge,
    }

    /// <summary>The rewritten document and what happened.</summary>
    public sealed class IndexRewriteResult
    {
        internal IndexRewriteResult(string html, IndexRewriteOutcome outcome)
        {
            Html = html;
            Outcome = outcome;
        }

        /// <summary>The document to serve.</summary>
        public string Html { get; }

        /// <summary>What happened.</summary>
        public IndexRewriteOutcome Outcome { get; }

        /// <summary>True when <see cref="Html"/> carries our tag.</summary>
        public bool Injected => Outcome == IndexRewriteOutcome.Inserted || Outcome == IndexRewriteOutcome.Replaced;
    }

    /// <summary>
    /// Puts one classic <c>&lt;script src="{base}/Matinee/ClientScript?v={version}"&gt;</c> into
    /// jellyfin-web's <c>index.html</c>.
    /// <para>
    /// Why a classic, non-deferred script placed before the first <c>&lt;script&gt;</c>: jellyfin-web's
    /// bundles are <c>defer</c> scripts (html-webpack-plugin's default), and deferred scripts run
    /// only after parsing ends, while a plain parser-inserted script runs where it stands. So ours
    /// has defined <c>window.MatineePlugin</c> before jellyfin-web's plugin manager reads
    /// <c>config.json</c>'s <c>plugins</c> list. Standing before the first script also keeps that
    /// true should a future build drop <c>defer</c>. With no script at all (the unbuilt template)
    /// the tag goes before <c>&lt;/head&gt;</c>, where the build would put the bundles.
    /// </para>
    /// </summary>
    public static class IndexHtmlRewriter
    {
        /// <summary>Largest document rewritten (jellyfin-web's is ~5–10 KB); larger ones pass untouched.</summary>
        public const int MaxDocumentLength = 2 * 1024 * 1024;

        /// <summary>The attribute that marks our tag, so a rewrite can find and replace it.</summary>
        public const string MarkerAttribute = "data-matinee";

        private static readonly TimeSpan RegexTimeout = TimeSpan.FromSeconds(2);

        private static readonly Regex ScriptOpenRx = new Regex(@"<script(?=[\s>/])", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, RegexTimeout);

        private static readonly Regex HeadCloseRx = new Regex(@"</head\s*>", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, RegexTimeout);

        private static readonly Regex OurTagRx = new Regex(
            @"<script\b[^>]*\s" + MarkerAttribute + @"\b[^>]*>\s*</script>",
            RegexOptions.IgnoreCase | RegexOptions.CultureInvariant,
            RegexTimeout);

        private static readonly Regex VersionRx = new Regex(@"^[0-9A-Za-z.+\-]{1,64}$", RegexOptions.CultureInvariant, RegexTimeout);

        /// <summary>
        /// The exact tag for <paramref name="baseUrl"/> (see <see cref="WebPaths.IsSafeBaseUrl"/>)
        /// and <paramref name="version"/> (the cache-buster; digits, letters, <c>.+-</c>).
        /// </summary>
        /// <exception cref="ArgumentException">Unsafe base URL or version.</exception>
        public static string ScriptTag(string baseUrl, string version)
        {
            if (!WebPaths.IsSafeBaseUrl(baseUrl))
            {
                throw new ArgumentException("base URL must be empty or a plain /path", nameof(baseUrl));
            }

            if (version == null || !VersionRx.IsMatch(version))
            {
                throw new ArgumentException("version must be 1-64 characters of [0-9A-Za-z.+-]", nameof(version));
            }

            // Both values are already restricted to characters that need no HTML escaping;
            // '+' is percent-encoded so the query string reads back as the same version.
            return "<script src=\"" + baseUrl + "/Matinee/ClientScript?v=" + version.Replace("+", "%2B")
                + "\" " + MarkerAttribute + "=\"" + version + "\"></script>";
        }

        /// <summary>
        /// Returns <paramref name="html"/> with exactly one Matinee tag, placed before the first
        /// <c>&lt;script</c> outside comments, else before <c>&lt;/head&gt;</c>; with neither, the
        /// document comes back untouched. Idempotent: rewriting the result again gives the same text.
        /// </summary>
        /// <exception cref="ArgumentException">Unsafe base URL or version (see <see cref="ScriptTag"/>).</exception>
        public static IndexRewriteResult Rewrite(string html, string baseUrl, string version)
        {
            if (html == null)
            {
                throw new ArgumentNullException(nameof(html));
            }

            string tag = ScriptTag(baseUrl, version);
            if (html.Length > MaxDocumentLength)
            {
                return new IndexRewriteResult(html, IndexRewriteOutcome.TooLarge);
            }

            var comments = CommentRanges(html);
            bool hadOurs = false;
            var stripped = new StringBuilder(html.Length);
            int last = 0;
            foreach (Match m in OurTagRx.Matches(html))
            {
                if (InRanges(comments, m.Index))
                {
                    continue;
                }

                hadOurs = true;
                stripped.Append(html, last, m.Index - last);
                last = m.Index + m.Length;
            }

            string doc = html;
            if (hadOurs)
            {
                stripped.Append(html, last, html.Length - last);
                doc = stripped.ToString();
                comments = CommentRanges(doc);
            }

            int anchor = FirstOutside(ScriptOpenRx, doc, comments);
            if (anchor < 0)
            {
                anchor = FirstOutside(HeadCloseRx, doc, comments);
            }

            if (anchor < 0)
            {
                // Without an anchor we cannot know where a script would run in time; serving the
                // page as it is keeps Jellyfin working (the client then simply is not loaded).
                return new IndexRewriteResult(html, IndexRewriteOutcome.NoAnchor);
            }

            string result = doc.Substring(0, anchor) + tag + doc.Substring(anchor);
            return new IndexRewriteResult(result, hadOurs ? IndexRewriteOutcome.Replaced : IndexRewriteOutcome.Inserted);
        }

        private static List<KeyValuePair<int, int>> CommentRanges(string html)
        {
            var ranges = new List<KeyValuePair<int, int>>();
            int i = 0;
            while (true)
            {
                int open = html.IndexOf("<!--", i, StringComparison.Ordinal);
                if (open < 0)
                {
                    break;
                }

                int close = html.IndexOf("-->", open + 4, StringComparison.Ordinal);
                int end = close < 0 ? html.Length : close + 3;
                ranges.Add(new KeyValuePair<int, int>(open, end));
                i = end;
            }

            return ranges;
        }

        private static bool InRanges(List<KeyValuePair<int, int>> ranges, int index)
        {
            foreach (var r in ranges)
            {
                if (index >= r.Key && index < r.Value)
                {
                    return true;
                }
            }

            return false;
        }

        private static int FirstOutside(Regex rx, string doc, List<KeyValuePair<int, int>> comments)
        {
            foreach (Match m in rx.Matches(doc))
            {
                if (!InRanges(comments, m.Index))
                {
                    return m.Index;
                }
            }

            return -1;
        }
    }
}
