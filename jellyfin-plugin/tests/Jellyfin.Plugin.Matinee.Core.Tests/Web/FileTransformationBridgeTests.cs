using System;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text.RegularExpressions;
using Jellyfin.Plugin.Matinee.Core.Json;
using Jellyfin.Plugin.Matinee.Core.Web;
using NUnit.Framework;

namespace Jellyfin.Plugin.Matinee.Core.Tests.Web
{
    /// <summary>
    /// Registration with the File Transformation plugin, against tests/stand-ins/FileTransformation
    /// (the real plugin's public shapes, compiled by run-mono.sh as Jellyfin.Plugin.FileTransformation.dll
    /// next to this test assembly) — found and called by reflection, as on a server.
    /// </summary>
    [TestFixture]
    public class FileTransformationBridgeTests
    {
        private Assembly _standIn;
        private Type _plugin;

        private static string Rewrite(WebFile file, string text) => WebFileRewrite.Apply(file, text, "/jf", "0.1.0.11").Text;

        [SetUp]
        public void SetUp()
        {
            string path = Path.Combine(Path.GetDirectoryName(typeof(FileTransformationBridgeTests).Assembly.Location), FileTransformationBridge.AssemblyName + ".dll");
            if (!File.Exists(path))
            {
                Assert.Fail("the File Transformation stand-in was not built next to the tests: " + path + " (tests/run-mono.sh builds it)");
            }

            _standIn = Assembly.LoadFrom(path);
            _plugin = _standIn.GetType(FileTransformationBridge.PluginInterfaceTypeName, true);
            _plugin.GetMethod("Reset").Invoke(null, null);
        }

        private string Serve(string subPath, string contents) =>
            (string)_plugin.GetMethod("Serve").Invoke(null, new object[] { subPath, contents });

        [Test]
        public void Absent_NotFoundAndNothingRegistered()
        {
            var result = FileTransformationBridge.TryRegister(new[] { typeof(string).Assembly, typeof(FileTransformationBridge).Assembly }, Rewrite);

            Assert.IsFalse(result.Found);
            Assert.IsFalse(result.Registered);
            StringAssert.Contains("not installed", result.Detail);
            Assert.IsNull(FileTransformationBridge.FindRegisterMethod(AppDomain.CurrentDomain.GetAssemblies().Where(a => a != _standIn)));
        }

        [Test]
        public void Present_RegistersBothFiles_AndItsServingAppliesOurRewrites()
        {
            var result = FileTransformationBridge.TryRegister(AppDomain.CurrentDomain.GetAssemblies(), Rewrite);

            Assert.IsTrue(result.Found, result.Detail);
            Assert.IsTrue(result.Registered, result.Detail);
            Assert.AreEqual(2, (int)_plugin.GetProperty("Count").GetValue(null, null));

            string index = TestFiles.Fixture("10.11.11", "index.html");
            string served = Serve("/index.html", index);
            Assert.AreEqual(IndexHtmlRewriter.Rewrite(index, "/jf", "0.1.0.11").Html, served);
            StringAssert.Contains("src=\"/jf/Matinee/ClientScript?v=0.1.0.11\"", served);

            string config = TestFiles.Fixture("10.10.7", "config.json");
            Assert.AreEqual(ConfigJsonRewriter.Rewrite(config).Json, Serve("/config.json", config));

            // Other files and other folders' index.html are not ours.
            Assert.IsNull(Serve("/main.jellyfin.bundle.js", "x"));
            Assert.IsNull(Serve("/dashboard/index.html", "x"));
            Assert.IsNull(Serve("/index.html.bak", "x"));
        }

        [Test]
        public void RegisteringTwice_ReplacesRatherThanDuplicates()
        {
            FileTransformationBridge.TryRegister(AppDomain.CurrentDomain.GetAssemblies(), Rewrite);
            FileTransformationBridge.TryRegister(AppDomain.CurrentDomain.GetAssemblies(), Rewrite);
            Assert.AreEqual(2, (int)_plugin.GetProperty("Count").GetValue(null, null));
        }

