using System;
using System.Globalization;
using System.Threading;
using Jellyfin.Plugin.Matinee.Core.Json;

namespace Jellyfin.Plugin.Matinee.Core.Web
{
    /// <summary>How the client gets into jellyfin-web on this server.</summary>
    public enum InjectionPath
    {
        /// <summary>Matinee's own middleware rewrites index.html and config.json as they are served.</summary>
        Middleware,

        /// <summary>The File Transformation plugin applies Matinee's rewrites; our middleware stands aside.</summary>
        FileTransformation,

        /// <summary>Jellyfin does not serve jellyfin-web (<c>--nowebclient</c>): nothing to inject into.</summary>
        NoWebClient,
    }

    /// <summary>
    /// Which injection path is active and what it last did, for <c>GET /Matinee/Status</c> and
    /// the config page. One instance per server; read and written from any request thread.
    /// </summary>
    public sealed class InjectionStatus
    {
        private readonly object _lock = new object();
        private InjectionPath _path = InjectionPath.Middleware;
        private string _detail = "The File Transformation plugin has not been looked for yet.";
        private string _lastIndex;
        private string _lastConfig;

        /// <summary>Gets the active path.</summary>
        public InjectionPath Path
        {
            get
            {
                lock (_lock)
                {
                    return _path;
                }
            }
        }

        /// <summary>
        /// Gets a value indicating whether Matinee's middleware should rewrite responses: only on the
        /// middleware path (with File Transformation active, rewriting again would do the work twice).
        /// </summary>
        public bool MiddlewareActive => Path == InjectionPath.Middleware;

        /// <summary>The wire name of a path, as the status endpoint and the config page use it.</summary>
        /// <param name="path">The path.</param>
        /// <returns><c>middleware</c>, <c>file-transformation</c> or <c>none</c>.</returns>
        public static string WireName(InjectionPath path)
        {
            switch (path)
            {
                case InjectionPath.FileTransformation:
                    return "file-transformation";
                case InjectionPath.NoWebClient:
                    return "none";
                default:
                    return "middleware";
            }
        }

        /// <summary>Decides the path once File Transformation was looked for.</summary>
        /// <param name="webClientHosted">False when Jellyfin runs with <c>--nowebclient</c> (<c>hostwebclient=false</c>).</param>
        /// <param name="fileTransformation">The outcome of <see cref="FileTransformationBridge.TryRegister"/>, or null if not tried.</param>
        public void Decide(bool webClientHosted, FileTransformationRegistration fileTransformation)
        {
            InjectionPath path;
            string detail;
            if (!webClientHosted)
            {
                path = InjectionPath.NoWebClient;
                detail = "Jellyfin does not host the web client (--nowebclient or hostwebclient=false): "
                    + "add Matinee's script to the web client you host yourself (docs/troubleshooting.md).";
            }
            else if (fileTransformation != null && fileTransformation.Registered)
            {
                path = InjectionPath.FileTransformation;
                detail = fileTransformation.Detail;
            }
            else
            {
                path = InjectionPath.Middleware;
                detail = "Matinee's own middleware rewrites index.html and config.json. "
                    + (fileTransformation == null ? string.Empty : fileTransformation.Detail);
            }

            lock (_lock)
            {
                _path = path;
                _detail = detail.Trim();
            }
        }

        /// <summary>Records what the last rewrite of <paramref name="file"/> did.</summary>
        /// <param name="file">Which file.</param>
        /// <param name="outcome">What happened (e.g. a <see cref="WebRewriteOutcome"/> name).</param>
        /// <param name="atUnixSeconds">When.</param>
        public void Record(WebFile file, string outcome, long atUnixSeconds)
        {
            string entry = outcome + " at " + atUnixSeconds.ToString(CultureInfo.InvariantCulture);
            if (file == WebFile.Index)
            {
                Interlocked.Exchange(ref _lastIndex, entry);
            }
            else if (file == WebFile.Config)
            {
                Interlocked.Exchange(ref _lastConfig, entry);
            }
        }

        /// <summary>
        /// The status document: <c>{"InjectionPath": "middleware"|"file-transformation"|"none",
        /// "Detail": "…", "LastIndexHtml": "Rewritten at 1733…"|null, "LastConfigJson": …, "Version": "x.y.z"}</c>.
        /// </summary>
        /// <param name="version">The plugin version.</param>
        /// <returns>The JSON text.</returns>
        public string ToJson(string version)
        {
            InjectionPath path;
            string detail;
            lock (_lock)
            {
                path = _path;
                detail = _detail;
            }

            // Value(null) writes JSON null: "never served yet".
            return new JsonWriter().BeginObject()
                .Property("InjectionPath", WireName(path))
                .Property("Detail", detail)
                .Property("LastIndexHtml", Volatile.Read(ref _lastIndex))
                .Property("LastConfigJson", Volatile.Read(ref _lastConfig))
                .Property("Version", version ?? string.Empty)
                .EndObject()
                .ToString();
        }
    }
}
