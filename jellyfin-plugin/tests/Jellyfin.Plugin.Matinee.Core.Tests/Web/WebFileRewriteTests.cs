using Jellyfin.Plugin.Matinee.Core.Web;
using NUnit.Framework;

namespace Jellyfin.Plugin.Matinee.Core.Tests.Web
{
    [TestFixture]
    public class WebFileRewriteTests
    {
        [Test]
        public void Index_GetsTheTagWithTheBaseUrl()
        {
            string original = TestFiles.Fixture("10.10.7", "index.html");
            var r = WebFileRewrite.Apply(WebFile.Index, original, "/jf", "0.1.0.10");
            Assert.IsNull(r.Problem);
            Assert.AreEqual(IndexHtmlRewriter.Rewrite(original, "/jf", "0.1.0.10").Html, r.Text);
        }

        [Test]
        public void Index_WithoutAnchor_UnchangedWithAProblemToLog()
        {
            var r = WebFileRewrite.Apply(WebFile.Index, "<p>no head</p>", string.Empty, "0.1.0");
            Assert.IsNull(r.Text);
            StringAssert.Contains("NoAnchor", r.Problem);
        }

        [Test]
        public void Config_Added()
        {
            var r = WebFileRewrite.Apply(WebFile.Config, "{\"plugins\":[\"a\"]}", string.Empty, "0.1.0");
            Assert.AreEqual("{\"plugins\":[\"a\",\"MatineePlugin\"]}", r.Text);
            Assert.IsNull(r.Problem);
        }

        [Test]
        public void Config_AlreadyListed_UnchangedQuietly()
        {
            var r = WebFileRewrite.Apply(WebFile.Config, "{\"plugins\":[\"MatineePlugin\"]}", string.Empty, "0.1.0");
            Assert.IsNull(r.Text);
            Assert.IsNull(r.Problem);
        }

        [Test]
        public void Config_Invalid_UnchangedWithAProblem()
        {
            var r = WebFileRewrite.Apply(WebFile.Config, "{plugins:", string.Empty, "0.1.0");
            Assert.IsNull(r.Text);
            StringAssert.Contains("Invalid", r.Problem);
        }

        [Test]
        public void OtherFile_Untouched()
        {
            var r = WebFileRewrite.Apply(WebFile.None, "x", string.Empty, "0.1.0");
            Assert.IsNull(r.Text);
            Assert.IsNull(r.Problem);
        }
    }
}
