using System;
using System.Diagnostics;
using System.IO;
using Jellyfin.Plugin.Matinee.Core.Tokens;
using NUnit.Framework;

namespace Jellyfin.Plugin.Matinee.Core.Tests.Tokens
{
    [TestFixture]
    public class RsaKeyStoreTests
    {
        private string _dir;

        [SetUp]
        public void SetUp()
        {
            _dir = Path.Combine(Path.GetTempPath(), "matinee-keystore-" + Guid.NewGuid().ToString("N"));
        }

        [TearDown]
        public void TearDown()
        {
            if (Directory.Exists(_dir))
            {
                Directory.Delete(_dir, true);
            }
        }

        [Test]
        public void LoadOrCreate_CreatesA2048BitKey_ThenLoadsTheSameKey()
        {
            var created = RsaKeyStore.LoadOrCreate(_dir, null);
            Assert.AreEqual(256, created.Modulus.Length);
            string path = Path.Combine(_dir, RsaKeyStore.FileName);
            Assert.IsTrue(File.Exists(path));
            string fileText = File.ReadAllText(path);

            var loaded = RsaKeyStore.LoadOrCreate(_dir, p => Assert.Fail("must not create a second key"));
            Assert.AreEqual(RsaJwk.Thumbprint(created), RsaJwk.Thumbprint(loaded));
            Assert.AreEqual(fileText, File.ReadAllText(path), "loading does not rewrite the file");
            Assert.AreEqual(1, Directory.GetFiles(_dir).Length, "no temporary files left behind");

            // A token signed with the reloaded key verifies with the first key's public half.
            using (var issuer = new JwtIssuer(loaded))
            {
                string token = issuer.Issue("4f7c1a2b9d3e4f5a8b6c7d8e9f0a1b2c", "A", "srv", 1700000000, 300);
                TokenTestKit.VerifyAndDecode(token, created);
            }
        }

        [Test]
        public void LoadOrCreate_PermissionsRestrictedBeforeTheSecretIsWritten()
        {
            string seen = null;
            long sizeWhenRestricted = -1;
            RsaKeyStore.LoadOrCreate(_dir, p =>
            {
                seen = p;
                sizeWhenRestricted = new FileInfo(p).Length;
            });
            Assert.IsNotNull(seen);
            Assert.AreEqual(0, sizeWhenRestricted, "the file is still empty when its permissions are set");
            Assert.IsFalse(File.Exists(seen), "the temporary file was renamed into place");
        }

        [Test]
        public void LoadOrCreate_WithChmod_KeyFileIsOwnerOnly()
        {
            if (!File.Exists("/bin/chmod") || !File.Exists("/usr/bin/stat"))
            {
                Assert.Ignore("needs a Unix chmod and stat");
            }

            RsaKeyStore.LoadOrCreate(_dir, p => Run("/bin/chmod", "600 " + p));
            Assert.AreEqual("600", Run("/usr/bin/stat", "-c %a " + Path.Combine(_dir, RsaKeyStore.FileName)).Trim());
        }

        [Test]
        public void LoadOrCreate_PermissionHookFails_NoKeyIsWritten()
        {
            Assert.Throws<UnauthorizedAccessException>(() =>
                RsaKeyStore.LoadOrCreate(_dir, p => { throw new UnauthorizedAccessException("no chmod"); }));
            Assert.AreEqual(0, Directory.GetFiles(_dir).Length);
        }

        [TestCase("")]
        [TestCase("not json")]
        [TestCase("{\"kty\":\"EC\"}")]
        [TestCase("{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}")]
        public void LoadOrCreate_CorruptFile_ThrowsAndLeavesItUntouched(string content)
        {
            Directory.CreateDirectory(_dir);
            string path = Path.Combine(_dir, RsaKeyStore.FileName);
            File.WriteAllText(path, content);
            var e = Assert.Throws<InvalidDataException>(() => RsaKeyStore.LoadOrCreate(_dir, null));
            StringAssert.Contains("move it away", e.Message);
            Assert.AreEqual(content, File.ReadAllText(path));
        }

        [Test]
        public void LoadOrCreate_PublicOnlyJwk_IsRefused()
        {
            Directory.CreateDirectory(_dir);
            File.WriteAllText(Path.Combine(_dir, RsaKeyStore.FileName), TestFiles.Read("testdata", "jwt", "jwks.json"));
            Assert.Throws<InvalidDataException>(() => RsaKeyStore.LoadOrCreate(_dir, null));
        }

        [Test]
        public void PrivateJwk_RoundTrip_KeepsTheKey()
        {
            string jwk = RsaJwk.ToPrivateJwk(TokenTestKit.TestKey);
            var back = RsaJwk.FromPrivateJwk(jwk);
            Assert.AreEqual(RsaJwk.Thumbprint(TokenTestKit.TestKey), RsaJwk.Thumbprint(back));
            CollectionAssert.AreEqual(TokenTestKit.TestKey.D, back.D);
            CollectionAssert.AreEqual(TokenTestKit.TestKey.InverseQ, back.InverseQ);
        }

        [Test]
        public void CreateKey_BelowMinimum_Refused()
        {
            Assert.Throws<ArgumentException>(() => RsaKeyStore.CreateKey(1024));
        }

        private static string Run(string file, string args)
        {
            var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, UseShellExecute = false };
            using (var p = Process.Start(psi))
            {
                string output = p.StandardOutput.ReadToEnd();
                p.WaitForExit();
                Assert.AreEqual(0, p.ExitCode, file + " " + args);
                return output;
            }
        }
    }
}
