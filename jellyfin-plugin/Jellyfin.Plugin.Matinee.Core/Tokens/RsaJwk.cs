using System;
using System.Security.Cryptography;
using System.Text;
using Jellyfin.Plugin.Matinee.Core.Json;

namespace Jellyfin.Plugin.Matinee.Core.Tokens
{
    /// <summary>RSA keys as JSON Web Keys (RFC 7517/7518) and their RFC 7638 thumbprints.</summary>
    public static class RsaJwk
    {
        /// <summary>Smallest modulus accepted, in bits, for keys we create and keys we load.</summary>
        public const int MinimumKeyBits = 2048;

        /// <summary>
        /// The RFC 7638 SHA-256 thumbprint (base64url) of the public key: the hash of exactly
        /// <c>{"e":"…","kty":"RSA","n":"…"}</c> — required members only, in lexicographic order,
        /// no whitespace. This is the <c>kid</c> the session server looks up in the JWKS.
        /// </summary>
        public static string Thumbprint(RSAParameters key)
        {
            string canonical = "{\"e\":\"" + Base64Url.Encode(TrimLeadingZeros(key.Exponent))
                + "\",\"kty\":\"RSA\",\"n\":\"" + Base64Url.Encode(TrimLeadingZeros(key.Modulus)) + "\"}";
            using (var sha = SHA256.Create())
            {
                return Base64Url.Encode(sha.ComputeHash(Encoding.UTF8.GetBytes(canonical)));
            }
        }

        /// <summary>The public key as one JWKS entry: <c>{"kty","use","alg","kid","n","e"}</c>.</summary>
        public static void WritePublic(JsonWriter w, RSAParameters key)
        {
            w.BeginObject()
                .Property("kty", "RSA")
                .Property("use", "sig")
                .Property("alg", "RS256")
                .Property("kid", Thumbprint(key))
                .Property("n", Base64Url.Encode(TrimLeadingZeros(key.Modulus)))
                .Property("e", Base64Url.Encode(TrimLeadingZeros(key.Exponent)))
                .EndObject();
        }

        /// <summary>
        /// The JWKS document served at <c>GET /Matinee/Jwks</c>:
        /// <c>{"keys":[{"kty":"RSA","use":"sig","alg":"RS256","kid":…,"n":…,"e":…}]}</c>.
        /// </summary>
        public static string JwksDocument(params RSAParameters[] keys)
        {
            var w = new JsonWriter().BeginObject().Name("keys").BeginArray();
            foreach (var k in keys)
            {
                WritePublic(w, k);
            }

            return w.EndArray().EndObject().ToString();
        }

        /// <summary>The private key as a JWK (what the key file holds). Never serve this.</summary>
        public static string ToPrivateJwk(RSAParameters key)
        {
            if (key.D == null || key.P == null || key.Q == null || key.DP == null || key.DQ == null || key.InverseQ == null)
            {
                throw new ArgumentException("not a private key with CRT parameters", nameof(key));
            }

            return new JsonWriter().BeginObject()
                .Property("kty", "RSA")
                .Property("use", "sig")
                .Property("alg", "RS256")
                .Property("kid", Thumbprint(key))
                .Property("n", Base64Url.Encode(TrimLeadingZeros(key.Modulus)))
                .Property("e", Base64Url.Encode(TrimLeadingZeros(key.Exponent)))
                .Property("d", Base64Url.Encode(key.D))
                .Property("p", Base64Url.Encode(key.P))
                .Property("q", Base64Url.Encode(key.Q))
                .Property("dp", Base64Url.Encode(key.DP))
                .Property("dq", Base64Url.Encode(key.DQ))
                .Property("qi", Base64Url.Encode(key.InverseQ))
                .EndObject()
                .ToString();
        }

        /// <summary>
        /// Reads a private RSA JWK. Every member is checked; lengths are normalised to what
        /// <see cref="RSA.ImportParameters"/> requires (D as long as the modulus, the CRT values
        /// half as long), because JWK writers may drop leading zero octets.
        /// </summary>
        /// <exception cref="FormatException">Not a complete private RSA JWK of at least <see cref="MinimumKeyBits"/> bits.</exception>
        public static RSAParameters FromPrivateJwk(string json)
        {
            JsonValue root;
            try
            {
                root = JsonReader.Parse(json);
            }
            catch (JsonParseException e)
            {
                throw new FormatException("key file is not valid JSON: " + e.Message, e);
            }

            if (root.Kind != JsonKind.Object)
            {
                throw new FormatException("key file is not a JSON object");
            }

            if (root.GetString("kty") != "RSA")
            {
                throw new FormatException("key file: kty must be \"RSA\"");
            }

            byte[] n = TrimLeadingZeros(Member(root, "n"));
            if (n.Length * 8 < MinimumKeyBits)
            {
                throw new FormatException("key file: modulus shorter than " + MinimumKeyBits + " bits");
            }

            int half = (n.Length + 1) / 2;
            var p = new RSAParameters
            {
                Modulus = n,
                Exponent = TrimLeadingZeros(Member(root, "e")),
                D = LeftPad(Member(root, "d"), n.Length, "d"),
                P = LeftPad(Member(root, "p"), half, "p"),
                Q = LeftPad(Member(root, "q"), half, "q"),
                DP = LeftPad(Member(root, "dp"), half, "dp"),
                DQ = LeftPad(Member(root, "dq"), half, "dq"),
                InverseQ = LeftPad(Member(root, "qi"), half, "qi"),
            };
            return p;
        }

        /// <summary>Drops leading zero octets (JWK wants the minimal big-endian form of n and e).</summary>
        public static byte[] TrimLeadingZeros(byte[] value)
        {
            if (value == null)
            {
                throw new ArgumentNullException(nameof(value));
            }

            int i = 0;
            while (i < value.Length - 1 && value[i] == 0)
            {
                i++;
            }

            if (i == 0)
            {
                return value;
            }

            var r = new byte[value.Length - i];
            Array.Copy(value, i, r, 0, r.Length);
            return r;
        }

        private static byte[] Member(JsonValue root, string name)
        {
            string s = root.GetString(name);
            if (string.IsNullOrEmpty(s))
            {
                throw new FormatException("key file: missing \"" + name + "\"");
            }

            try
            {
                return Base64Url.Decode(s);
            }
            catch (FormatException e)
            {
                throw new FormatException("key file: \"" + name + "\" is not base64url", e);
            }
        }

        private static byte[] LeftPad(byte[] value, int length, string name)
        {
            value = TrimLeadingZeros(value);
            if (value.Length > length)
            {
                throw new FormatException("key file: \"" + name + "\" is longer than the modulus allows");
            }

            if (value.Length == length)
            {
                return value;
            }

            var r = new byte[length];
            Array.Copy(value, 0, r, length - value.Length, value.Length);
            return r;
        }
    }
}
