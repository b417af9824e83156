using System.Collections.Generic;
using System.Linq;
using Jellyfin.Plugin.Matinee.Core.Json;
using Jellyfin.Plugin.Matinee.Core.Web;
using NUnit.Framework;

namespace Jellyfin.Plugin.Matinee.Core.Tests.Web
{
    [TestFixture]
    public class ConfigJsonRewriterTests
    {
        private static List<string> Plugins(string json) =>
            JsonReader.Parse(json).Get("plugins").Items.Select(i => i.Text).ToList();

        [TestCase("12.0-rc5")]
        [TestCase("10.11.11")]
        [TestCase("10.10.7")]
        public void Rewrite_RealConfig_AppendsKeyAndKeepsEverythingElse(string version)
        {
            string original = TestFiles.Fixture(version, "config.json");
            var r = ConfigJsonRewriter.Rewrite(original);

            Assert.AreEqual(ConfigRewriteOutcome.Added, r.Outcome);
            var before = Plugins(original);
            var after = Plugins(r.Json);
            Assert.That(before.Count, Is.GreaterThan(5));
            CollectionAssert.AreEqual(before.Concat(new[] { "MatineePlugin" }).ToList(), after);

            // The only change is one more line in the pretty-printed list.
            Assert.AreEqual(
                original.Replace("\"syncPlay/plugin\"\n", "\"syncPlay/plugin\",\n    \"MatineePlugin\"\n"),
                r.Json);

            // Other members (themes, servers, …) are byte-identical.
            var o = JsonReader.Parse(original);
            var n = JsonReader.Parse(r.Json);
            foreach (var m in o.Members.Where(m => m.Key != "plugins"))
            {
                var nm = n.Get(m.Key);
                Assert.AreEqual(
                    original.Substring(m.Value.Start, m.Value.End - m.Value.Start),
                    r.Json.Substring(nm.Start, nm.End - nm.Start),
                    m.Key);
            }
        }

        [Test]
        public void Rewrite_Config12_KeepsStillWatchingAndAppendsAfterSyncPlay()
        {
            // jellyfin-web 12 lists one plugin more than 10.11 ("Are you still watching?",
            // src/plugins/stillWatching), just before SyncPlay; ours still goes last.
            var eleven = Plugins(TestFiles.Fixture("10.11.11", "config.json"));
            var after = Plugins(ConfigJsonRewriter.Rewrite(TestFiles.Fixture("12.0-rc5", "config.json")).Json);
            var expected = eleven.Take(eleven.Count - 1)
                .Concat(new[] { "stillWatching/plugin", "syncPlay/plugin", "MatineePlugin" })
                .ToList();
            Assert.AreEqual("syncPlay/plugin", eleven[eleven.Count - 1]);
            CollectionAssert.AreEqual(expected, after);
        }

        [TestCase("12.0-rc5")]
        [TestCase("10.11.11")]
        [TestCase("10.10.7")]
        public void Rewrite_IsIdempotent(string version)
        {
            string once = ConfigJsonRewriter.Rewrite(TestFiles.Fixture(version, "config.json")).Json;
            var twice = ConfigJsonRewriter.Rewrite(once);
            Assert.AreEqual(ConfigRewriteOutcome.AlreadyPresent, twice.Outcome);
            Assert.AreSame(once, twice.Json);
            Assert.AreEqual(1, Plugins(twice.Json).Count(p => p == "MatineePlugin"));
        }

