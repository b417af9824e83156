using System.Collections.Generic;
using Jellyfin.Plugin.Matinee.Core.Tokens;
using NUnit.Framework;

namespace Jellyfin.Plugin.Matinee.Core.Tests.Tokens
{
    /// <summary>
    /// The claim sets below are the ones Jellyfin.Api/Auth/CustomAuthenticationHandler.cs builds
    /// (v10.10.7 and v10.11.11): Name, Role, Jellyfin-UserId = UserId.ToString("N"), DeviceId,
    /// Device, Client, Version, Token, Jellyfin-IsApiKey = IsApiKey.ToString(CultureInfo.InvariantCulture).
    /// </summary>
    [TestFixture]
    public class JellyfinClaimsTests
    {
        private const string UserId = "5b3c1a2e9f8d4c7b8a6e5d4c3b2a1f0e";

        private static List<KeyValuePair<string, string>> Claims(string userId, string isApiKey)
        {
            return new List<KeyValuePair<string, string>>
            {
                new KeyValuePair<string, string>("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name", "alice"),
                new KeyValuePair<string, string>("http://schemas.microsoft.com/ws/2008/06/identity/claims/role", "User"),
                new KeyValuePair<string, string>("Jellyfin-UserId", userId),
                new KeyValuePair<string, string>("Jellyfin-DeviceId", "dev1"),
                new KeyValuePair<string, string>("Jellyfin-Device", "Firefox"),
                new KeyValuePair<string, string>("Jellyfin-Client", "Jellyfin Web"),
                new KeyValuePair<string, string>("Jellyfin-Version", "10.11.11"),
                new KeyValuePair<string, string>("Jellyfin-Token", "secret"),
                new KeyValuePair<string, string>("Jellyfin-IsApiKey", isApiKey),
            };
        }

        [Test]
        public void SignedInUser_GetsTheirIdAsSubject()
        {
            Assert.AreEqual(UserId, JellyfinClaims.TokenSubject(Claims(UserId, "False")));
        }

        [Test]
        public void ApiKey_AsTheHandlerWritesIt_IsRefused()
        {
            // An API key: Guid.Empty.ToString("N") and "True".
            Assert.IsNull(JellyfinClaims.TokenSubject(Claims("00000000000000000000000000000000", "True")));
        }

        [Test]
        public void ApiKeyFlag_RefusesEvenWithAUserId()
        {
            Assert.IsNull(JellyfinClaims.TokenSubject(Claims(UserId, "True")));
            Assert.IsNull(JellyfinClaims.TokenSubject(Claims(UserId, "true")));
        }

        [TestCase("")]
        [TestCase(null)]
        [TestCase("not-a-guid")]
        [TestCase("00000000000000000000000000000000")]
        public void NoUsableUserId_IsRefused(string userId)
        {
            Assert.IsNull(JellyfinClaims.TokenSubject(Claims(userId, "False")));
        }

        [Test]
        public void ClaimNames_AreJellyfinsInternalClaimTypes_ComparedWithoutCase()
        {
            Assert.AreEqual("Jellyfin-UserId", JellyfinClaims.UserIdClaim);
            Assert.AreEqual("Jellyfin-IsApiKey", JellyfinClaims.IsApiKeyClaim);
            var lower = new List<KeyValuePair<string, string>>
            {
                new KeyValuePair<string, string>("jellyfin-userid", "5B3C1A2E-9F8D-4C7B-8A6E-5D4C3B2A1F0E"),
                new KeyValuePair<string, string>("jellyfin-isapikey", "False"),
            };
            Assert.AreEqual(UserId, JellyfinClaims.TokenSubject(lower), "any Guid form comes out as 32 lower-case digits");
        }

        [Test]
        public void NoClaims_IsRefused()
        {
            Assert.IsNull(JellyfinClaims.TokenSubject(null));
            Assert.IsNull(JellyfinClaims.TokenSubject(new List<KeyValuePair<string, string>>()));
        }
    }
}
