using System;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Jellyfin.Plugin.Matinee.Core.Web
{
    /// <summary>What <see cref="WebResponseRewrite.RunAsync"/> did with one response.</summary>
    public enum WebRewriteOutcome
    {
        /// <summary>The rewritten body went out with its own <c>Content-Length</c>.</summary>
        Rewritten,

        /// <summary>The rewriter had nothing to change (e.g. our plugin is already listed): original bytes.</summary>
        Unchanged,

        /// <summary>Not a plain 200 (a 304, a 404, a 206, an encoded body): original bytes and headers.</summary>
        NotRewritable,

        /// <summary>The body passed the limit and went through untouched as it was written.</summary>
        TooLarge,

        /// <summary>The rewriter threw or the body is not UTF-8: original bytes and headers (fail open).</summary>
        Failed,

        /// <summary>Someone started the response behind the capture's back: original bytes, headers as sent.</summary>
        AlreadyStarted,
    }

    /// <summary>
    /// Holds one response of jellyfin-web's <c>index.html</c> or <c>config.json</c> while the inner
    /// pipeline produces it, then serves either the rewritten body with a matching
    /// <c>Content-Length</c> or, whenever anything is off, the original bytes. This is the
    /// request-time injection's whole decision logic; the plugin's middleware only adapts
    /// ASP.NET Core to <see cref="IResponseTarget"/> and hands <see cref="Body"/> to the pipeline.
    /// <para>Rules, each covered by a test:</para>
    /// <list type="bullet">
    /// <item>Flushes and starts while buffering are no-ops (see <see cref="ResponseCapture"/>).</item>
    /// <item><c>Content-Length</c> is set to the rewritten length before the first real write;
    /// <c>ETag</c>, <c>Last-Modified</c> and <c>Accept-Ranges</c> are dropped (they describe the
    /// file on disk, not this body) and <c>Cache-Control: no-cache</c> makes browsers revalidate.</item>
    /// <item>HEAD: the inner pipeline runs as GET (the middleware switches the method) so the
    /// rewritten length is known; headers go out, no body does.</item>
    /// <item>Anything but a 200 without <c>Content-Encoding</c> — a 304 among them — goes out as the
    /// inner pipeline made it.</item>
    /// <item>The rewriter throwing, or a body that is not valid UTF-8: original bytes, original headers.</item>
    /// <item>The inner pipeline throwing half-way: nothing it wrote is sent (the response has not
    /// started, so the server can still answer 500 instead of a truncated page) and the
    /// exception goes on up.</item>
    /// </list>
    /// </summary>
    public sealed class WebResponseRewrite
    {
        /// <summary>The header names this class touches.</summary>
        public const string ETagHeader = "ETag";

        /// <summary><c>Last-Modified</c>.</summary>
        public const string LastModifiedHeader = "Last-Modified";

        /// <summary><c>Accept-Ranges</c>.</summary>
        public const string AcceptRangesHeader = "Accept-Ranges";

        /// <summary><c>Cache-Control</c>.</summary>
        public const string CacheControlHeader = "Cache-Control";

        /// <summary><c>Content-Encoding</c>.</summary>
        public const string ContentEncodingHeader = "Content-Encoding";

        private static readonly UTF8Encoding StrictUtf8 = new UTF8Encoding(false, true);

        private readonly IResponseTarget _target;
        private readonly bool _head;
        private readonly Func<string, string> _rewrite;

        /// <summary>Creates the rewrite of one response.</summary>
        /// <param name="target">The real response.</param>
        /// <param name="limit">Largest body held for rewriting (larger ones pass through untouched).</param>
        /// <param name="headRequest">True when the client asked with HEAD (headers only).</param>
        /// <param name="rewrite">
        /// Returns the new document, or null to leave it unchanged; may throw (the original is then served).
        /// </param>
        public WebResponseRewrite(IResponseTarget target, int limit, bool headRequest, Func<string, string> rewrite)
        {
            if (target == null)
            {
                throw new ArgumentNullException(nameof(target));
            }

            if (rewrite == null)
            {
                throw new ArgumentNullException(nameof(rewrite));
            }

            _target = target;
            _head = headRequest;
            _rewrite = rewrite;
            Body = new ResponseCapture(target, limit, headRequest);
        }

        /// <summary>The stream to put in front of the inner pipeline.</summary>
        public ResponseCapture Body { get; }

        /// <summary>Why the last run ended in <see cref="WebRewriteOutcome.Failed"/> (for the log), else null.</summary>
        public Exception Error { get; private set; }

        /// <summary>
        /// The method the inner pipeline should see, or null when this request is not rewritten:
        /// GET stays GET, HEAD becomes GET (so the body, and with it the rewritten length, exists).
        /// </summary>
        /// <param name="method">The request's method.</param>
        /// <returns>"GET" or null.</returns>
        public static string InnerMethod(string method)
        {
            if (string.Equals(method, "GET", StringComparison.OrdinalIgnoreCase)
                || string.Equals(method, "HEAD", StringComparison.OrdinalIgnoreCase))
            {
                return "GET";
            }

            return null;
        }

        /// <summary>Runs <paramref name="inner"/> with <see cref="Body"/> in place, then serves the result.</summary>
        /// <param name="inner">The rest of the pipeline (it must write to <see cref="Body"/>).</param>
        /// <param name="cancellationToken">The request's abort token.</param>
        /// <returns>What was served.</returns>
        public async Task<WebRewriteOutcome> RunAsync(Func<Task> inner, CancellationToken cancellationToken)
        {
            if (inner == null)
            {
                throw new ArgumentNullException(nameof(inner));
            }

            try
            {
                await inner().ConfigureAwait(false);
            }
            catch
            {
                Body.Abandon();
                throw;
            }

            if (Body.PassedThrough)
            {
                return WebRewriteOutcome.TooLarge;
            }

            byte[] original = Body.TakeHeld();
            if (_target.HasStarted)
            {
                await WriteOriginal(original, cancellationToken).ConfigureAwait(false);
                return WebRewriteOutcome.AlreadyStarted;
            }

            if (_target.StatusCode != 200 || _target.HasHeader(ContentEncodingHeader))
            {
                await WriteOriginal(original, cancellationToken).ConfigureAwait(false);
                return WebRewriteOutcome.NotRewritable;
            }

            byte[] rewritten;
            try
            {
                string replaced = _rewrite(StrictUtf8.GetString(original));
                rewritten = replaced == null ? null : StrictUtf8.GetBytes(replaced);
            }
            catch (Exception e)
            {
                // Fail open: jellyfin-web must load whatever went wrong here.
                Error = e;
                await WriteOriginal(original, cancellationToken).ConfigureAwait(false);
                return WebRewriteOutcome.Failed;
            }

            if (rewritten == null)
            {
                await WriteOriginal(original, cancellationToken).ConfigureAwait(false);
                return WebRewriteOutcome.Unchanged;
            }

            // All header changes happen here, before the first byte of the real body.
            _target.RemoveHeader(ETagHeader);
            _target.RemoveHeader(LastModifiedHeader);
            _target.RemoveHeader(AcceptRangesHeader);
            _target.SetHeader(CacheControlHeader, "no-cache");
            _target.ContentLength = rewritten.Length;
            if (!_head)
            {
                await _target.WriteAsync(rewritten, 0, rewritten.Length, cancellationToken).ConfigureAwait(false);
            }

            return WebRewriteOutcome.Rewritten;
        }

        private Task WriteOriginal(byte[] original, CancellationToken cancellationToken)
        {
            if (_head || original.Length == 0)
            {
                return Task.CompletedTask;
            }

            return _target.WriteAsync(original, 0, original.Length, cancellationToken);
        }
    }
}