        [TestCase("{\"plugins\":[]}", "{\"plugins\":[\"MatineePlugin\"]}")]
        [TestCase("{\"plugins\":[ ]}", "{\"plugins\":[\"MatineePlugin\" ]}")]
        [TestCase("{\"plugins\":[\"a\"]}", "{\"plugins\":[\"a\",\"MatineePlugin\"]}")]
        [TestCase("{\"plugins\":[\"a\",\"b\"]}", "{\"plugins\":[\"a\",\"b\",\"MatineePlugin\"]}")]
        [TestCase("{\"plugins\":[\"a\", \"b\"]}", "{\"plugins\":[\"a\", \"b\", \"MatineePlugin\"]}")]
        [TestCase("{\"plugins\":[\"a\" ,\n\t\"b\"\n]}", "{\"plugins\":[\"a\" ,\n\t\"b\",\n\t\"MatineePlugin\"\n]}")]
        [TestCase("{\"x\":{\"plugins\":[]},\"plugins\":[1,{\"k\":[]}]}", "{\"x\":{\"plugins\":[]},\"plugins\":[1,{\"k\":[]},\"MatineePlugin\"]}")]
        [TestCase("{\"future\":{\"a\":[1,2]},\"plugins\":[\"p\"],\"z\":true}", "{\"future\":{\"a\":[1,2]},\"plugins\":[\"p\",\"MatineePlugin\"],\"z\":true}")]
        public void Rewrite_SmallDocuments(string input, string expected)
        {
            var r = ConfigJsonRewriter.Rewrite(input);
            Assert.AreEqual(ConfigRewriteOutcome.Added, r.Outcome);
            Assert.AreEqual(expected, r.Json);
            JsonReader.Parse(r.Json);
        }

        [Test]
        public void Rewrite_DuplicatePluginsKeys_EditsTheLastOne_WhichIsTheOneJavaScriptUses()
        {
            var r = ConfigJsonRewriter.Rewrite("{\"plugins\":[\"a\"],\"plugins\":[\"b\"]}");
            Assert.AreEqual("{\"plugins\":[\"a\"],\"plugins\":[\"b\",\"MatineePlugin\"]}", r.Json);
        }

        [TestCase("{}")]
        [TestCase("{\"themes\":[]}")]
        [TestCase("{\"plugins\":null}")]
        [TestCase("{\"plugins\":\"MatineePlugin\"}")]
        [TestCase("{\"plugins\":{}}")]
        [TestCase("[\"plugins\"]")]
        [TestCase("\"text\"")]
        public void Rewrite_NoPluginsArray_Untouched(string input)
        {
            // jellyfin-web falls back to its built-in plugin list when `plugins` is missing;
            // a list holding only ours would drop every player, so we leave it alone.
            var r = ConfigJsonRewriter.Rewrite(input);
            Assert.AreEqual(ConfigRewriteOutcome.NoPluginsArray, r.Outcome);
            Assert.AreSame(input, r.Json);
        }

        [TestCase("")]
        [TestCase("{\"plugins\":[\"a\",]}")]
        [TestCase("{\"plugins\":[\"a\"]")]
        [TestCase("<html>404</html>")]
        public void Rewrite_InvalidJson_Untouched(string input)
        {
            var r = ConfigJsonRewriter.Rewrite(input);
            Assert.AreEqual(ConfigRewriteOutcome.Invalid, r.Outcome);
            Assert.AreSame(input, r.Json);
        }

        [Test]
        public void Rewrite_TooLarge_Untouched()
        {
            string input = "{\"plugins\":[]," + "\"pad\":\"" + new string('x', ConfigJsonRewriter.MaxDocumentLength) + "\"}";
            var r = ConfigJsonRewriter.Rewrite(input);
            Assert.AreEqual(ConfigRewriteOutcome.TooLarge, r.Outcome);
            Assert.AreSame(input, r.Json);
        }

        [Test]
        public void Rewrite_KeyNeedingEscapes_IsEscaped()
        {
            var r = ConfigJsonRewriter.Rewrite("{\"plugins\":[]}", "we\"ird");
            Assert.AreEqual("{\"plugins\":[\"we\\\"ird\"]}", r.Json);
            Assert.AreEqual(ConfigRewriteOutcome.AlreadyPresent, ConfigJsonRewriter.Rewrite(r.Json, "we\"ird").Outcome);
        }
    }
}
