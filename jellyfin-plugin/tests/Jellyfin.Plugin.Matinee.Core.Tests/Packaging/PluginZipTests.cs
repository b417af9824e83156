using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using System.Xml;
using Jellyfin.Plugin.Matinee.Core.Json;
using NUnit.Framework;

namespace Jellyfin.Plugin.Matinee.Core.Tests.Packaging
{
    /// <summary>
    /// What goes into the plugin zips. Jellyfin loads every *.dll in a plugin's folder unless its
    /// meta.json whitelists assemblies (Emby.Server.Implementations/Plugins/PluginManager.cs
    /// TryGetPluginDlls, line 836 at v10.10.7, 833 at v10.11.11), so the zip
    /// must hold our two assemblies and nothing of Jellyfin's (a second copy of
    /// MediaBrowser.Controller.dll would be loaded beside the server's). Where `make plugin-repo`
    /// has run (the .NET SDK exists), its dist/plugin-repo/ is opened; elsewhere the same checks
    /// run on zips packed by the real scripts from a publish folder laid out as `dotnet publish`
    /// leaves it, holding the Mono-built Core assembly.
    /// </summary>
    [TestFixture]
    public class PluginZipTests
    {
        // Assemblies Jellyfin itself provides (the packages' and their dependencies' names).
        private static readonly Regex JellyfinOwned = new Regex(
            "^(MediaBrowser\\.|Jellyfin\\.(Controller|Model|Common|Data|Extensions|Database|Naming|Networking|Server|Api|Drawing|MediaEncoding|LiveTv)\\b|Emby\\.|Microsoft\\.|System\\.|Newtonsoft\\.|Serilog|SQLitePCL|ICU4N|Diacritics|TMDbLib|DotNet\\.|Polly)",
            RegexOptions.CultureInvariant);

        private string _dir;

        private static string Plugin(params string[] parts) => Path.Combine(TestFiles.RepoRoot, "jellyfin-plugin", Path.Combine(parts));

        private static string MonoBuiltCore => Path.Combine(Path.GetDirectoryName(typeof(PluginZipTests).Assembly.Location), "Jellyfin.Plugin.Matinee.Core.dll");

