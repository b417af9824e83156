using System;
using System.Text.RegularExpressions;
using Jellyfin.Plugin.Matinee.Core.Web;
using NUnit.Framework;

namespace Jellyfin.Plugin.Matinee.Core.Tests.Web
{
    [TestFixture]
    public class IndexHtmlRewriterTests
    {
        private const string Tag = "<script src=\"/Matinee/ClientScript?v=0.1.0\" data-matinee=\"0.1.0\"></script>";

        private static int Count(string haystack, string needle)
        {
            int n = 0;
            int i = 0;
            while ((i = haystack.IndexOf(needle, i, StringComparison.Ordinal)) >= 0)
            {
                n++;
                i += needle.Length;
            }

            return n;
        }

        [TestCase("10.11.11")]
        [TestCase("12.0-rc5")]
        public void Rewrite_Built_InsertsOneClassicScriptBeforeTheFirstDeferredBundle(string version)
        {
            string original = TestFiles.Fixture(version, "index.html");
            var r = IndexHtmlRewriter.Rewrite(original, string.Empty, "0.1.0");

            Assert.AreEqual(IndexRewriteOutcome.Inserted, r.Outcome);
            Assert.AreEqual(1, Count(r.Html, "data-matinee"));
            int ours = r.Html.IndexOf(Tag, StringComparison.Ordinal);
            int firstBundle = r.Html.IndexOf("<script defer=\"defer\" src=\"runtime.bundle.js", StringComparison.Ordinal);
            Assert.That(ours, Is.GreaterThan(0));
            Assert.AreEqual(firstBundle, ours + Tag.Length, "our tag sits immediately before the first bundle");

            // Every other <script> in the real page is deferred, and ours comes before all of them.
            var scripts = Regex.Matches(r.Html, "<script[^>]*>");
            Assert.That(scripts.Count, Is.GreaterThan(5));
            Assert.AreEqual(Tag.Substring(0, Tag.IndexOf('>') + 1), scripts[0].Value);
            for (int i = 1; i < scripts.Count; i++)
            {
                StringAssert.Contains("defer", scripts[i].Value);
            }

            // Nothing else changed.
            Assert.AreEqual(original, r.Html.Remove(ours, Tag.Length));
        }

        [Test]
        public void Rewrite_OurTag_IsClassicAndBlocking()
        {
            string tag = IndexHtmlRewriter.ScriptTag(string.Empty, "0.1.0");
            Assert.AreEqual(Tag, tag);
            StringAssert.DoesNotContain("defer", tag);
            StringAssert.DoesNotContain("async", tag);
            StringAssert.DoesNotContain("type=", tag);
        }

        [Test]
        public void Rewrite_Template10_10_InsertsBeforeHeadClose()
        {
            // The v10.10.7 source template has no <script>; html-webpack-plugin appends the
            // deferred bundles just before </head>, so ours lands where they will follow it.
            string original = TestFiles.Template10_10();
            StringAssert.DoesNotContain("<script", original);
            var r = IndexHtmlRewriter.Rewrite(original, string.Empty, "0.1.0");

            Assert.AreEqual(IndexRewriteOutcome.Inserted, r.Outcome);
            Assert.AreEqual(original.Replace("</head>", Tag + "</head>"), r.Html);
        }

        [Test]
        public void Rewrite_Template10_10_AsWebpackWouldBuildIt_StaysBeforeTheBundles()
        {
            // Synthetic: the 10.10.7 template with bundles injected the way html-webpack-plugin does.
            string template = TestFiles.Template10_10();
            string bundles = "<script defer=\"defer\" src=\"runtime.bundle.js?abc\"></script><script defer=\"defer\" src=\"main.jellyfin.bundle.js?abc\"></script>";
            string built = template.Replace("</head>", bundles + "</head>");
            var r = IndexHtmlRewriter.Rewrite(built, string.Empty, "0.1.0");
            Assert.AreEqual(template.Replace("</head>", Tag + bundles + "</head>"), r.Html);
        }

        [TestCase("12.0-rc5")]
        [TestCase("10.11.11")]
        [TestCase("10.10.7")]
        public void Rewrite_IsIdempotent(string version)
        {
            string original = TestFiles.Fixture(version, "index.html");
            string once = IndexHtmlRewriter.Rewrite(original, "/jellyfin", "0.1.0").Html;
            var twice = IndexHtmlRewriter.Rewrite(once, "/jellyfin", "0.1.0");
            Assert.AreEqual(once, twice.Html);
            Assert.AreEqual(IndexRewriteOutcome.Replaced, twice.Outcome);
            Assert.AreEqual(1, Count(twice.Html, "data-matinee"));
        }