        [Test]
        public void RegistrationRefused_ReportedAsFoundButNotRegistered()
        {
            _plugin.GetField("FailNext").SetValue(null, new NullReferenceException("Instance is null"));

            var result = FileTransformationBridge.TryRegister(AppDomain.CurrentDomain.GetAssemblies(), Rewrite);

            Assert.IsTrue(result.Found);
            Assert.IsFalse(result.Registered);
            StringAssert.Contains("NullReferenceException: Instance is null", result.Detail);
        }

        [Test]
        public void SecondRegistrationRefused_NotRegistered_AndTheMiddlewareRewritingAgainLeavesOneTag()
        {
            _plugin.GetField("FailNext").SetValue(null, new InvalidOperationException("busy"));
            _plugin.GetField("FailAfter").SetValue(null, 1);

            var result = FileTransformationBridge.TryRegister(AppDomain.CurrentDomain.GetAssemblies(), Rewrite);

            Assert.IsTrue(result.Found);
            Assert.IsFalse(result.Registered, "half a registration is no registration: the middleware takes over");
            Assert.AreEqual(1, (int)_plugin.GetProperty("Count").GetValue(null, null), "index.html was registered before the refusal");

            // File Transformation still changes index.html; the middleware then rewrites that page again.
            string index = TestFiles.Fixture("10.11.11", "index.html");
            string twice = WebFileRewrite.Apply(WebFile.Index, Serve("/index.html", index), "/jf", "0.1.0.11").Text;
            Assert.AreEqual(IndexHtmlRewriter.Rewrite(index, "/jf", "0.1.0.11").Html, twice);
        }

        [Test]
        public void Callback_FailsOpen_NeverReturnsNull()
        {
            FileTransformationBridge.TryRegister(AppDomain.CurrentDomain.GetAssemblies(), (f, t) => { throw new InvalidOperationException("boom"); });
            Assert.AreEqual("<html>as shipped</html>", Serve("/index.html", "<html>as shipped</html>"));

            FileTransformationBridge.TryRegister(AppDomain.CurrentDomain.GetAssemblies(), (f, t) => null);
            Assert.AreEqual("{\"plugins\":[\"MatineePlugin\"]}", Serve("config.json", "{\"plugins\":[\"MatineePlugin\"]}"));

            Assert.AreEqual(string.Empty, FileTransformationBridge.TransformIndex(null));
            Assert.AreEqual(string.Empty, FileTransformationBridge.TransformConfig(new FileTransformationContents()));
        }

        [Test]
        public void Payload_HasTheFieldsOfTransformationRegistrationPayload()
        {
            var method = typeof(FileTransformationBridge).GetMethod(nameof(FileTransformationBridge.TransformIndex));
            var payload = JsonReader.Parse(FileTransformationBridge.PayloadJson(FileTransformationBridge.IndexTransformationId, FileTransformationBridge.IndexPattern, method));

            CollectionAssert.AreEquivalent(
                new[] { "id", "fileNamePattern", "callbackAssembly", "callbackClass", "callbackMethod" },
                payload.Members.Select(m => m.Key).ToArray());
            Assert.AreEqual(FileTransformationBridge.IndexTransformationId, Guid.Parse(payload.GetString("id")));
            Assert.AreEqual(typeof(FileTransformationBridge).Assembly.FullName, payload.GetString("callbackAssembly"));
            Assert.AreEqual("Jellyfin.Plugin.Matinee.Core.Web.FileTransformationBridge", payload.GetString("callbackClass"));
            Assert.AreEqual("TransformIndex", payload.GetString("callbackMethod"));
            Assert.IsTrue(method.IsStatic && method.IsPublic && method.ReturnType == typeof(string));
        }

        [TestCase("/index.html", true)]
        [TestCase("index.html", true)]
        [TestCase("/Index.html", false)]
        [TestCase("/a/index.html", false)]
        [TestCase("/index.htmlx", false)]
        public void IndexPattern_MatchesBothFormsFileTransformationTests(string path, bool matches)
        {
            Assert.AreEqual(matches, Regex.IsMatch(path, FileTransformationBridge.IndexPattern));
            Assert.AreEqual(matches, Regex.IsMatch(path.Replace("index.html", "config.json").Replace("Index.html", "Config.json"), FileTransformationBridge.ConfigPattern));
        }
    }
}
