using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Xml;
using Jellyfin.Plugin.Matinee.Core.Json;
using NUnit.Framework;

namespace Jellyfin.Plugin.Matinee.Core.Tests.Packaging
{
    /// <summary>
    /// The repository manifest written by packaging/manifest.py must be what Jellyfin reads:
    /// a JSON array of PackageInfo (MediaBrowser.Model/Updates/PackageInfo.cs) whose versions are
    /// VersionInfo (MediaBrowser.Model/Updates/VersionInfo.cs), with checksum = MD5 of the zip
    /// (Emby.Server.Implementations/Updates/InstallationManager.cs compares it case-insensitively).
    /// </summary>
    [TestFixture]
    public class ManifestTests
    {
        private static readonly string[] PackageInfoFields = { "guid", "name", "description", "overview", "owner", "category", "versions", "imageUrl" };
        private static readonly string[] VersionInfoFields = { "version", "changelog", "targetAbi", "sourceUrl", "checksum", "timestamp", "repositoryName", "repositoryUrl" };

        private string _dir;

        private static string Plugin(params string[] parts) => Path.Combine(TestFiles.RepoRoot, "jellyfin-plugin", Path.Combine(parts));

        [SetUp]
        public void SetUp()
        {
            _dir = Path.Combine(Path.GetTempPath(), "matinee-manifest-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(_dir);
        }

        [TearDown]
        public void TearDown() => Directory.Delete(_dir, true);

        [Test]
        public void Manifest_HasJellyfinsShape_AndChecksumsAreTheZipsMd5()
        {
            string zip10 = MakeZip("matinee_0.1.0.10.zip", "ten");
            string zip11 = MakeZip("matinee_0.1.0.11.zip", "eleven");
            string outPath = Path.Combine(_dir, "repo", "manifest.json");
            var r = Python(
                "manifest.py", "--out", outPath, "--base-url", "https://example.org/matinee/",
                "--timestamp", "2026-01-01T00:00:00Z",
                "--package", Plugin("targets", "10.10", "build.yaml") + "=" + zip10,
                "--package", Plugin("targets", "10.11", "build.yaml") + "=" + zip11);
            Assert.AreEqual(0, r.Key, r.Value);

            var root = JsonReader.Parse(File.ReadAllText(outPath));
            Assert.AreEqual(JsonKind.Array, root.Kind, "a repository is a JSON array of packages");
            Assert.AreEqual(1, root.Items.Count);
            var pkg = root.Items[0];
            foreach (var m in pkg.Members)
            {
                CollectionAssert.Contains(PackageInfoFields, m.Key, "unknown PackageInfo field");
            }

            Guid guid;
            Assert.IsTrue(Guid.TryParse(pkg.GetString("guid"), out guid));
            Assert.AreEqual(Guid.Parse("4bcd6a6f-d0e4-4124-8b2e-39ba28d71063"), guid);
            foreach (var f in new[] { "name", "description", "overview", "owner", "category" })
            {
                Assert.IsFalse(string.IsNullOrEmpty(pkg.GetString(f)), f + " is a non-empty string");
            }

            var versions = pkg.Get("versions");
            Assert.AreEqual(JsonKind.Array, versions.Kind);
            Assert.AreEqual(2, versions.Items.Count);
            foreach (var v in versions.Items)
            {
                foreach (var m in v.Members)
                {
                    CollectionAssert.Contains(VersionInfoFields, m.Key, "unknown VersionInfo field");
                    Assert.AreEqual(JsonKind.String, m.Value.Kind, m.Key + " is a string in VersionInfo");
                }

                // VersionInfo.Version's setter is System.Version.Parse; targetAbi is parsed the same way.
                Version.Parse(v.GetString("version"));
                Version.Parse(v.GetString("targetAbi"));
                Uri source;
                Assert.IsTrue(Uri.TryCreate(v.GetString("sourceUrl"), UriKind.Absolute, out source));
                Assert.AreEqual("https", source.Scheme);
                StringAssert.IsMatch("^[0-9a-f]{32}$", v.GetString("checksum"));
                DateTime.Parse(v.GetString("timestamp"), System.Globalization.CultureInfo.InvariantCulture);
            }

            // Highest first; the 10.11 build numbers higher than the 10.10 one.
            var v11 = versions.Items[0];
            var v10 = versions.Items[1];
            Assert.AreEqual("0.1.0.11", v11.GetString("version"));
            Assert.AreEqual("10.11.0.0", v11.GetString("targetAbi"));
            Assert.AreEqual("0.1.0.10", v10.GetString("version"));
            Assert.AreEqual("10.10.0.0", v10.GetString("targetAbi"));
            Assert.AreEqual("https://example.org/matinee/matinee_0.1.0.11.zip", v11.GetString("sourceUrl"));
            Assert.AreEqual(Md5(zip11), v11.GetString("checksum"));
            Assert.AreEqual(Md5(zip10), v10.GetString("checksum"));
            Assert.AreNotEqual(v10.GetString("checksum"), v11.GetString("checksum"));
        }

        // The server's version is its assembly version, always four parts
        // (Emby.Server.Implementations/ApplicationHost.cs: Assembly.GetName().Version), which is
        // why targetAbi is written as 10.11.0.0: System.Version ranks 10.11.0 below 10.11.0.0.
        [TestCase("10.10.0.0", "0.1.0.10")]
        [TestCase("10.10.7.0", "0.1.0.10")]
        [TestCase("10.11.0.0", "0.1.0.11")]
        [TestCase("10.11.11.0", "0.1.0.11")]
        [TestCase("12.0.0.0", "0.1.0.12")]
        [TestCase("12.1.0.0", "0.1.0.12")]
        [TestCase("10.9.11.0", null)]
        public void Manifest_JellyfinPicksTheRightBuild(string server, string expected)
        {
            string zip10 = MakeZip("a.zip", "ten");
            string zip11 = MakeZip("b.zip", "eleven");
            string zip12 = MakeZip("c.zip", "twelve");
            string outPath = Path.Combine(_dir, "manifest.json");
            var r = Python(
                "manifest.py", "--out", outPath, "--base-url", "https://example.org/m",
                "--package", Plugin("targets", "10.11", "build.yaml") + "=" + zip11,
                "--package", Plugin("targets", "12.0", "build.yaml") + "=" + zip12,
                "--package", Plugin("targets", "10.10", "build.yaml") + "=" + zip10);
            Assert.AreEqual(0, r.Key, r.Value);

            // InstallationManager: offer versions whose targetAbi <= the server version; install the highest.
            var serverVersion = Version.Parse(server);
            var pick = JsonReader.Parse(File.ReadAllText(outPath)).Items[0].Get("versions").Items
                .Where(v => Version.Parse(v.GetString("targetAbi")) <= serverVersion)
                .OrderByDescending(v => Version.Parse(v.GetString("version")))
                .Select(v => v.GetString("version"))
                .FirstOrDefault();
            Assert.AreEqual(expected, pick);
        }

        [Test]
        public void Manifest_KeepsPreviousVersions()
        {
            string zip = MakeZip("new.zip", "new");
            string outPath = Path.Combine(_dir, "manifest.json");
            File.WriteAllText(outPath, "[{\"guid\":\"4bcd6a6f-d0e4-4124-8b2e-39ba28d71063\",\"versions\":[{\"version\":\"0.0.9.11\",\"targetAbi\":\"10.11.0.0\",\"sourceUrl\":\"https://example.org/old.zip\",\"checksum\":\"00\",\"timestamp\":\"2025-01-01T00:00:00Z\",\"changelog\":\"old\"}]}]");
            var r = Python("manifest.py", "--out", outPath, "--base-url", "https://example.org", "--previous", outPath,
                "--package", Plugin("targets", "10.11", "build.yaml") + "=" + zip);
            Assert.AreEqual(0, r.Key, r.Value);
            var versions = JsonReader.Parse(File.ReadAllText(outPath)).Items[0].Get("versions").Items.Select(v => v.GetString("version")).ToList();
            CollectionAssert.AreEqual(new[] { "0.1.0.11", "0.0.9.11" }, versions);
        }

        [Test]
        public void Manifest_MissingZip_FailsAndWritesNothing()
        {
            string outPath = Path.Combine(_dir, "manifest.json");
            var r = Python("manifest.py", "--out", outPath, "--base-url", "https://example.org",
                "--package", Plugin("targets", "10.11", "build.yaml") + "=" + Path.Combine(_dir, "nope.zip"));
            Assert.AreEqual(2, r.Key);
            StringAssert.Contains("does not exist", r.Value);
            Assert.IsFalse(File.Exists(outPath));
        }

        [TestCase("ftp://example.org")]
        [TestCase("https://example.org/?x=1")]
        [TestCase("example.org")]
        public void Manifest_BadBaseUrl_Fails(string baseUrl)
        {
            string zip = MakeZip("z.zip", "z");
            string outPath = Path.Combine(_dir, "manifest.json");
            var r = Python("manifest.py", "--out", outPath, "--base-url", baseUrl,
                "--package", Plugin("targets", "10.11", "build.yaml") + "=" + zip);
            Assert.AreEqual(2, r.Key);
            Assert.IsFalse(File.Exists(outPath));
        }

        [Test]
        public void Pack_ZipsExactlyTheArtifacts_Deterministically()
        {
            string publish = Path.Combine(_dir, "publish");
            Directory.CreateDirectory(publish);
            File.WriteAllText(Path.Combine(publish, "Jellyfin.Plugin.Matinee.dll"), "glue");
            File.WriteAllText(Path.Combine(publish, "Jellyfin.Plugin.Matinee.Core.dll"), "core");
            File.WriteAllText(Path.Combine(publish, "Jellyfin.Controller.dll"), "must not ship");
            File.WriteAllText(Path.Combine(publish, "Jellyfin.Plugin.Matinee.pdb"), "debug");
            string a = Path.Combine(_dir, "a.zip");
            string b = Path.Combine(_dir, "b.zip");
            string meta = Plugin("targets", "10.11", "build.yaml");
            Assert.AreEqual(0, Python("pack.py", meta, publish, a).Key);
            Assert.AreEqual(0, Python("pack.py", meta, publish, b).Key);
            CollectionAssert.AreEqual(File.ReadAllBytes(a), File.ReadAllBytes(b), "same input, same bytes, same MD5");
            var list = TestProcess.Run("python3", "-c", "import sys,zipfile; print(','.join(sorted(zipfile.ZipFile(sys.argv[1]).namelist())))", a);
            Assert.AreEqual(0, list.Key, list.Value);
            Assert.AreEqual("Jellyfin.Plugin.Matinee.Core.dll,Jellyfin.Plugin.Matinee.dll", list.Value.Trim());
        }

        [Test]
        public void Pack_MissingArtifact_Fails()
        {
            string publish = Path.Combine(_dir, "publish");
            Directory.CreateDirectory(publish);
            File.WriteAllText(Path.Combine(publish, "Jellyfin.Plugin.Matinee.dll"), "glue");
            var r = Python("pack.py", Plugin("targets", "10.11", "build.yaml"), publish, Path.Combine(_dir, "x.zip"));
            Assert.AreEqual(2, r.Key);
            StringAssert.Contains("Jellyfin.Plugin.Matinee.Core.dll", r.Value);
            Assert.IsFalse(File.Exists(Path.Combine(_dir, "x.zip")));
        }

        [TestCase("10.10", "net8.0", "10.10.0.0", "10")]
        [TestCase("10.11", "net9.0", "10.11.0.0", "11")]
        [TestCase("12.0", "net10.0", "12.0.0.0", "12")]
        public void BuildYaml_AgreesWithDirectoryBuildProps(string target, string framework, string abi, string revision)
        {
            var props = new XmlDocument();
            props.Load(Plugin("Directory.Build.props"));
            string version = props.SelectSingleNode("//MatineeVersion").InnerText;
            var group = props.SelectSingleNode("//PropertyGroup[contains(@Condition, \"'" + target + "'\")]");
            Assert.IsNotNull(group, "Directory.Build.props has a group for " + target);
            Assert.AreEqual(framework, group.SelectSingleNode("JellyfinFramework").InnerText);
            Assert.AreEqual(abi, group.SelectSingleNode("JellyfinTargetAbi").InnerText);
            Assert.AreEqual(revision, group.SelectSingleNode("MatineeAbiRevision").InnerText);
            StringAssert.StartsWith(abi.Substring(0, 6), group.SelectSingleNode("JellyfinPackageVersion").InnerText);

            string yaml = File.ReadAllText(Plugin("targets", target, "build.yaml"));
            StringAssert.Contains("\nversion: \"" + version + "." + revision + "\"\n", yaml);
            StringAssert.Contains("\ntargetAbi: \"" + abi + "\"\n", yaml);
            StringAssert.Contains("\nframework: \"" + framework + "\"\n", yaml);
        }

        [Test]
        public void PluginId_IsTheSameEverywhere()
        {
            const string Id = "4bcd6a6f-d0e4-4124-8b2e-39ba28d71063";
            StringAssert.Contains("IdString = \"" + Id + "\"", File.ReadAllText(Plugin("Jellyfin.Plugin.Matinee", "Plugin.cs")));
            StringAssert.Contains("const pluginId = '" + Id + "'", File.ReadAllText(Plugin("Jellyfin.Plugin.Matinee", "Configuration", "configPage.js")));
            foreach (var t in TestFiles.JellyfinTargets)
            {
                StringAssert.Contains("guid: \"" + Id + "\"", File.ReadAllText(Plugin("targets", t, "build.yaml")));
            }
        }

        private string MakeZip(string name, string content)
        {
            // A real plugin zip, made by the real packer from a stand-in publish folder.
            string publish = Path.Combine(_dir, "publish-" + name);
            Directory.CreateDirectory(publish);
            File.WriteAllText(Path.Combine(publish, "Jellyfin.Plugin.Matinee.dll"), content);
            File.WriteAllText(Path.Combine(publish, "Jellyfin.Plugin.Matinee.Core.dll"), "core " + content);
            string path = Path.Combine(_dir, name);
            var r = Python("pack.py", Plugin("targets", "10.11", "build.yaml"), publish, path);
            Assert.AreEqual(0, r.Key, r.Value);
            return path;
        }

        private static string Md5(string path)
        {
            using (var md5 = MD5.Create())
            {
                return string.Concat(md5.ComputeHash(File.ReadAllBytes(path)).Select(b => b.ToString("x2")));
            }
        }

        private static KeyValuePair<int, string> Python(string script, params string[] args) =>
            TestProcess.Run("python3", new[] { Plugin("packaging", script) }.Concat(args).ToArray());
    }
}
