// A stand-in for the File Transformation plugin (IAmParadox27/jellyfin-plugin-file-transformation,
// 2.5.4.0), compiled by tests/run-mono.sh into an assembly with the real one's name,
// Jellyfin.Plugin.FileTransformation.dll, so that Matinee's reflection finds it exactly as it
// would on a server. It keeps the shapes of the real source and nothing more:
//   - PluginInterface.RegisterTransformation(JObject payload), public static
//     (src/Jellyfin.Plugin.FileTransformation/PluginInterface.cs);
//   - the payload fields id / fileNamePattern / callbackAssembly / callbackClass / callbackMethod
//     (src/Jellyfin.Plugin.FileTransformation/Models/TransformationRegistrationPayload.cs);
//   - a registered pattern is normalised with TrimStart('/'), tested with Regex.IsMatch against
//     the provider's sub-path "/index.html" to decide, and the transformation is run for the
//     path with its leading '/' trimmed (Infrastructure/WebFileTransformationService.cs);
//   - the callback is found by assembly full name, class and method name, given
//     JObject{"contents": text}.ToObject(parameterType), invoked as a static method, and its
//     string result replaces the file (Helpers/TransformationHelper.cs ApplyTransformation).
// JObject here stands for Newtonsoft.Json.Linq.JObject, whose Parse(string) and ToObject(Type)
// signatures it copies; it understands only the flat string objects this exchange uses.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;

namespace Newtonsoft.Json.Linq
{
    public class JObject
    {
        private readonly Dictionary<string, string> _values = new Dictionary<string, string>(StringComparer.Ordinal);

        public string this[string key]
        {
            get { string v; return _values.TryGetValue(key, out v) ? v : null; }
            set { _values[key] = value; }
        }

        public static JObject Parse(string json)
        {
            var obj = new JObject();
            var m = Regex.Match(json, "^\\s*\\{(?:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"\\s*,?)*\\s*\\}\\s*$", RegexOptions.Singleline);
            if (!m.Success)
            {
                throw new FormatException("stand-in JObject.Parse: not a flat object of strings: " + json);
            }

            for (int i = 0; i < m.Groups[1].Captures.Count; i++)
            {
                obj[Unescape(m.Groups[1].Captures[i].Value)] = Unescape(m.Groups[2].Captures[i].Value);
            }

            return obj;
        }

        public object ToObject(Type objectType)
        {
            // Newtonsoft maps JSON names to properties without regard to case.
            object result = Activator.CreateInstance(objectType);
            foreach (var pair in _values)
            {
                var property = objectType.GetProperties().FirstOrDefault(p => string.Equals(p.Name, pair.Key, StringComparison.OrdinalIgnoreCase));
                if (property != null && property.CanWrite)
                {
                    property.SetValue(result, pair.Value, null);
                }
            }

            return result;
        }

        private static string Unescape(string s)
        {
            var sb = new StringBuilder();
            for (int i = 0; i < s.Length; i++)
            {
                if (s[i] != '\\')
                {
                    sb.Append(s[i]);
                    continue;
                }

                char c = s[++i];
                switch (c)
                {
                    case 'n': sb.Append('\n'); break;
                    case 'r': sb.Append('\r'); break;
                    case 't': sb.Append('\t'); break;
                    case 'b': sb.Append('\b'); break;
                    case 'f': sb.Append('\f'); break;
                    case 'u': sb.Append((char)Convert.ToInt32(s.Substring(i + 1, 4), 16)); i += 4; break;
                    default: sb.Append(c); break;
                }
            }

            return sb.ToString();
        }
    }
}

namespace Jellyfin.Plugin.FileTransformation
{
    using Newtonsoft.Json.Linq;

    public static class PluginInterface
    {
        private static readonly List<JObject> Registered = new List<JObject>();

        /// <summary>Test hook: a registration throws, as the real one does when its plugin is not ready.</summary>
        public static Exception FailNext;

        /// <summary>Test hook: how many registrations succeed before <see cref="FailNext"/> is thrown.</summary>
        public static int FailAfter;

        public static void RegisterTransformation(JObject payload)
        {
            if (FailNext != null && FailAfter-- <= 0)
            {
                var e = FailNext;
                FailNext = null;
                throw e;
            }

            Guid.Parse(payload["id"]);
            lock (Registered)
            {
                Registered.RemoveAll(p => p["id"] == payload["id"]);
                Registered.Add(payload);
            }
        }

        public static void Reset()
        {
            lock (Registered)
            {
                Registered.Clear();
            }

            FailNext = null;
            FailAfter = 0;
        }

        public static int Count
        {
            get { lock (Registered) { return Registered.Count; } }
        }

        /// <summary>
        /// Serves a web file as the plugin's file provider does: subPath as the static-file
        /// middleware asks for it ("/index.html"); null when no transformation matches.
        /// </summary>
        public static string Serve(string subPath, string contents)
        {
            JObject match;
            lock (Registered)
            {
                match = Registered.FirstOrDefault(p => Regex.IsMatch(subPath, p["fileNamePattern"].TrimStart('/')));
            }

            if (match == null)
            {
                return null;
            }

            string normalized = subPath.TrimStart('/');
            if (!Regex.IsMatch(normalized, match["fileNamePattern"].TrimStart('/')))
            {
                return null;
            }

            var assembly = AppDomain.CurrentDomain.GetAssemblies().FirstOrDefault(a => a.FullName == match["callbackAssembly"]);
            var type = assembly == null ? null : assembly.GetType(match["callbackClass"]);
            var method = type == null ? null : type.GetMethod(match["callbackMethod"]);
            if (method == null)
            {
                throw new MissingMethodException(match["callbackClass"], match["callbackMethod"]);
            }

            var payload = new JObject();
            payload["contents"] = contents;
            object argument = payload.ToObject(method.GetParameters()[0].ParameterType);
            return (string)method.Invoke(null, new[] { argument });
        }
    }
}
