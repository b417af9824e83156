// The Matinee plugin's Core, driven over stdin/stdout so the Jellyfin stand-in serves exactly
// what the plugin serves: compiled with Mono's mcs against jellyfin-plugin/Jellyfin.Plugin.Matinee.Core
// at test time (lib/core.js), like jellyfin-plugin/tests/run-mono.sh compiles Core. Nothing here
// rewrites, signs or classifies on its own; every answer comes from a Core call.
//
// One request per line, tab-separated, text fields base64 (UTF-8); one answer per line:
//   classify <pathBase> <path>                 -> ok <None|Index|Config> <b64 baseUrl>
//   index <b64 html> <b64 baseUrl> <version>   -> ok <outcome> <b64 html>
//   config <b64 json>                          -> ok <outcome> <b64 json>
//   asset <b64 path>                           -> ok <b64 resource name or ""> <b64 content type or "">
//   token <userId> <b64 name> <issuer> <iat> <lifetime> -> ok <jwt>
//   lifetime <configured>                      -> ok <effective seconds>
//   serverurl <b64 url>                        -> ok <b64 normalized or "">
//   control <b64 value>                        -> ok <b64 normalized>
//   jwks                                       -> ok <b64 jwks>
// Errors: "err <b64 message>" (the line is answered, the process goes on).
// Argument: the private JWK file (the plugin's key file format, RsaKeyStore/RsaJwk).
using System;
using System.IO;
using System.Text;
using Jellyfin.Plugin.Matinee.Core.Settings;
using Jellyfin.Plugin.Matinee.Core.Tokens;
using Jellyfin.Plugin.Matinee.Core.Web;

internal static class CoreCli
{
    private static string B(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s ?? string.Empty));

    private static string U(string b64) => Encoding.UTF8.GetString(Convert.FromBase64String(b64));

    private static int Main(string[] args)
    {
        var key = RsaJwk.FromPrivateJwk(File.ReadAllText(args[0]));
        using (var issuer = new JwtIssuer(key))
        {
            var stdout = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false)) { AutoFlush = true, NewLine = "\n" };
            string line;
            while ((line = Console.In.ReadLine()) != null)
            {
                string answer;
                try
                {
                    answer = "ok\t" + Handle(line.Split('\t'), issuer);
                }
                catch (Exception e)
                {
                    answer = "err\t" + B(e.GetType().Name + ": " + e.Message);
                }

                stdout.WriteLine(answer);
            }
        }

        return 0;
    }

    private static string Handle(string[] a, JwtIssuer issuer)
    {
        switch (a[0])
        {
            case "classify":
            {
                var m = WebPaths.Classify(U(a[1]), U(a[2]));
                return m.File + "\t" + B(m.BaseUrl);
            }

            case "index":
            {
                var r = IndexHtmlRewriter.Rewrite(U(a[1]), U(a[2]), a[3]);
                return r.Outcome + "\t" + B(r.Html);
            }

            case "config":
            {
                var r = ConfigJsonRewriter.Rewrite(U(a[1]));
                return r.Outcome + "\t" + B(r.Json);
            }

            case "asset":
            {
                string path = U(a[1]);
                return B(ClientAssets.ResourceNameFor(path)) + "\t" + B(ClientAssets.ContentTypeFor(path));
            }

            case "token":
                return issuer.Issue(a[1], U(a[2]), a[3], long.Parse(a[4]), long.Parse(a[5]));

            case "lifetime":
                return TokenLifetime.Effective(int.Parse(a[1])).ToString();

            case "serverurl":
                return B(SettingsRules.NormalizeServerUrl(U(a[1])));

            case "control":
                return B(SettingsRules.NormalizeControl(U(a[1])));

            case "jwks":
                return B(RsaJwk.JwksDocument(issuer.PublicKey));

            default:
                throw new ArgumentException("unknown command " + a[0]);
        }
    }
}