        [Test]
        public void Rewrite_NewVersion_ReplacesTheOldTag()
        {
            string original = TestFiles.Fixture("10.11.11", "index.html");
            string old = IndexHtmlRewriter.Rewrite(original, string.Empty, "0.1.0").Html;
            var r = IndexHtmlRewriter.Rewrite(old, string.Empty, "0.2.0");
            Assert.AreEqual(IndexHtmlRewriter.Rewrite(original, string.Empty, "0.2.0").Html, r.Html);
            StringAssert.DoesNotContain("0.1.0", r.Html);
            StringAssert.Contains("/Matinee/ClientScript?v=0.2.0", r.Html);
        }

        [Test]
        public void Rewrite_BaseUrl_PrefixesTheScriptPath()
        {
            string original = TestFiles.Fixture("10.11.11", "index.html");
            var r = IndexHtmlRewriter.Rewrite(original, "/jellyfin", "0.1.0");
            StringAssert.Contains("<script src=\"/jellyfin/Matinee/ClientScript?v=0.1.0\" data-matinee=\"0.1.0\"></script><script defer", r.Html);
            var nested = IndexHtmlRewriter.Rewrite(original, "/media/jf", "1.2.3.11");
            StringAssert.Contains("src=\"/media/jf/Matinee/ClientScript?v=1.2.3.11\"", nested.Html);
        }

        [Test]
        public void Rewrite_VersionWithPlus_IsPercentEncodedInTheQuery()
        {
            string tag = IndexHtmlRewriter.ScriptTag(string.Empty, "1.0.0+abc");
            StringAssert.Contains("?v=1.0.0%2Babc\"", tag);
        }

        [TestCase("<html><body><p>no head, no script</p></body></html>")]
        [TestCase("")]
        [TestCase("<html><head><!-- <script src=x></script> </head> --><body></body></html>")]
        public void Rewrite_NoAnchor_LeavesTheDocumentUntouched(string html)
        {
            var r = IndexHtmlRewriter.Rewrite(html, string.Empty, "0.1.0");
            Assert.AreEqual(IndexRewriteOutcome.NoAnchor, r.Outcome);
            Assert.IsFalse(r.Injected);
            Assert.AreSame(html, r.Html);
        }

        [Test]
        public void Rewrite_ScriptInsideComment_IsNotTheAnchor()
        {
            string html = "<head><!-- <script src=\"old.js\"></script> --><title>t</title><script defer src=\"a.js\"></script></head>";
            var r = IndexHtmlRewriter.Rewrite(html, string.Empty, "0.1.0");
            Assert.AreEqual(html.Replace("<script defer", Tag + "<script defer"), r.Html);
        }

        [Test]
        public void Rewrite_UppercaseTags_StillFound()
        {
            string html = "<HTML><HEAD><SCRIPT DEFER SRC=\"a.js\"></SCRIPT></HEAD></HTML>";
            var r = IndexHtmlRewriter.Rewrite(html, string.Empty, "0.1.0");
            Assert.AreEqual("<HTML><HEAD>" + Tag + "<SCRIPT DEFER SRC=\"a.js\"></SCRIPT></HEAD></HTML>", r.Html);
        }

        [Test]
        public void Rewrite_ScriptsTagNameLookalike_IsNotAnAnchor()
        {
            string html = "<head><scripts-list></scripts-list></head>";
            var r = IndexHtmlRewriter.Rewrite(html, string.Empty, "0.1.0");
            Assert.AreEqual("<head><scripts-list></scripts-list>" + Tag + "</head>", r.Html);
        }

        [Test]
        public void Rewrite_TooLarge_Untouched()
        {
            string html = "<head></head>" + new string(' ', IndexHtmlRewriter.MaxDocumentLength);
            var r = IndexHtmlRewriter.Rewrite(html, string.Empty, "0.1.0");
            Assert.AreEqual(IndexRewriteOutcome.TooLarge, r.Outcome);
            Assert.AreSame(html, r.Html);
        }

        [TestCase("jellyfin")]
        [TestCase("/jellyfin/")]
        [TestCase("/a\"onload=\"x")]
        [TestCase("/a<b")]
        [TestCase("/a//b")]
        [TestCase("/../x")]
        [TestCase("/a b")]
        public void Rewrite_UnsafeBaseUrl_Throws(string baseUrl)
        {
            Assert.Throws<ArgumentException>(() => IndexHtmlRewriter.Rewrite("<head></head>", baseUrl, "0.1.0"));
        }

        [TestCase("")]
        [TestCase("1.0\"")]
        [TestCase("1.0 beta")]
        [TestCase(null)]
        public void Rewrite_UnsafeVersion_Throws(string version)
        {
            Assert.Throws<ArgumentException>(() => IndexHtmlRewriter.Rewrite("<head></head>", string.Empty, version));
        }
    }
}
