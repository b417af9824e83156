using System;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Jellyfin.Plugin.Matinee.Core.Json;

namespace Jellyfin.Plugin.Matinee.Core.Tokens
{
    /// <summary>
    /// Issues the RS256 JWTs that the session server accepts in <c>hello.token</c>.
    /// <para>
    /// The bytes are fixed on purpose: header <c>{"alg":"RS256","kid":…,"typ":"JWT"}</c>, payload
    /// members in the order <c>sub,name,aud,iss,iat,nbf,exp</c>, compact. RS256 (PKCS#1 v1.5)
    /// signatures are deterministic, so the same inputs give the same token in every language;
    /// testdata/jwt/vector.json pins that token and the session server's tests verify it.
    /// </para>
    /// </summary>
    public sealed class JwtIssuer : IDisposable
    {
        /// <summary>The <c>aud</c> claim: tokens for the Matinee session server only.</summary>
        public const string Audience = "matinee";

        /// <summary>Longest user name put into a token.</summary>
        public const int MaxNameLength = 256;

        /// <summary>Longest issuer (Jellyfin server id) accepted.</summary>
        public const int MaxIssuerLength = 128;

        private static readonly Regex UserIdRx = new Regex("^[0-9a-f]{32}$", RegexOptions.CultureInvariant);

        private readonly RSA _rsa;
        private readonly object _signLock = new object();

        /// <summary>Creates an issuer that signs with <paramref name="privateKey"/>.</summary>
        /// <exception cref="ArgumentException">Not a private key, or shorter than 2048 bits.</exception>
        public JwtIssuer(RSAParameters privateKey)
        {
            if (privateKey.D == null || privateKey.Modulus == null)
            {
                throw new ArgumentException("a private key is needed to sign", nameof(privateKey));
            }

            if (RsaJwk.TrimLeadingZeros(privateKey.Modulus).Length * 8 < RsaJwk.MinimumKeyBits)
            {
                throw new ArgumentException("key shorter than " + RsaJwk.MinimumKeyBits + " bits", nameof(privateKey));
            }

            _rsa = RSA.Create();
            _rsa.ImportParameters(privateKey);
            Kid = RsaJwk.Thumbprint(privateKey);
            PublicKey = new RSAParameters { Modulus = privateKey.Modulus, Exponent = privateKey.Exponent };
        }

        /// <summary>The key id: the RFC 7638 thumbprint of the public key.</summary>
        public string Kid { get; }

        /// <summary>The public half, for the JWKS.</summary>
        public RSAParameters PublicKey { get; }

        /// <summary>The exact header JSON.</summary>
        public string HeaderJson() =>
            new JsonWriter().BeginObject().Property("alg", "RS256").Property("kid", Kid).Property("typ", "JWT").EndObject().ToString();

        /// <summary>The exact payload JSON (inputs must already be valid, see <see cref="Issue"/>).</summary>
        public static string PayloadJson(string userId, string name, string issuer, long issuedAtUnix, long expiresAtUnix) =>
            new JsonWriter().BeginObject()
                .Property("sub", userId)
                .Property("name", name)
                .Property("aud", Audience)
                .Property("iss", issuer)
                .Property("iat", issuedAtUnix)
                .Property("nbf", issuedAtUnix)
                .Property("exp", expiresAtUnix)
                .EndObject()
                .ToString();

        /// <summary>
        /// Signs a token for one Jellyfin user.
        /// </summary>
        /// <param name="userId">Jellyfin user id in "N" form: 32 lowercase hex digits, as
        /// <c>Guid.ToString("N")</c> writes it and Jellyfin serialises <c>UserDto.Id</c>. The all-zero id
        /// (what Jellyfin's auth handler gives API keys) is refused.</param>
        /// <param name="name">The user's display name (≤ <see cref="MaxNameLength"/> characters).</param>
        /// <param name="issuer">The Jellyfin server id (<c>IServerApplicationHost.SystemId</c>).</param>
        /// <param name="issuedAtUnix">Seconds since the UNIX epoch; also the <c>nbf</c>.</param>
        /// <param name="lifetimeSeconds">Seconds until <c>exp</c>; positive.</param>
        /// <exception cref="ArgumentException">Any input out of range; nothing is signed.</exception>
        public string Issue(string userId, string name, string issuer, long issuedAtUnix, long lifetimeSeconds)
        {
            if (userId == null || !UserIdRx.IsMatch(userId))
            {
                throw new ArgumentException("user id must be 32 lowercase hex digits", nameof(userId));
            }

            if (userId == new string('0', 32))
            {
                throw new ArgumentException("the empty user id (an API key) cannot get a token", nameof(userId));
            }

            if (name == null || name.Length > MaxNameLength)
            {
                throw new ArgumentException("name must be at most " + MaxNameLength + " characters", nameof(name));
            }

            if (string.IsNullOrEmpty(issuer) || issuer.Length > MaxIssuerLength)
            {
                throw new ArgumentException("issuer must be 1-" + MaxIssuerLength + " characters", nameof(issuer));
            }

            if (issuedAtUnix < 0)
            {
                throw new ArgumentException("issued-at must not be before 1970", nameof(issuedAtUnix));
            }

            if (lifetimeSeconds <= 0 || lifetimeSeconds > long.MaxValue - issuedAtUnix)
            {
                throw new ArgumentException("lifetime must be positive", nameof(lifetimeSeconds));
            }

            string signingInput = Base64Url.Encode(Encoding.UTF8.GetBytes(HeaderJson())) + "."
                + Base64Url.Encode(Encoding.UTF8.GetBytes(PayloadJson(userId, name, issuer, issuedAtUnix, issuedAtUnix + lifetimeSeconds)));
            byte[] signature;

            // RSA instances are not documented as thread-safe; a token costs ~1 ms to sign.
            lock (_signLock)
            {
                signature = _rsa.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            }

            return signingInput + "." + Base64Url.Encode(signature);
        }

        /// <inheritdoc />
        public void Dispose() => _rsa.Dispose();
    }

    /// <summary>Token lifetime policy.</summary>
    public static class TokenLifetime
    {
        /// <summary>Default lifetime: 5 minutes (the client refreshes well before).</summary>
        public const int DefaultSeconds = 300;

        /// <summary>Shortest lifetime: below this, clock skew between hosts eats the token.</summary>
        public const int MinSeconds = 30;

        /// <summary>Longest lifetime: a leaked token must not stay useful for long.</summary>
        public const int MaxSeconds = 3600;

        /// <summary>The lifetime to use for a configured value: default when unset (≤ 0), else clamped.</summary>
        public static int Effective(int configuredSeconds)
        {
            if (configuredSeconds <= 0)
            {
                return DefaultSeconds;
            }

            return Math.Min(MaxSeconds, Math.Max(MinSeconds, configuredSeconds));
        }
    }
}
