using Jellyfin.Plugin.Matinee.Core.Web;
using NUnit.Framework;

namespace Jellyfin.Plugin.Matinee.Core.Tests.Web
{
    [TestFixture]
    public class WebPathsTests
    {
        [TestCase("", "/web/", WebFile.Index, "")]
        [TestCase("", "/web/index.html", WebFile.Index, "")]
        [TestCase("", "/web/config.json", WebFile.Config, "")]
        [TestCase("", "/jellyfin/web/", WebFile.Index, "/jellyfin")]
        [TestCase("", "/jellyfin/web/index.html", WebFile.Index, "/jellyfin")]
        [TestCase("", "/jellyfin/web/config.json", WebFile.Config, "/jellyfin")]
        [TestCase("/jellyfin", "/web/index.html", WebFile.Index, "/jellyfin")]
        [TestCase("/media", "/jf/web/config.json", WebFile.Config, "/media/jf")]
        [TestCase(null, "/Web/Index.html", WebFile.Index, "")]
        [TestCase("", "/web/main.bundle.js", WebFile.None, "")]
        [TestCase("", "/web", WebFile.None, "")]
        [TestCase("", "/web/config.json/x", WebFile.None, "")]
        [TestCase("", "/web/sub/index.html", WebFile.None, "")]
        [TestCase("", "/Matinee/ClientScript", WebFile.None, "")]
        [TestCase("", "/a b/web/", WebFile.None, "")]
        [TestCase("", "/x/../web/", WebFile.None, "")]
        [TestCase("", "//web/", WebFile.None, "")]
        [TestCase("", "/\"><script>/web/index.html", WebFile.None, "")]
        public void Classify(string pathBase, string path, WebFile file, string baseUrl)
        {
            var m = WebPaths.Classify(pathBase, path);
            Assert.AreEqual(file, m.File);
            Assert.AreEqual(baseUrl, m.BaseUrl);
        }

        [Test]
        public void Classify_OverlongBase_IsIgnored()
        {
            string path = "/" + new string('a', WebPaths.MaxBaseUrlLength) + "/web/";
            Assert.AreEqual(WebFile.None, WebPaths.Classify(string.Empty, path).File);
        }
    }
}
