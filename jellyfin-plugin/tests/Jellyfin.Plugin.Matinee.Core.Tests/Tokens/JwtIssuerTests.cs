using System;
using System.Security.Cryptography;
using Jellyfin.Plugin.Matinee.Core.Json;
using Jellyfin.Plugin.Matinee.Core.Tokens;
using NUnit.Framework;

namespace Jellyfin.Plugin.Matinee.Core.Tests.Tokens
{
    [TestFixture]
    public class JwtIssuerTests
    {
        private const string User = "4f7c1a2b9d3e4f5a8b6c7d8e9f0a1b2c";
        private const string Server = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";

        private JwtIssuer _issuer;

        [SetUp]
        public void SetUp() => _issuer = new JwtIssuer(TokenTestKit.TestKey);

        [TearDown]
        public void TearDown() => _issuer.Dispose();

        [Test]
        public void Issue_HeaderAndClaimsExact()
        {
            string token = _issuer.Issue(User, "Alice", Server, 1700000000, 300);
            var parts = TokenTestKit.VerifyAndDecode(token, _issuer.PublicKey);
            Assert.AreEqual("{\"alg\":\"RS256\",\"kid\":\"" + _issuer.Kid + "\",\"typ\":\"JWT\"}", parts[0]);
            Assert.AreEqual(
                "{\"sub\":\"" + User + "\",\"name\":\"Alice\",\"aud\":\"matinee\",\"iss\":\"" + Server
                + "\",\"iat\":1700000000,\"nbf\":1700000000,\"exp\":1700000300}",
                parts[1]);
        }

        [Test]
        public void Issue_NameWithQuotesBackslashesControlAndNonAscii_IsEscapedAndRoundTrips()
        {
            string name = "Zoë \"Z\" \\ 日本 \ud83c\udfac\n\u0001";
            string token = _issuer.Issue(User, name, Server, 1700000000, 300);
            var payload = JsonReader.Parse(TokenTestKit.VerifyAndDecode(token, _issuer.PublicKey)[1]);
            Assert.AreEqual(name, payload.GetString("name"));
            StringAssert.Contains("\"name\":\"Zoë \\\"Z\\\" \\\\ 日本 \ud83c\udfac\\n\\u0001\"", TokenTestKit.VerifyAndDecode(token, _issuer.PublicKey)[1]);
        }

        [Test]
        public void Issue_SignatureFailsWithAnotherKey()
        {
            string token = _issuer.Issue(User, "Alice", Server, 1700000000, 300);
            var other = RsaKeyStore.CreateKey(2048);
            Assert.Throws<CryptographicException>(() => TokenTestKit.VerifyAndDecode(token, other));
        }

        [Test]
        public void Issue_TamperedPayload_FailsVerification()
        {
            string token = _issuer.Issue(User, "Alice", Server, 1700000000, 300);
            var parts = token.Split('.');
            string forged = parts[0] + "." + Base64Url.Encode(System.Text.Encoding.UTF8.GetBytes(
                JwtIssuer.PayloadJson(User, "Mallory", Server, 1700000000, 1700000300))) + "." + parts[2];
            Assert.Throws<CryptographicException>(() => TokenTestKit.VerifyAndDecode(forged, _issuer.PublicKey));
        }

        [TestCase("00000000000000000000000000000000")]
        [TestCase("4F7C1A2B9D3E4F5A8B6C7D8E9F0A1B2C")]
        [TestCase("4f7c1a2b-9d3e-4f5a-8b6c-7d8e9f0a1b2c")]
        [TestCase("4f7c1a2b9d3e4f5a8b6c7d8e9f0a1b2")]
        [TestCase("")]
        [TestCase(null)]
        public void Issue_BadOrApiKeyUserId_Refused(string userId)
        {
            Assert.Throws<ArgumentException>(() => _issuer.Issue(userId, "x", Server, 1700000000, 300));
        }

        [Test]
        public void Issue_OtherBadInputs_Refused()
        {
            Assert.Throws<ArgumentException>(() => _issuer.Issue(User, null, Server, 1700000000, 300));
            Assert.Throws<ArgumentException>(() => _issuer.Issue(User, new string('n', JwtIssuer.MaxNameLength + 1), Server, 1700000000, 300));
            Assert.Throws<ArgumentException>(() => _issuer.Issue(User, "x", string.Empty, 1700000000, 300));
            Assert.Throws<ArgumentException>(() => _issuer.Issue(User, "x", new string('s', JwtIssuer.MaxIssuerLength + 1), 1700000000, 300));
            Assert.Throws<ArgumentException>(() => _issuer.Issue(User, "x", Server, -1, 300));
            Assert.Throws<ArgumentException>(() => _issuer.Issue(User, "x", Server, 1700000000, 0));
            Assert.Throws<ArgumentException>(() => _issuer.Issue(User, "x", Server, 1700000000, long.MaxValue));
        }

        [Test]
        public void Constructor_ShortOrPublicOnlyKey_Refused()
        {
            using (var small = new RSACryptoServiceProvider(1024))
            {
                Assert.Throws<ArgumentException>(() => new JwtIssuer(small.ExportParameters(true)));
            }

            Assert.Throws<ArgumentException>(() => new JwtIssuer(new RSAParameters { Modulus = TokenTestKit.TestKey.Modulus, Exponent = TokenTestKit.TestKey.Exponent }));
        }

        [TestCase(0, 300)]
        [TestCase(-5, 300)]
        [TestCase(1, 30)]
        [TestCase(30, 30)]
        [TestCase(300, 300)]
        [TestCase(3600, 3600)]
        [TestCase(86400, 3600)]
        public void TokenLifetime_Effective(int configured, int expected)
        {
            Assert.AreEqual(expected, TokenLifetime.Effective(configured));
        }
    }
}
