using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Threading;
using Jellyfin.Plugin.Matinee.Core.Json;

namespace Jellyfin.Plugin.Matinee.Core.Web
{
    /// <summary>The outcome of <see cref="FileTransformationBridge.TryRegister"/>.</summary>
    public sealed class FileTransformationRegistration
    {
        /// <summary>Creates a result (TryRegister does; public for tests and stand-ins).</summary>
        public FileTransformationRegistration(bool found, bool registered, string detail)
        {
            Found = found;
            Registered = registered;
            Detail = detail;
        }

        /// <summary>True when the File Transformation plugin's assembly is loaded.</summary>
        public bool Found { get; }

        /// <summary>True when both files were registered with it (then it does the injection).</summary>
        public bool Registered { get; }

        /// <summary>A sentence for the log and the config page.</summary>
        public string Detail { get; }
    }

    /// <summary>
    /// The payload File Transformation hands a callback: it reads the requested file into
    /// <c>{"contents": "…"}</c> and converts that with Newtonsoft's <c>JObject.ToObject(parameterType)</c>
    /// (src/Jellyfin.Plugin.FileTransformation/Helpers/TransformationHelper.cs, <c>ApplyTransformation</c>,
    /// IAmParadox27/jellyfin-plugin-file-transformation 2.5.4.0), which fills this property
    /// (Newtonsoft matches names without regard to case).
    /// </summary>
    public sealed class FileTransformationContents
    {
        /// <summary>Gets or sets the file's current text.</summary>
        public string Contents { get; set; }
    }

    /// <summary>
    /// Registers Matinee's two rewrites with the File Transformation plugin (IAmParadox27) when it
    /// is installed, so that jellyfin-web files are changed in one place by every plugin that
    /// injects, instead of by our middleware. No compile-time reference: the plugin's README and
    /// source (2.5.4.0) define the API as reflection on
    /// <c>Jellyfin.Plugin.FileTransformation.PluginInterface.RegisterTransformation(JObject payload)</c>
    /// (src/Jellyfin.Plugin.FileTransformation/PluginInterface.cs) with the payload fields of
    /// src/Jellyfin.Plugin.FileTransformation/Models/TransformationRegistrationPayload.cs:
    /// <c>id</c>, <c>fileNamePattern</c> (a regex), <c>callbackAssembly</c> (assembly full name),
    /// <c>callbackClass</c>, <c>callbackMethod</c> (public static, one parameter, returns the new text).
    /// </summary>
    public static class FileTransformationBridge
    {
        /// <summary>The File Transformation plugin's assembly name.</summary>
        public const string AssemblyName = "Jellyfin.Plugin.FileTransformation";

        /// <summary>The type that carries its registration method.</summary>
        public const string PluginInterfaceTypeName = "Jellyfin.Plugin.FileTransformation.PluginInterface";

        /// <summary>The registration method.</summary>
        public const string RegisterMethodName = "RegisterTransformation";

        /// <summary>
        /// Pattern for jellyfin-web's index.html. File Transformation tests its patterns both
        /// against the provider's sub-path (<c>/index.html</c>, WebFileTransformationService.NeedsTransformation)
        /// and against it with the leading '/' trimmed (<c>index.html</c>, RunTransformation), so
        /// the slash is optional; anchored so no other folder's index.html matches.
        /// </summary>
        public const string IndexPattern = "^/?index\\.html$";

        /// <summary>Pattern for jellyfin-web's config.json (same rules as <see cref="IndexPattern"/>).</summary>
        public const string ConfigPattern = "^/?config\\.json$";

        /// <summary>Our registration id for index.html (stable, so a re-registration replaces, never duplicates).</summary>
        public static readonly Guid IndexTransformationId = new Guid("4bcd6a6f-d0e4-4124-8b2e-39ba28d71064");

        /// <summary>Our registration id for config.json.</summary>
        public static readonly Guid ConfigTransformationId = new Guid("4bcd6a6f-d0e4-4124-8b2e-39ba28d71065");

        // File Transformation calls a public static method by name with no instance, so the
        // rewrite it should apply has to be reachable statically. Set once by TryRegister; the
        // callbacks fail open (return the text unchanged) while it is unset.
        private static Func<WebFile, string, string> _rewrite;

        /// <summary>
        /// Finds File Transformation's registration method among <paramref name="assemblies"/>
        /// (the plugin glue passes every assembly of every load context), or null.
        /// </summary>
        /// <param name="assemblies">The loaded assemblies.</param>
        /// <returns>The method, or null when the plugin or its API is absent.</returns>
        public static MethodInfo FindRegisterMethod(IEnumerable<Assembly> assemblies)
        {
            if (assemblies == null)
            {
                throw new ArgumentNullException(nameof(assemblies));
            }

            // Highest version first: after an update the old copy may still sit in a load context.
            var candidates = assemblies
                .Where(a => string.Equals(SafeName(a), AssemblyName, StringComparison.Ordinal))
                .OrderByDescending(a => a.GetName().Version);
            foreach (var assembly in candidates)
            {
                var type = assembly.GetType(PluginInterfaceTypeName, false);
                var method = type == null ? null : type.GetMethod(RegisterMethodName, BindingFlags.Public | BindingFlags.Static);
                if (method != null && method.GetParameters().Length == 1)
                {
                    return method;
                }
            }

            return null;
        }

