using System;
using System.IO;
using System.Security.Cryptography;
using System.Text;

namespace Jellyfin.Plugin.Matinee.Core.Tokens
{
    /// <summary>
    /// Creates the plugin's RSA signing key on first use and keeps it, as a private JWK, in the
    /// plugin's data folder, so tokens survive restarts and the session server's cached JWKS
    /// stays valid. Nothing here ever writes the private key anywhere else.
    /// </summary>
    public static class RsaKeyStore
    {
        /// <summary>The key file's name inside the data folder.</summary>
        public const string FileName = "matinee-signing-key.jwk.json";

        /// <summary>Largest key file read; a 4096-bit private JWK is ~3.3 KB.</summary>
        public const int MaxFileBytes = 64 * 1024;

        /// <summary>
        /// Loads the key from <paramref name="directory"/>, or creates a 2048-bit key there.
        /// A new file is created empty, handed to <paramref name="restrictPermissions"/> (the glue
        /// makes it owner-only with <c>File.SetUnixFileMode</c> where the platform has it), and
        /// only then filled, so the secret is never readable by others, not even for a moment. It
        /// is written under a temporary name and renamed into place, so a crash leaves no half
        /// key; if another process won the race, its key is used.
        /// </summary>
        /// <exception cref="InvalidDataException">The existing file is not a usable key; it is left untouched.</exception>
        public static RSAParameters LoadOrCreate(string directory, Action<string> restrictPermissions)
        {
            if (string.IsNullOrEmpty(directory))
            {
                throw new ArgumentException("directory required", nameof(directory));
            }

            Directory.CreateDirectory(directory);
            string path = Path.Combine(directory, FileName);
            if (File.Exists(path))
            {
                return Load(path);
            }

            RSAParameters key = CreateKey(RsaJwk.MinimumKeyBits);
            string tmp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
            try
            {
                using (new FileStream(tmp, FileMode.CreateNew, FileAccess.Write))
                {
                }

                restrictPermissions?.Invoke(tmp);
                File.WriteAllText(tmp, RsaJwk.ToPrivateJwk(key), new UTF8Encoding(false));
                try
                {
                    File.Move(tmp, path);
                }
                catch (IOException) when (File.Exists(path))
                {
                    // Another process created the key between our check and our rename.
                    return Load(path);
                }

                return key;
            }
            finally
            {
                if (File.Exists(tmp))
                {
                    File.Delete(tmp);
                }
            }
        }

        /// <summary>Reads a key file written by <see cref="LoadOrCreate"/> (or any private RSA JWK).</summary>
        /// <exception cref="InvalidDataException">Missing, too large or not a usable key.</exception>
        public static RSAParameters Load(string path)
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                throw new InvalidDataException("signing key file " + path + " does not exist");
            }

            if (info.Length > MaxFileBytes)
            {
                throw new InvalidDataException("signing key file " + path + " is too large to be a key");
            }

            try
            {
                return RsaJwk.FromPrivateJwk(File.ReadAllText(path, Encoding.UTF8));
            }
            catch (FormatException e)
            {
                throw new InvalidDataException(
                    "signing key file " + path + " is unusable (" + e.Message + "); move it away to let Matinee create a new key",
                    e);
            }
        }

        /// <summary>
        /// A fresh RSA key of at least <paramref name="bits"/> bits. <c>RSA.Create()</c> then
        /// <c>KeySize</c> is the portable way on netstandard2.0, but Mono's provider ignores the
        /// new size once created, so the size is checked and the sized constructor used instead.
        /// </summary>
        public static RSAParameters CreateKey(int bits)
        {
            if (bits < RsaJwk.MinimumKeyBits)
            {
                throw new ArgumentException("at least " + RsaJwk.MinimumKeyBits + " bits", nameof(bits));
            }

            using (var rsa = RSA.Create())
            {
                rsa.KeySize = bits;
                var p = rsa.ExportParameters(true);
                if (p.Modulus.Length * 8 >= bits)
                {
                    return p;
                }
            }

            using (var csp = new RSACryptoServiceProvider(bits))
            {
                return csp.ExportParameters(true);
            }
        }
    }
}
