using System.Threading;
using System.Threading.Tasks;

namespace Jellyfin.Plugin.Matinee.Core.Web
{
    /// <summary>
    /// The real HTTP response, as the capture in <see cref="WebResponseRewrite"/> sees it: the
    /// few things it reads, the headers it changes and the body it finally writes. The plugin's
    /// glue implements it over ASP.NET Core's <c>HttpResponse</c> and the response body feature
    /// that was in place before the capture; tests implement it with a recorder that refuses
    /// header changes once the response has started, as Kestrel does.
    /// </summary>
    public interface IResponseTarget
    {
        /// <summary>True once the status line and headers have gone to the client (then headers are read-only).</summary>
        bool HasStarted { get; }

        /// <summary>The status code the inner pipeline set.</summary>
        int StatusCode { get; }

        /// <summary>The <c>Content-Length</c> header, or null when there is none.</summary>
        long? ContentLength { get; set; }

        /// <summary>True when the response carries the header <paramref name="name"/>.</summary>
        bool HasHeader(string name);

        /// <summary>Removes the header <paramref name="name"/> (no-op when absent).</summary>
        void RemoveHeader(string name);

        /// <summary>Sets the header <paramref name="name"/> to one value.</summary>
        void SetHeader(string name, string value);

        /// <summary>Writes to the real body (the first write starts the response).</summary>
        Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken);

        /// <summary>Flushes the real body (starts the response).</summary>
        Task FlushAsync(CancellationToken cancellationToken);

        /// <summary>Starts the real response (sends status and headers).</summary>
        Task StartAsync(CancellationToken cancellationToken);
    }
}