        /// <summary>The registration payload, as JSON, for one file.</summary>
        /// <param name="id">The registration id.</param>
        /// <param name="fileNamePattern">The file's pattern.</param>
        /// <param name="callback">A public static method taking <see cref="FileTransformationContents"/> and returning string.</param>
        /// <returns>The JSON text.</returns>
        public static string PayloadJson(Guid id, string fileNamePattern, MethodInfo callback)
        {
            if (callback == null)
            {
                throw new ArgumentNullException(nameof(callback));
            }

            return new JsonWriter()
                .BeginObject()
                .Property("id", id.ToString("D"))
                .Property("fileNamePattern", fileNamePattern)
                .Property("callbackAssembly", callback.DeclaringType.Assembly.FullName)
                .Property("callbackClass", callback.DeclaringType.FullName)
                .Property("callbackMethod", callback.Name)
                .EndObject()
                .ToString();
        }

        /// <summary>
        /// Registers index.html and config.json with File Transformation when it is loaded.
        /// Never throws: any failure is reported, and the caller then keeps its own middleware.
        /// </summary>
        /// <param name="assemblies">The loaded assemblies.</param>
        /// <param name="rewrite">The rewrite to apply: (file, text) → new text, or null for unchanged.</param>
        /// <returns>What happened.</returns>
        public static FileTransformationRegistration TryRegister(IEnumerable<Assembly> assemblies, Func<WebFile, string, string> rewrite)
        {
            if (rewrite == null)
            {
                throw new ArgumentNullException(nameof(rewrite));
            }

            MethodInfo register;
            try
            {
                register = FindRegisterMethod(assemblies);
            }
            catch (Exception e)
            {
                return new FileTransformationRegistration(false, false, "Looking for the File Transformation plugin failed: " + e.Message);
            }

            if (register == null)
            {
                return new FileTransformationRegistration(false, false, "The File Transformation plugin is not installed.");
            }

            string version = register.DeclaringType.Assembly.GetName().Version?.ToString() ?? "?";
            Type payloadType = register.GetParameters()[0].ParameterType;
            Interlocked.Exchange(ref _rewrite, rewrite);
            try
            {
                Call(register, payloadType, PayloadJson(IndexTransformationId, IndexPattern, typeof(FileTransformationBridge).GetMethod(nameof(TransformIndex))));
                Call(register, payloadType, PayloadJson(ConfigTransformationId, ConfigPattern, typeof(FileTransformationBridge).GetMethod(nameof(TransformConfig))));
            }
            catch (Exception e)
            {
                var cause = e is TargetInvocationException && e.InnerException != null ? e.InnerException : e;
                return new FileTransformationRegistration(
                    true,
                    false,
                    "File Transformation " + version + " is installed but refused the registration (" + cause.GetType().Name + ": " + cause.Message + ").");
            }

            return new FileTransformationRegistration(true, true, "Registered with File Transformation " + version + ".");
        }

        /// <summary>File Transformation's callback for index.html. Returns the text unchanged on any problem.</summary>
        /// <param name="payload">The file's current text.</param>
        /// <returns>The new text.</returns>
        public static string TransformIndex(FileTransformationContents payload) => Transform(WebFile.Index, payload);

        /// <summary>File Transformation's callback for config.json. Returns the text unchanged on any problem.</summary>
        /// <param name="payload">The file's current text.</param>
        /// <returns>The new text.</returns>
        public static string TransformConfig(FileTransformationContents payload) => Transform(WebFile.Config, payload);

        private static string Transform(WebFile file, FileTransformationContents payload)
        {
            // Never null: File Transformation takes null as "no answer" and then POSTs the file
            // to the payload's (empty) transformationEndpoint (TransformationHelper.cs).
            string text = payload == null ? null : payload.Contents;
            if (text == null)
            {
                return string.Empty;
            }

            var rewrite = Volatile.Read(ref _rewrite);
            if (rewrite == null)
            {
                return text;
            }

            try
            {
                return rewrite(file, text) ?? text;
            }
            catch (Exception)
            {
                // Fail open: File Transformation would otherwise fail the whole request for the file.
                return text;
            }
        }

        private static void Call(MethodInfo register, Type payloadType, string json)
        {
            object payload;
            if (payloadType == typeof(string))
            {
                payload = json;
            }
            else
            {
                // Newtonsoft's JObject, from File Transformation's own load context: build it with
                // its static Parse(string) rather than referencing Newtonsoft.Json ourselves.
                var parse = payloadType.GetMethod("Parse", BindingFlags.Public | BindingFlags.Static, null, new[] { typeof(string) }, null);
                if (parse == null || !payloadType.IsAssignableFrom(parse.ReturnType))
                {
                    throw new NotSupportedException("its payload type " + payloadType.FullName + " has no static Parse(string)");
                }

                payload = parse.Invoke(null, new object[] { json });
            }

            register.Invoke(null, new[] { payload });
        }

        private static string SafeName(Assembly assembly)
        {
            try
            {
                return assembly.GetName().Name;
            }
            catch (Exception)
            {
                // Dynamic or half-unloaded assemblies can refuse; they are not the one we look for.
                return null;
            }
        }
    }
}