        [SetUp]
        public void SetUp()
        {
            _dir = Path.Combine(Path.GetTempPath(), "matinee-zip-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(_dir);
        }

        [TearDown]
        public void TearDown() => Directory.Delete(_dir, true);

        [Test]
        public void Artifacts_AreTheGlueAndItsProjectReferences_AndNoJellyfinPackageShips()
        {
            var glue = new XmlDocument();
            glue.Load(Plugin("Jellyfin.Plugin.Matinee", "Jellyfin.Plugin.Matinee.csproj"));
            var expected = new List<string> { "Jellyfin.Plugin.Matinee.dll" };
            foreach (XmlElement reference in glue.SelectNodes("//ProjectReference"))
            {
                expected.Add(Path.GetFileNameWithoutExtension(reference.GetAttribute("Include").Replace('\\', '/')) + ".dll");
            }

            var packages = glue.SelectNodes("//PackageReference").Cast<XmlElement>().ToList();
            Assert.That(packages.Count, Is.GreaterThan(0));
            foreach (var package in packages)
            {
                // A package without ExcludeAssets=runtime would need its DLLs shipped, and they are not listed.
                string exclude = package.GetAttribute("ExcludeAssets");
                var child = package.SelectSingleNode("ExcludeAssets");
                if (child != null)
                {
                    exclude = child.InnerText;
                }

                StringAssert.Contains("runtime", exclude, package.GetAttribute("Include") + " must be ExcludeAssets=runtime: Jellyfin provides it");
            }

            Assert.AreEqual("false", glue.SelectSingleNode("//CopyLocalLockFileAssemblies").InnerText);
            foreach (var target in TestFiles.JellyfinTargets)
            {
                CollectionAssert.AreEqual(expected, Artifacts(Plugin("targets", target, "build.yaml")), target + ": build.yaml artifacts");
            }
        }

        [Test]
        public void PluginRepo_ZipsHoldExactlyOurAssemblies_ChecksumsMatch_TargetAbiPerVersion()
        {
            // The release workflow runs `make plugin-repo` and then names its output here: what
            // ships is then checked as built. (Building the glue needs Jellyfin's packages, which
            // not every machine with the .NET SDK can restore.)
            string built = Environment.GetEnvironmentVariable("MATINEE_VERIFY_PLUGIN_REPO");
            if (!string.IsNullOrEmpty(built))
            {
                built = Path.Combine(built, "manifest.json");
                Assert.IsTrue(File.Exists(built), "MATINEE_VERIFY_PLUGIN_REPO names a folder without manifest.json: " + built);
                Console.WriteLine("PluginZipTests: checking " + built);
                VerifyRepo(built, requireEveryEntryAnAssembly: true);
                return;
            }

            // Otherwise: a publish folder as `dotnet publish` leaves it — our two assemblies (Core
            // really built, by mcs), their symbols and deps file, and the Jellyfin assemblies a
            // transitive package reference copies in — packed and listed by the real scripts.
            Assert.IsTrue(File.Exists(MonoBuiltCore), "run-mono.sh builds Core next to the tests: " + MonoBuiltCore);
            string manifest = Path.Combine(_dir, "repo", "manifest.json");
            var packages = new List<string>();
            foreach (var target in TestFiles.JellyfinTargets)
            {
                string publish = Path.Combine(_dir, "publish-" + target);
                Directory.CreateDirectory(publish);
                File.Copy(MonoBuiltCore, Path.Combine(publish, "Jellyfin.Plugin.Matinee.Core.dll"));
                File.WriteAllText(Path.Combine(publish, "Jellyfin.Plugin.Matinee.dll"), "glue for " + target);
                foreach (var extra in new[] { "Jellyfin.Plugin.Matinee.pdb", "Jellyfin.Plugin.Matinee.Core.pdb", "Jellyfin.Plugin.Matinee.deps.json", "MediaBrowser.Controller.dll", "MediaBrowser.Common.dll", "MediaBrowser.Model.dll", "Jellyfin.Data.dll", "Jellyfin.Extensions.dll", "Microsoft.Extensions.Logging.Abstractions.dll" })
                {
                    File.WriteAllText(Path.Combine(publish, extra), "must not ship");
                }

                string meta = Plugin("targets", target, "build.yaml");
                string version = BuildYaml(meta, "version");
                string zip = Path.Combine(_dir, "repo", "matinee_" + version + ".zip");
                Directory.CreateDirectory(Path.GetDirectoryName(zip));
                var r = Python("pack.py", meta, publish, zip);
                Assert.AreEqual(0, r.Key, r.Value);
                packages.Add("--package");
                packages.Add(meta + "=" + zip);
            }

            var m = Python(new[] { "manifest.py", "--out", manifest, "--base-url", "https://example.org/matinee" }.Concat(packages).ToArray());
            Assert.AreEqual(0, m.Key, m.Value);
            VerifyRepo(manifest, requireEveryEntryAnAssembly: false);
        }

        [Test]
        public void Control_AZipWithAJellyfinAssembly_IsCaught()
        {
            // The check above must be able to fail: a zip that also ships MediaBrowser.Controller.dll.
            string zip = Path.Combine(_dir, "bad.zip");
            var r = TestProcess.Run("python3", "-c", "import sys,zipfile; z=zipfile.ZipFile(sys.argv[1],'w'); z.write(sys.argv[2],'Jellyfin.Plugin.Matinee.Core.dll'); z.writestr('Jellyfin.Plugin.Matinee.dll','x'); z.writestr('MediaBrowser.Controller.dll','x'); z.close()", zip, MonoBuiltCore);
            Assert.AreEqual(0, r.Key, r.Value);

            var problems = ZipProblems(zip, Artifacts(Plugin("targets", "10.11", "build.yaml")), false);
            CollectionAssert.Contains(problems, "MediaBrowser.Controller.dll: not a build.yaml artifact");
            CollectionAssert.Contains(problems, "MediaBrowser.Controller.dll: an assembly Jellyfin provides");
        }

        private void VerifyRepo(string manifestPath, bool requireEveryEntryAnAssembly)
        {
            var root = JsonReader.Parse(File.ReadAllText(manifestPath));
            var versions = root.Items.Single().Get("versions").Items;
            var byVersion = TestFiles.JellyfinTargets
                .Select(t => Plugin("targets", t, "build.yaml"))
                .ToDictionary(y => BuildYaml(y, "version"), y => y);
            Assert.AreEqual(byVersion.Count, versions.Count, "one manifest line per build");
            foreach (var v in versions)
            {
                string version = v.GetString("version");
                Assert.IsTrue(byVersion.ContainsKey(version), "unknown version " + version);
                string meta = byVersion[version];
                Assert.AreEqual(BuildYaml(meta, "targetAbi"), v.GetString("targetAbi"), version + ": targetAbi");

                string zip = Path.Combine(Path.GetDirectoryName(manifestPath), Path.GetFileName(new Uri(v.GetString("sourceUrl")).AbsolutePath));
                Assert.IsTrue(File.Exists(zip), zip);
                Assert.AreEqual(Md5(zip), v.GetString("checksum"), version + ": checksum is the zip's MD5");
                CollectionAssert.IsEmpty(ZipProblems(zip, Artifacts(meta), requireEveryEntryAnAssembly), version);
            }
        }

        private List<string> ZipProblems(string zip, List<string> artifacts, bool requireEveryEntryAnAssembly)
        {
            var problems = new List<string>();
            string unpacked = Path.Combine(_dir, "unpacked-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(unpacked);
            // Opened with Python's zipfile (python3 is needed for the packaging scripts anyway;
            // Debian's minimal Mono has no System.IO.Compression).
            var opened = TestProcess.Run("python3", "-c", "import sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); print('\\n'.join(z.namelist())); z.extractall(sys.argv[2])", zip, unpacked);
            Assert.AreEqual(0, opened.Key, opened.Value);
            var names = opened.Value.Split(new[] { '\n' }, StringSplitOptions.RemoveEmptyEntries).Select(n => n.Trim()).ToList();
            foreach (var missing in artifacts.Except(names))
            {
                problems.Add(missing + ": missing");
            }

            foreach (var name in names)
            {
                if (!artifacts.Contains(name))
                {
                    problems.Add(name + ": not a build.yaml artifact");
                }

                if (JellyfinOwned.IsMatch(name))
                {
                    problems.Add(name + ": an assembly Jellyfin provides");
                }

                if (name.Contains("/") || name.Contains("\\"))
                {
                    problems.Add(name + ": not at the zip's top level");
                }

                // Core is always a real assembly here; the glue only in an SDK-built zip.
                if (requireEveryEntryAnAssembly || name == "Jellyfin.Plugin.Matinee.Core.dll")
                {
                    try
                    {
                        string identity = AssemblyName.GetAssemblyName(Path.Combine(unpacked, name)).Name;
                        if (identity + ".dll" != name)
                        {
                            problems.Add(name + ": holds assembly " + identity);
                        }
                    }
                    catch (BadImageFormatException)
                    {
                        problems.Add(name + ": not a .NET assembly");
                    }
                }
            }

            return problems;
        }

        private static List<string> Artifacts(string buildYaml)
        {
            var r = Python("-c", "import sys; sys.path.insert(0, sys.argv[1]); from manifest import read_build_yaml; print('\\n'.join(read_build_yaml(sys.argv[2])['artifacts']))", Plugin("packaging"), buildYaml);
            Assert.AreEqual(0, r.Key, r.Value);
            return r.Value.Split(new[] { '\n' }, StringSplitOptions.RemoveEmptyEntries).Select(s => s.Trim()).ToList();
        }

        private static string BuildYaml(string buildYaml, string key)
        {
            var r = Python("-c", "import sys; sys.path.insert(0, sys.argv[1]); from manifest import read_build_yaml; print(read_build_yaml(sys.argv[2])[sys.argv[3]])", Plugin("packaging"), buildYaml, key);
            Assert.AreEqual(0, r.Key, r.Value);
            return r.Value.Trim();
        }

        private static string Md5(string path)
        {
            using (var md5 = MD5.Create())
            {
                return string.Concat(md5.ComputeHash(File.ReadAllBytes(path)).Select(b => b.ToString("x2")));
            }
        }

        private static KeyValuePair<int, string> Python(params string[] args)
        {
            var full = args[0] == "-c" ? args : new[] { Plugin("packaging", args[0]) }.Concat(args.Skip(1)).ToArray();
            return TestProcess.Run("python3", full);
        }
    }
}
