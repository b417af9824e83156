using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Jellyfin.Plugin.Matinee.Core.Tests
{
    /// <summary>
    /// The glue (Jellyfin.Plugin.Matinee/) is built with warnings as errors, XML docs on
    /// (GenerateDocumentationFile) and nullable on, but only where the .NET SDK and Jellyfin's
    /// packages exist. These checks read its source for the two warnings that fail such builds
    /// most often and that need no compiler to find: CS1591 (a public member without an XML doc
    /// comment) and CS8618 (a non-nullable reference-type property left uninitialised).
    /// </summary>
    [TestFixture]
    public class GlueSourceTests
    {
        private static readonly Regex Declaration = new Regex(
            "^\\s*(public|protected)\\s", RegexOptions.CultureInvariant);

        // `public string Name { get; set; }` with no initializer; value types cannot trigger CS8618.
        private static readonly Regex UninitialisedReferenceProperty = new Regex(
            "^\\s*public\\s+(?!(?:bool|int|long|short|byte|double|float|decimal|Guid|DateTime|DateTimeOffset|TimeSpan)\\b)[A-Za-z_][\\w.<>,\\[\\] ]*?(?<!\\?)\\s+\\w+\\s*\\{\\s*get;\\s*(?:set|init);\\s*\\}\\s*$",
            RegexOptions.CultureInvariant);

        private static IEnumerable<string> GlueFiles() =>
            Directory.GetFiles(Path.Combine(TestFiles.RepoRoot, "jellyfin-plugin", "Jellyfin.Plugin.Matinee"), "*.cs", SearchOption.AllDirectories)
                .OrderBy(f => f, StringComparer.Ordinal);

        [Test]
        public void EveryPublicDeclaration_HasAnXmlDocComment()
        {
            var missing = new List<string>();
            foreach (var file in GlueFiles())
            {
                string[] lines = File.ReadAllLines(file);
                for (int i = 0; i < lines.Length; i++)
                {
                    if (!Declaration.IsMatch(lines[i]))
                    {
                        continue;
                    }

                    // Walk back over attributes (and the lines of a multi-line attribute) to the doc comment.
                    int j = i - 1;
                    while (j >= 0 && IsAttributeLine(lines[j]))
                    {
                        j--;
                    }

                    if (j < 0 || !lines[j].TrimStart().StartsWith("///", StringComparison.Ordinal))
                    {
                        missing.Add(Path.GetFileName(file) + ":" + (i + 1) + ": " + lines[i].Trim());
                    }
                }
            }

            CollectionAssert.IsEmpty(missing, "public members without /// docs (CS1591 under GenerateDocumentationFile):\n" + string.Join("\n", missing));
        }

        [Test]
        public void NoNonNullableReferenceProperty_IsLeftUninitialised()
        {
            var bad = new List<string>();
            foreach (var file in GlueFiles())
            {
                string[] lines = File.ReadAllLines(file);
                for (int i = 0; i < lines.Length; i++)
                {
                    if (UninitialisedReferenceProperty.IsMatch(lines[i]))
                    {
                        bad.Add(Path.GetFileName(file) + ":" + (i + 1) + ": " + lines[i].Trim());
                    }
                }
            }

            CollectionAssert.IsEmpty(bad, "CS8618 under <Nullable>enable</Nullable>: initialise these or make them nullable:\n" + string.Join("\n", bad));
        }

        [TestCase("    public string ServerUrl { get; set; }", true)]
        [TestCase("    public string[] Names { get; set; }", true)]
        [TestCase("    public List<string> Names { get; init; }", true)]
        [TestCase("    public string ServerUrl { get; set; } = string.Empty;", false)]
        [TestCase("    public string? ServerUrl { get; set; }", false)]
        [TestCase("    public int TokenLifetimeSeconds { get; set; }", false)]
        [TestCase("    public bool DefaultWaitForAll { get; set; }", false)]
        public void Control_ThePropertyRuleSeesWhatCS8618Flags(string line, bool flagged)
        {
            Assert.AreEqual(flagged, UninitialisedReferenceProperty.IsMatch(line));
        }

        [Test]
        public void Control_TheDocRuleSeesAnUndocumentedMember()
        {
            Assert.IsTrue(Declaration.IsMatch("    public void Run()"));
            Assert.IsTrue(Declaration.IsMatch("public sealed class Plugin : BasePlugin<PluginConfiguration>, IHasWebPages"));
            Assert.IsTrue(IsAttributeLine("    [HttpGet(\"Token\")]"));
            Assert.IsFalse(IsAttributeLine("    // a comment"));
        }

        private static bool IsAttributeLine(string line)
        {
            string t = line.Trim();
            return t.StartsWith("[", StringComparison.Ordinal) || (t.Length > 0 && t.EndsWith(")]", StringComparison.Ordinal) && !t.StartsWith("//", StringComparison.Ordinal));
        }
    }
}
