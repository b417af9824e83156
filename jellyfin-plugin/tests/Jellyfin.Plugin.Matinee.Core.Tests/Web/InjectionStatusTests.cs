using Jellyfin.Plugin.Matinee.Core.Json;
using Jellyfin.Plugin.Matinee.Core.Web;
using NUnit.Framework;

namespace Jellyfin.Plugin.Matinee.Core.Tests.Web
{
    [TestFixture]
    public class InjectionStatusTests
    {
        private static FileTransformationRegistration Registration(bool registered) =>
            registered
                ? new FileTransformationRegistration(true, true, "Registered with File Transformation 2.5.4.0.")
                : FileTransformationBridge.TryRegister(new[] { typeof(string).Assembly }, (f, t) => t);

        [Test]
        public void BeforeDecide_MiddlewareIsActive()
        {
            var status = new InjectionStatus();
            Assert.AreEqual(InjectionPath.Middleware, status.Path);
            Assert.IsTrue(status.MiddlewareActive);
        }

        [Test]
        public void NoWebClient_WinsOverEverything_AndTheMiddlewareStandsAside()
        {
            var status = new InjectionStatus();
            status.Decide(false, Registration(false));
            Assert.AreEqual(InjectionPath.NoWebClient, status.Path);
            Assert.IsFalse(status.MiddlewareActive);
            var json = JsonReader.Parse(status.ToJson("0.1.0"));
            Assert.AreEqual("none", json.GetString("InjectionPath"));
            StringAssert.Contains("--nowebclient", json.GetString("Detail"));
        }

        [Test]
        public void FileTransformationAbsent_MiddlewareWithTheReason()
        {
            var status = new InjectionStatus();
            status.Decide(true, Registration(false));
            Assert.AreEqual(InjectionPath.Middleware, status.Path);
            var json = JsonReader.Parse(status.ToJson("0.1.0"));
            Assert.AreEqual("middleware", json.GetString("InjectionPath"));
            StringAssert.Contains("not installed", json.GetString("Detail"));
            Assert.AreEqual("0.1.0", json.GetString("Version"));
            Assert.AreEqual(JsonKind.Null, json.Get("LastIndexHtml").Kind);
        }

        [Test]
        public void FileTransformationRegistered_ItIsThePathAndOurMiddlewareStandsAside()
        {
            var status = new InjectionStatus();
            status.Decide(true, Registration(true));
            Assert.AreEqual(InjectionPath.FileTransformation, status.Path);
            Assert.IsFalse(status.MiddlewareActive);
            var json = JsonReader.Parse(status.ToJson("0.1.0"));
            Assert.AreEqual("file-transformation", json.GetString("InjectionPath"));
            Assert.AreEqual("Registered with File Transformation 2.5.4.0.", json.GetString("Detail"));
        }

        [Test]
        public void FileTransformationRefused_BackToTheMiddleware()
        {
            var status = new InjectionStatus();
            status.Decide(true, Registration(true));
            status.Decide(true, new FileTransformationRegistration(true, false, "refused"));
            Assert.AreEqual(InjectionPath.Middleware, status.Path);
            StringAssert.EndsWith("refused", JsonReader.Parse(status.ToJson("0.1.0")).GetString("Detail"));
        }

        [Test]
        public void Record_ShowsTheLastOutcomePerFile()
        {
            var status = new InjectionStatus();
            status.Record(WebFile.Index, "Failed", 10);
            status.Record(WebFile.Index, "Rewritten", 1733000000);
            status.Record(WebFile.Config, "Unchanged", 1733000001);
            status.Record(WebFile.None, "ignored", 1);
            var json = JsonReader.Parse(status.ToJson("0.1.0"));
            Assert.AreEqual("Rewritten at 1733000000", json.GetString("LastIndexHtml"));
            Assert.AreEqual("Unchanged at 1733000001", json.GetString("LastConfigJson"));
        }

        [TestCase(InjectionPath.Middleware, "middleware")]
        [TestCase(InjectionPath.FileTransformation, "file-transformation")]
        [TestCase(InjectionPath.NoWebClient, "none")]
        public void WireName(InjectionPath path, string name)
        {
            Assert.AreEqual(name, InjectionStatus.WireName(path));
        }
    }
}
