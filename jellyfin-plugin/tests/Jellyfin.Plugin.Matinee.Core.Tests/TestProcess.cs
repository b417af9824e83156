using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Jellyfin.Plugin.Matinee.Core.Tests
{
    /// <summary>Runs a program the tests need (python3, sh, node) and collects what it printed.</summary>
    internal static class TestProcess
    {
        /// <summary>
        /// Runs <paramref name="file"/> with <paramref name="args"/>, each passed as one argument,
        /// and waits for it to exit.
        /// </summary>
        /// <returns>The exit code, and stdout followed by stderr.</returns>
        public static KeyValuePair<int, string> Run(string file, params string[] args)
        {
            string stdout, stderr;
            int code = Start(file, args, null, -1, out stdout, out stderr);
            return new KeyValuePair<int, string>(code, stdout + stderr);
        }

        /// <summary>
        /// Runs a Node script of the repository's (from the repository root, so it finds
        /// node_modules) that must exit 0 within two minutes; fails the test otherwise.
        /// </summary>
        /// <returns>What the script printed on stdout.</returns>
        public static string Node(string script, params string[] args)
        {
            string stdout, stderr;
            int code = Start("node", new[] { script }.Concat(args).ToArray(), TestFiles.RepoRoot, 120000, out stdout, out stderr);
            Assert.AreEqual(0, code, stdout + stderr);
            return stdout;
        }

        /// <summary>
        /// Ignores the calling test (with the reason) where the browser tests cannot run: they
        /// need the repository's npm packages (playwright-core) and Debian's chromium.
        /// </summary>
        public static void RequireBrowser()
        {
            if (!Directory.Exists(Path.Combine(TestFiles.RepoRoot, "node_modules", "playwright-core")))
            {
                Assert.Ignore("needs `npm ci` (playwright-core) at the repository root");
            }

            if (!File.Exists("/usr/bin/chromium") && !File.Exists("/usr/bin/chromium-browser")
                && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CHROMIUM_PATH")))
            {
                Assert.Ignore("needs Debian's chromium (or CHROMIUM_PATH)");
            }
        }

        /// <returns>The exit code; a run that outlives <paramref name="timeoutMs"/> (-1: no limit) fails the test.</returns>
        private static int Start(string file, string[] args, string workingDirectory, int timeoutMs, out string stdout, out string stderr)
        {
            var psi = new ProcessStartInfo(file, string.Join(" ", args.Select(Quote)))
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = workingDirectory ?? string.Empty,
            };
            using (var p = Process.Start(psi))
            {
                // Both pipes drain at once: a child filling stderr while we wait on stdout would hang.
                var err = p.StandardError.ReadToEndAsync();
                stdout = p.StandardOutput.ReadToEnd();
                Assert.IsTrue(p.WaitForExit(timeoutMs), file + " run timed out");
                stderr = err.Result;
                return p.ExitCode;
            }
        }

        /// <summary>
        /// One argument as ProcessStartInfo.Arguments splits it. The two runtimes split differently
        /// (and netstandard2.0 has no ArgumentList): Mono (run-mono.sh) follows shell quoting,
        /// where inside double quotes a backslash escapes \ " $ and `; .NET (dotnet test) follows
        /// the MSVC rules, where backslashes are literal unless a double quote follows them.
        /// </summary>
        private static string Quote(string arg)
        {
            if (Regex.IsMatch(arg, "^[A-Za-z0-9_./:=+-]+$"))
            {
                return arg;
            }

            if (Type.GetType("Mono.Runtime") != null)
            {
                return "\"" + arg.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("$", "\\$").Replace("`", "\\`") + "\"";
            }

            var quoted = new StringBuilder("\"");
            int backslashes = 0;
            foreach (char c in arg)
            {
                if (c == '\\')
                {
                    backslashes++;
                    continue;
                }

                // Backslashes before a quote are doubled and the quote escaped; elsewhere they stand.
                quoted.Append('\\', c == '"' ? (backslashes * 2) + 1 : backslashes).Append(c);
                backslashes = 0;
            }

            return quoted.Append('\\', backslashes * 2).Append('"').ToString();
        }
    }
}
