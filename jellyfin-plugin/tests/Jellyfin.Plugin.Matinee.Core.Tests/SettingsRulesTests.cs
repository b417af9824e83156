using Jellyfin.Plugin.Matinee.Core.Settings;
using NUnit.Framework;

namespace Jellyfin.Plugin.Matinee.Core.Tests
{
    [TestFixture]
    public class SettingsRulesTests
    {
        [TestCase("https://watch.example.org", "https://watch.example.org")]
        [TestCase("  https://Watch.Example.org/  ", "https://watch.example.org")]
        [TestCase("https://example.org:8443/matinee/", "https://example.org:8443/matinee")]
        [TestCase("http://127.0.0.1:3000", "http://127.0.0.1:3000")]
        [TestCase("wss://example.org/party", "wss://example.org/party")]
        [TestCase("HTTPS://example.org", "https://example.org")]
        public void NormalizeServerUrl_Accepts(string input, string expected)
        {
            Assert.AreEqual(expected, SettingsRules.NormalizeServerUrl(input));
        }

        [TestCase(null)]
        [TestCase("")]
        [TestCase("   ")]
        [TestCase("example.org")]
        [TestCase("/relative")]
        [TestCase("ftp://example.org")]
        [TestCase("javascript:alert(1)")]
        [TestCase("https://user:pass@example.org")]
        [TestCase("https://example.org/?token=x")]
        [TestCase("https://example.org/#frag")]
        [TestCase("file:///etc/passwd")]
        public void NormalizeServerUrl_Refuses(string input)
        {
            Assert.IsNull(SettingsRules.NormalizeServerUrl(input));
        }

        [Test]
        public void NormalizeServerUrl_Overlong_Refused()
        {
            Assert.IsNull(SettingsRules.NormalizeServerUrl("https://example.org/" + new string('a', SettingsRules.MaxServerUrlLength)));
        }

        [TestCase("", 300, "host")]
        [TestCase("https://watch.example.org", 30, "shared")]
        [TestCase("https://watch.example.org/", 3600, "Host")]
        public void Validate_Accepts(string url, int lifetime, string control)
        {
            Assert.IsNull(SettingsRules.Validate(url, lifetime, control));
        }

        [TestCase("watch.example.org", 300, "host", "URL")]
        [TestCase("https://u:p@example.org", 300, "host", "URL")]
        [TestCase("https://example.org", 29, "host", "lifetime")]
        [TestCase("https://example.org", 3601, "host", "lifetime")]
        [TestCase("https://example.org", 0, "host", "lifetime")]
        [TestCase("https://example.org", 300, "anarchy", "control")]
        [TestCase("https://example.org", 300, null, "control")]
        public void Validate_Refuses_WithAClearMessage(string url, int lifetime, string control, string mentions)
        {
            string problem = SettingsRules.Validate(url, lifetime, control);
            Assert.IsNotNull(problem);
            StringAssert.Contains(mentions, problem);
        }

        [TestCase("shared", "shared")]
        [TestCase("Shared", "shared")]
        [TestCase("host", "host")]
        [TestCase("", "host")]
        [TestCase(null, "host")]
        [TestCase("anarchy", "host")]
        public void NormalizeControl(string input, string expected)
        {
            Assert.AreEqual(expected, SettingsRules.NormalizeControl(input));
        }
    }
}
