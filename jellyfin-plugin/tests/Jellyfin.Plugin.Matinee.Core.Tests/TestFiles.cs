using System;
using System.IO;
using System.Linq;
using System.Text;

namespace Jellyfin.Plugin.Matinee.Core.Tests
{
    /// <summary>Finds the repository's committed test data, wherever the test assembly was built.</summary>
    internal static class TestFiles
    {
        private static readonly Lazy<string> Root = new Lazy<string>(FindRoot);

        /// <summary>The repository root (holds testdata/jwt and testdata/jellyfin-web).</summary>
        public static string RepoRoot => Root.Value;

        /// <summary>
        /// The Jellyfin lines the plugin is built for: one folder each under
        /// jellyfin-plugin/targets (build.sh builds exactly these), oldest first.
        /// </summary>
        public static string[] JellyfinTargets
        {
            get
            {
                var names = Directory.GetDirectories(Path.Combine(RepoRoot, "jellyfin-plugin", "targets"))
                    .Select(Path.GetFileName)
                    .OrderBy(n => Version.Parse(n))
                    .ToArray();
                if (names.Length == 0)
                {
                    throw new InvalidOperationException("jellyfin-plugin/targets holds no Jellyfin line");
                }

                return names;
            }
        }

        public static string Read(params string[] relative) =>
            File.ReadAllText(Path.Combine(RepoRoot, Path.Combine(relative)), Encoding.UTF8);

        /// <summary>
        /// jellyfin-web's <paramref name="file"/> (index.html, config.json) as a production build of
        /// <paramref name="version"/> serves it: the repository's one copy, testdata/jellyfin-web,
        /// which the Jellyfin stand-in serves too.
        /// </summary>
        public static string Fixture(string version, string file) =>
            Read("testdata", "jellyfin-web", version, file);

        /// <summary>
        /// jellyfin-web v10.10.7's unbuilt src/index.html: no script tags at all (html-webpack-plugin
        /// adds the bundles before &lt;/head&gt; at build time).
        /// </summary>
        public static string Template10_10() =>
            Read("jellyfin-plugin", "tests", "fixtures", "10.10.7", "index.html");

        private static string FindRoot()
        {
            string env = Environment.GetEnvironmentVariable("MATINEE_REPO_ROOT");
            if (!string.IsNullOrEmpty(env))
            {
                return env;
            }

            foreach (string start in new[] { Directory.GetCurrentDirectory(), Path.GetDirectoryName(typeof(TestFiles).Assembly.Location) })
            {
                var dir = new DirectoryInfo(start);
                while (dir != null)
                {
                    if (File.Exists(Path.Combine(dir.FullName, "testdata", "jwt", "vector.json")))
                    {
                        return dir.FullName;
                    }

                    dir = dir.Parent;
                }
            }

            throw new InvalidOperationException("repository root not found: set MATINEE_REPO_ROOT");
        }
    }
}
