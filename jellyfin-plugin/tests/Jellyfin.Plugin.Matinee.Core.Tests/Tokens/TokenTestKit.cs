using System;
using System.Security.Cryptography;
using System.Text;
using Jellyfin.Plugin.Matinee.Core.Json;
using Jellyfin.Plugin.Matinee.Core.Tokens;

namespace Jellyfin.Plugin.Matinee.Core.Tests.Tokens
{
    /// <summary>Shared helpers: the committed test key and an independent token checker.</summary>
    internal static class TokenTestKit
    {
        private static readonly Lazy<RSAParameters> Key = new Lazy<RSAParameters>(
            () => RsaJwk.FromPrivateJwk(TestFiles.Read("testdata", "jwt", "test-key.private.jwk.json")));

        /// <summary>The committed 2048-bit test key (public test material, never for real use).</summary>
        public static RSAParameters TestKey => Key.Value;

        public static JsonValue Vector() => JsonReader.Parse(TestFiles.Read("testdata", "jwt", "vector.json"));

        /// <summary>Splits a compact JWS, checks its RS256 signature with <paramref name="publicKey"/>, returns header and payload JSON.</summary>
        public static string[] VerifyAndDecode(string token, RSAParameters publicKey)
        {
            var parts = token.Split('.');
            if (parts.Length != 3)
            {
                throw new FormatException("not a compact JWS");
            }

            using (var rsa = RSA.Create())
            {
                rsa.ImportParameters(new RSAParameters { Modulus = publicKey.Modulus, Exponent = publicKey.Exponent });
                bool ok = rsa.VerifyData(
                    Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]),
                    Base64Url.Decode(parts[2]),
                    HashAlgorithmName.SHA256,
                    RSASignaturePadding.Pkcs1);
                if (!ok)
                {
                    throw new CryptographicException("signature does not verify");
                }
            }

            return new[]
            {
                Encoding.UTF8.GetString(Base64Url.Decode(parts[0])),
                Encoding.UTF8.GetString(Base64Url.Decode(parts[1])),
            };
        }
    }
}
