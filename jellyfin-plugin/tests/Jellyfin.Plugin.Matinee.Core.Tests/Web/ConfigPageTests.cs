using System;
using System.IO;
using System.Linq;
using Jellyfin.Plugin.Matinee.Core.Json;
using NUnit.Framework;

namespace Jellyfin.Plugin.Matinee.Core.Tests.Web
{
    /// <summary>
    /// The plugin's configuration page, loaded in headless Chromium through the contract
    /// jellyfin-web's dashboard uses for legacy plugin pages at 10.10.7 and 10.11.11
    /// (tests/browser/config-page.mjs says which files): it is recognised as a page, its
    /// controller module is imported and constructed, it shows the settings and the injection
    /// path, and saving sends normalised settings. Needs node, the repository's npm packages
    /// (playwright-core) and Debian's chromium, like <see cref="BrowserScriptOrderTests"/>.
    /// </summary>
    [TestFixture]
    public class ConfigPageTests
    {
        private const string Config = "{\"ServerUrl\":\"https://watch.example.org\",\"TokenLifetimeSeconds\":600,\"DefaultControl\":\"shared\",\"DefaultWaitForAll\":false}";
        private string _dir;

        [SetUp]
        public void SetUp()
        {
            TestProcess.RequireBrowser();
            _dir = Path.Combine(Path.GetTempPath(), "matinee-configpage-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(_dir);
        }

        [TearDown]
        public void TearDown()
        {
            if (_dir != null && Directory.Exists(_dir))
            {
                Directory.Delete(_dir, true);
            }
        }

        [Test]
        public void Loads_ShowsSettingsAndTheMiddlewarePath_SavesNormalisedSettings()
        {
            var r = Run(
                "{\"InjectionPath\":\"middleware\",\"Detail\":\"Matinee's own middleware rewrites index.html and config.json. The File Transformation plugin is not installed.\",\"LastIndexHtml\":\"Rewritten at 1733000000\",\"LastConfigJson\":null,\"Version\":\"0.1.0\"}",
                "{\"ServerUrl\":\"  https://Party.Example.org:8443/matinee/  \",\"TokenLifetimeSeconds\":120,\"DefaultControl\":\"host\",\"DefaultWaitForAll\":true}");

            Assert.AreEqual("MatineeConfigPage", r.GetString("pageId"));
            CollectionAssert.IsEmpty(r.Get("errors").Items, "no script errors");
            var loaded = r.Get("loaded");
            Assert.AreEqual("https://watch.example.org", loaded.GetString("ServerUrl"));
            Assert.AreEqual("600", loaded.GetString("TokenLifetimeSeconds"));
            Assert.AreEqual("shared", loaded.GetString("DefaultControl"));
            Assert.AreEqual(JsonKind.Boolean, loaded.Get("DefaultWaitForAll").Kind);
            Assert.IsFalse(loaded.Get("DefaultWaitForAll").Boolean);
            StringAssert.StartsWith("Matinee adds its client to the web client itself", loaded.GetString("injection"));
            StringAssert.Contains("The File Transformation plugin is not installed.", loaded.GetString("injection"));
            StringAssert.Contains("Last index.html: Rewritten at 1733000000", loaded.GetString("injection"));

            var saved = r.Get("saved");
            CollectionAssert.IsEmpty(saved.Get("alerts").Items);
            var update = saved.Get("updates").Items.Single();
            Assert.AreEqual("4bcd6a6f-d0e4-4124-8b2e-39ba28d71063", update.GetString("id"));
            var config = update.Get("config");
            Assert.AreEqual("https://party.example.org:8443/matinee", config.GetString("ServerUrl"), "the same canonical form as SettingsRules.NormalizeServerUrl");
            Assert.AreEqual("120", config.Get("TokenLifetimeSeconds").Text);
            Assert.AreEqual("host", config.GetString("DefaultControl"));
            Assert.IsTrue(config.Get("DefaultWaitForAll").Boolean);

            var requests = r.Get("requests").Items.Select(i => i.Text).ToList();
            CollectionAssert.Contains(requests, "GET /web/configurationpage?name=matineeconfigjs", "the controller module is loaded the way jellyfin-web builds its URL");
            CollectionAssert.Contains(requests, "GET /Matinee/Status");
        }

        [TestCase("file-transformation", "The File Transformation plugin adds Matinee's client")]
        [TestCase("none", "Nothing: Jellyfin does not host the web client here (--nowebclient)")]
        public void ShowsTheActivePath(string path, string sentence)
        {
            var r = Run("{\"InjectionPath\":\"" + path + "\",\"Detail\":\"d\",\"LastIndexHtml\":null,\"LastConfigJson\":null,\"Version\":\"0.1.0\"}", null);
            StringAssert.StartsWith(sentence, r.Get("loaded").GetString("injection"));
        }

        [Test]
        public void StatusUnavailable_SaysSo()
        {
            var r = Run(null, null);
            StringAssert.StartsWith("Unknown: the plugin did not report", r.Get("loaded").GetString("injection"));
        }

        [Test]
        public void BadUrl_IsRefusedBeforeSaving()
        {
            var r = Run(
                "{\"InjectionPath\":\"middleware\",\"Detail\":\"\",\"LastIndexHtml\":null,\"LastConfigJson\":null,\"Version\":\"0.1.0\"}",
                "{\"ServerUrl\":\"https://user:pw@watch.example.org\",\"TokenLifetimeSeconds\":300,\"DefaultControl\":\"host\",\"DefaultWaitForAll\":true}");
            var saved = r.Get("saved");
            CollectionAssert.IsEmpty(saved.Get("updates").Items);
            StringAssert.Contains("without user name", saved.Get("alerts").Items.Single().Text);
        }

        private JsonValue Run(string statusJson, string editJson)
        {
            string plugin = Path.Combine(TestFiles.RepoRoot, "jellyfin-plugin");
            string scenario = Path.Combine(_dir, "scenario.json");
            File.WriteAllText(scenario, new JsonWriter().BeginObject()
                .Property("html", Path.Combine(plugin, "Jellyfin.Plugin.Matinee", "Configuration", "configPage.html"))
                .Property("js", Path.Combine(plugin, "Jellyfin.Plugin.Matinee", "Configuration", "configPage.js"))
                .EndObject().ToString()
                .TrimEnd('}') + ",\"config\":" + Config + ",\"status\":" + (statusJson ?? "null") + ",\"edit\":" + (editJson ?? "null") + "}");
            string script = Path.Combine(plugin, "tests", "browser", "config-page.mjs");
            return JsonReader.Parse(TestProcess.Node(script, scenario).Trim());
        }
    }
}
