using System;

namespace Jellyfin.Plugin.Matinee.Core
{
    /// <summary>Base64url without padding (RFC 4648 §5), as JWS and JWK use it.</summary>
    public static class Base64Url
    {
        /// <summary>Encodes bytes.</summary>
        public static string Encode(byte[] data)
        {
            if (data == null)
            {
                throw new ArgumentNullException(nameof(data));
            }

            return Convert.ToBase64String(data).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        }

        /// <summary>Decodes text; rejects the standard alphabet's <c>+</c>/<c>/</c>, padding and whitespace.</summary>
        /// <exception cref="FormatException">Not base64url.</exception>
        public static byte[] Decode(string text)
        {
            if (text == null)
            {
                throw new ArgumentNullException(nameof(text));
            }

            foreach (char c in text)
            {
                bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
                if (!ok)
                {
                    throw new FormatException("not base64url: unexpected character");
                }
            }

            if (text.Length % 4 == 1)
            {
                throw new FormatException("not base64url: impossible length");
            }

            string s = text.Replace('-', '+').Replace('_', '/');
            s += new string('=', (4 - (s.Length % 4)) % 4);
            return Convert.FromBase64String(s);
        }
    }
}
