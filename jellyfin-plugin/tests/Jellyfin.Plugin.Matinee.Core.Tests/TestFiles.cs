using System;
using System.IO;
using System.Text;

namespace Jellyfin.Plugin.Matinee.Core.Tests
{
    /// <summary>Finds the repository's committed test data, wherever the test assembly was built.</summary>
    internal static class TestFiles
    {
        private static readonly Lazy<string> Root = new Lazy<string>(FindRoot);

        /// <summary>The repository root (holds testdata/jwt and jellyfin-plugin/tests/fixtures).</summary>
        public static string RepoRoot => Root.Value;

        public static string Read(params string[] relative) =>
            File.ReadAllText(Path.Combine(RepoRoot, Path.Combine(relative)), Encoding.UTF8);

        public static string Fixture(string version, string file) =>
            Read("jellyfin-plugin", "tests", "fixtures", version, file);

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
