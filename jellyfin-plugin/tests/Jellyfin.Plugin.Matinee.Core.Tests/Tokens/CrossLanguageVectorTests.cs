using Jellyfin.Plugin.Matinee.Core.Json;
using Jellyfin.Plugin.Matinee.Core.Tokens;
using NUnit.Framework;

namespace Jellyfin.Plugin.Matinee.Core.Tests.Tokens
{
    /// <summary>
    /// testdata/jwt/vector.json: the token every implementation must agree on byte for byte.
    /// The session server's tests verify the same token.
    /// </summary>
    [TestFixture]
    public class CrossLanguageVectorTests
    {
        [Test]
        public void Kid_IsTheCommittedThumbprint()
        {
            var v = TokenTestKit.Vector();
            Assert.AreEqual(v.GetString("kid"), RsaJwk.Thumbprint(TokenTestKit.TestKey));
            using (var issuer = new JwtIssuer(TokenTestKit.TestKey))
            {
                Assert.AreEqual(v.GetString("kid"), issuer.Kid);
            }
        }

        [Test]
        public void HeaderAndPayloadJson_AreByteIdentical()
        {
            var v = TokenTestKit.Vector();
            var inputs = v.Get("issuer_inputs");
            long iat = long.Parse(inputs.Get("issued_at_unix").Text);
            long lifetime = long.Parse(inputs.Get("lifetime_seconds").Text);
            using (var issuer = new JwtIssuer(TokenTestKit.TestKey))
            {
                Assert.AreEqual(v.GetString("header_json"), issuer.HeaderJson());
                Assert.AreEqual(
                    v.GetString("payload_json"),
                    JwtIssuer.PayloadJson(inputs.GetString("user_id"), inputs.GetString("name"), inputs.GetString("server_id"), iat, iat + lifetime));
            }
        }

        [Test]
        public void Token_IsByteIdentical()
        {
            var v = TokenTestKit.Vector();
            var inputs = v.Get("issuer_inputs");
            using (var issuer = new JwtIssuer(TokenTestKit.TestKey))
            {
                string token = issuer.Issue(
                    inputs.GetString("user_id"),
                    inputs.GetString("name"),
                    inputs.GetString("server_id"),
                    long.Parse(inputs.Get("issued_at_unix").Text),
                    long.Parse(inputs.Get("lifetime_seconds").Text));
                Assert.AreEqual(v.GetString("token"), token);
            }
        }

        [Test]
        public void Jwks_MatchesTheCommittedDocument()
        {
            var committed = JsonReader.Parse(TestFiles.Read("testdata", "jwt", "jwks.json"));
            var ours = JsonReader.Parse(RsaJwk.JwksDocument(TokenTestKit.TestKey));
            Assert.AreEqual(1, ours.Members.Count);
            var expectedKey = committed.Get("keys").Items[0];
            var key = ours.Get("keys").Items[0];
            Assert.AreEqual(1, ours.Get("keys").Items.Count);
            Assert.AreEqual(expectedKey.Members.Count, key.Members.Count);
            foreach (var m in expectedKey.Members)
            {
                Assert.AreEqual(m.Value.Text, key.GetString(m.Key), m.Key);
            }
        }

        [Test]
        public void Jwks_IsExactlyTheExpectedShape()
        {
            string jwks = RsaJwk.JwksDocument(TokenTestKit.TestKey);
            var v = TokenTestKit.Vector();
            StringAssert.StartsWith("{\"keys\":[{\"kty\":\"RSA\",\"use\":\"sig\",\"alg\":\"RS256\",\"kid\":\"" + v.GetString("kid") + "\",\"n\":\"", jwks);
            StringAssert.EndsWith("\",\"e\":\"AQAB\"}]}", jwks);
            StringAssert.DoesNotContain("\"d\"", jwks);
        }
    }
}
