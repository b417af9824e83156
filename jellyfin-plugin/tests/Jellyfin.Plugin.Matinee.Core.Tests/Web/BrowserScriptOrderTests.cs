using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Jellyfin.Plugin.Matinee.Core.Json;
using Jellyfin.Plugin.Matinee.Core.Web;
using NUnit.Framework;

namespace Jellyfin.Plugin.Matinee.Core.Tests.Web
{
    /// <summary>
    /// The claim the index.html rewrite rests on, checked in a real browser: our classic script
    /// runs before every one of jellyfin-web's deferred bundles, so window.MatineePlugin exists when
    /// they run. Needs node, the repository's npm packages (playwright-core) and Debian's chromium.
    /// </summary>
    [TestFixture]
    public class BrowserScriptOrderTests
    {
        private string _dir;

        [SetUp]
        public void SetUp()
        {
            TestProcess.RequireBrowser();
            _dir = Path.Combine(Path.GetTempPath(), "matinee-order-" + Guid.NewGuid().ToString("N"));
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

        [TestCase("")]
        [TestCase("/jellyfin")]
        public void Built10_11_OurScriptRunsBeforeEveryBundle(string baseUrl)
        {
            string original = TestFiles.Fixture("10.11.11", "index.html");
            int bundles = Regex.Matches(original, "<script defer=\"defer\" src=\"[^\"]+\\.bundle\\.js").Count;
            Assert.That(bundles, Is.GreaterThan(5));

            var order = RunInBrowser(IndexHtmlRewriter.Rewrite(original, baseUrl, "0.1.0.11").Html, baseUrl);

            Assert.AreEqual("matinee", order[0]);
            Assert.AreEqual(bundles + 1, order.Length, string.Join("\n", order));
            foreach (var entry in order.Skip(1))
            {
                StringAssert.EndsWith(" function", entry, "window.MatineePlugin was defined when this bundle ran");
            }
        }

        [Test]
        public void Template10_10_AsBuilt_OurScriptRunsBeforeEveryBundle()
        {
            // The v10.10.7 template with deferred bundles where html-webpack-plugin puts them.
            string built = TestFiles.Template10_10().Replace(
                "</head>",
                "<script defer=\"defer\" src=\"runtime.bundle.js?h\"></script><script defer=\"defer\" src=\"main.jellyfin.bundle.js?h\"></script></head>");
            var order = RunInBrowser(IndexHtmlRewriter.Rewrite(built, string.Empty, "0.1.0.10").Html, string.Empty);
            CollectionAssert.AreEqual(
                new[] { "matinee", "bundle runtime.bundle.js function", "bundle main.jellyfin.bundle.js function" },
                order);
        }

        [Test]
        public void Control_ADeferredTagAfterTheBundles_LosesTheRace()
        {
            // Proves the harness can tell: the same script, deferred and placed last, runs too late.
            string original = TestFiles.Fixture("10.11.11", "index.html");
            string wrong = original.Replace("</head>", "<script defer=\"defer\" src=\"/Matinee/ClientScript?v=x\"></script></head>");
            var order = RunInBrowser(wrong, string.Empty);
            Assert.AreEqual("matinee", order[order.Length - 1]);
            StringAssert.EndsWith(" undefined", order[0]);
        }

        private string[] RunInBrowser(string html, string baseUrl)
        {
            string page = Path.Combine(_dir, "index.html");
            File.WriteAllText(page, html);
            string script = Path.Combine(TestFiles.RepoRoot, "jellyfin-plugin", "tests", "browser", "script-order.mjs");
            var result = JsonReader.Parse(TestProcess.Node(script, page, baseUrl).Trim());
            return result.Get("order").Items.Select(i => i.Text).ToArray();
        }
    }
}
