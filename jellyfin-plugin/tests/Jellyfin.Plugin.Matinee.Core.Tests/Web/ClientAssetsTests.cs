using Jellyfin.Plugin.Matinee.Core.Web;
using NUnit.Framework;

namespace Jellyfin.Plugin.Matinee.Core.Tests.Web
{
    [TestFixture]
    public class ClientAssetsTests
    {
        [TestCase("loader.js", "matinee-client/loader.js")]
        [TestCase("core/timesync.js", "matinee-client/core/timesync.js")]
        [TestCase("ui/panel.css", "matinee-client/ui/panel.css")]
        [TestCase("ui/strings/en-US.json", "matinee-client/ui/strings/en-US.json")]
        public void ResourceNameFor_PlainPaths(string path, string expected)
        {
            Assert.AreEqual(expected, ClientAssets.ResourceNameFor(path));
        }

        [TestCase(null)]
        [TestCase("")]
        [TestCase("/loader.js")]
        [TestCase("../loader.js")]
        [TestCase("core/../loader.js")]
        [TestCase("core//timesync.js")]
        [TestCase("./loader.js")]
        [TestCase("core\\timesync.js")]
        [TestCase("core/timesync.js%00")]
        [TestCase("loader.js ")]
        [TestCase("loader")]
        [TestCase("secret.key")]
        [TestCase("Jellyfin.Plugin.Matinee.dll")]
        [TestCase(".js")]
        public void ResourceNameFor_Refused(string path)
        {
            Assert.IsNull(ClientAssets.ResourceNameFor(path));
        }

        [Test]
        public void ResourceNameFor_OverlongPath_Refused()
        {
            Assert.IsNull(ClientAssets.ResourceNameFor(new string('a', ClientAssets.MaxPathLength) + ".js"));
        }

        [TestCase("a.js", "text/javascript; charset=utf-8")]
        [TestCase("core/a.mjs", "text/javascript; charset=utf-8")]
        [TestCase("a.CSS", "text/css; charset=utf-8")]
        [TestCase("a.json", "application/json; charset=utf-8")]
        [TestCase("a.exe", null)]
        [TestCase("dir.js/file", null)]
        public void ContentTypeFor(string path, string expected)
        {
            Assert.AreEqual(expected, ClientAssets.ContentTypeFor(path));
        }
    }
}
