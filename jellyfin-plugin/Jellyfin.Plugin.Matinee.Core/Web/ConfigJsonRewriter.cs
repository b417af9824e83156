using System;
using Jellyfin.Plugin.Matinee.Core.Json;

namespace Jellyfin.Plugin.Matinee.Core.Web
{
    /// <summary>What <see cref="ConfigJsonRewriter.Rewrite"/> did.</summary>
    public enum ConfigRewriteOutcome
    {
        /// <summary>The key was appended to <c>plugins</c>.</summary>
        Added,

        /// <summary><c>plugins</c> already named the key: untouched.</summary>
        AlreadyPresent,

        /// <summary>No <c>plugins</c> array (or the root is not an object): untouched.</summary>
        NoPluginsArray,

        /// <summary>Not valid JSON: untouched.</summary>
        Invalid,

        /// <summary>Larger than <see cref="ConfigJsonRewriter.MaxDocumentLength"/>: untouched.</summary>
        TooLarge,
    }

    /// <summary>The rewritten document and what happened.</summary>
    public sealed class ConfigRewriteResult
    {
        internal ConfigRewriteResult(string json, ConfigRewriteOutcome outcome)
        {
            Json = json;
            Outcome = outcome;
        }

        /// <summary>The document to serve.</summary>
        public string Json { get; }

        /// <summary>What happened.</summary>
        public ConfigRewriteOutcome Outcome { get; }
    }

    /// <summary>
    /// Appends the client's window key to the top-level <c>plugins</c> array of jellyfin-web's
    /// <c>config.json</c>. jellyfin-web's plugin manager treats a string that names a property
    /// of <c>window</c> as "call it and construct the class it returns, passing playbackManager,
    /// events, ServerConnections…" (src/components/pluginManager.js, <c>loadPlugin</c>, in 10.10
    /// and 10.11). Only the array is touched, by splicing text in, so every other byte of the
    /// document — formatting and fields we do not know — stays as it was.
    /// </summary>
    public static class ConfigJsonRewriter
    {
        /// <summary>The key the injected loader defines on <c>window</c>.</summary>
        public const string DefaultPluginKey = "MatineePlugin";

        /// <summary>Largest document rewritten (jellyfin-web's is ~1 KB); larger ones pass untouched.</summary>
        public const int MaxDocumentLength = 1024 * 1024;

        /// <summary>
        /// Returns <paramref name="json"/> with <paramref name="pluginKey"/> appended to
        /// <c>plugins</c>. When the array is missing the document is left alone on purpose:
        /// jellyfin-web then falls back to its built-in default list
        /// (src/scripts/settings/webSettings.js, <c>getPlugins</c>), and a list holding only our
        /// key would replace that and lose every player.
        /// </summary>
        public static ConfigRewriteResult Rewrite(string json, string pluginKey = DefaultPluginKey)
        {
            if (json == null)
            {
                throw new ArgumentNullException(nameof(json));
            }

            if (string.IsNullOrEmpty(pluginKey))
            {
                throw new ArgumentException("plugin key must not be empty", nameof(pluginKey));
            }

            if (json.Length > MaxDocumentLength)
            {
                return new ConfigRewriteResult(json, ConfigRewriteOutcome.TooLarge);
            }

            JsonValue root;
            try
            {
                root = JsonReader.Parse(json);
            }
            catch (JsonParseException)
            {
                return new ConfigRewriteResult(json, ConfigRewriteOutcome.Invalid);
            }

            var plugins = root.Kind == JsonKind.Object ? root.Get("plugins") : null;
            if (plugins == null || plugins.Kind != JsonKind.Array)
            {
                return new ConfigRewriteResult(json, ConfigRewriteOutcome.NoPluginsArray);
            }

            foreach (var item in plugins.Items)
            {
                if (item.Kind == JsonKind.String && string.Equals(item.Text, pluginKey, StringComparison.Ordinal))
                {
                    return new ConfigRewriteResult(json, ConfigRewriteOutcome.AlreadyPresent);
                }
            }

            string quoted = JsonText.Quote(pluginKey);
            string result;
            if (plugins.Items.Count == 0)
            {
                // "[]" or "[  ]": put the key right after '['.
                result = json.Substring(0, plugins.Start + 1) + quoted + json.Substring(plugins.Start + 1);
            }
            else
            {
                // Copy the whitespace that separates the last two items (or the first item from
                // '['), so a pretty-printed list stays pretty: ",\n    \"MatineePlugin\"".
                var lastItem = plugins.Items[plugins.Items.Count - 1];
                int prevEnd = plugins.Items.Count >= 2 ? plugins.Items[plugins.Items.Count - 2].End : plugins.Start;
                string gap = LeadingWhitespace(json, prevEnd, lastItem.Start);
                result = json.Substring(0, lastItem.End) + "," + gap + quoted + json.Substring(lastItem.End);
            }

            return new ConfigRewriteResult(result, ConfigRewriteOutcome.Added);
        }

        private static string LeadingWhitespace(string json, int from, int to)
        {
            // Between the previous item's end (or the '[') and the last item's start there is
            // whitespace, one ',' (or the '[' itself) and more whitespace; keep the part after it.
            int i = from;
            while (i < to && IsWs(json[i]))
            {
                i++;
            }

            if (i < to && (json[i] == ',' || json[i] == '['))
            {
                i++;
            }

            int start = i;
            while (i < to && IsWs(json[i]))
            {
                i++;
            }

            return json.Substring(start, i - start);
        }

        private static bool IsWs(char c) => c == ' ' || c == '\t' || c == '\n' || c == '\r';
    }
}
