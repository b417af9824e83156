using System;
using System.Text;
using System.Threading.Tasks;
using Jellyfin.Plugin.Matinee.Core.Web;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace Jellyfin.Plugin.Matinee.Web;

/// <summary>
/// Rewrites jellyfin-web's <c>index.html</c> (adds the Matinee loader script) and
/// <c>config.json</c> (adds <c>MatineePlugin</c> to <c>plugins</c>) as they are served. Nothing
/// on disk changes: the web folder is read-only in Docker images and the Debian package.
/// </summary>
/// <remarks>
/// Registered through <see cref="WebRewriteStartupFilter"/>, so it wraps the whole pipeline that
/// Jellyfin.Server/Startup.cs <c>Configure</c> builds (v10.10.7, v10.11.11): it runs before
/// <c>app.Map(BaseUrl, …)</c>, before <c>UseResponseCompression</c> and before the static-file
/// middleware that serves <c>/web</c>. Hence: the path still carries the BaseUrl, and the
/// request's <c>Accept-Encoding</c>, <c>Range</c> and conditional headers are removed so the
/// inner pipeline answers with the whole, uncompressed file. Every failure serves the original
/// bytes: Jellyfin must keep working whatever happens here.
/// </remarks>
public sealed class WebRewriteMiddleware
{
    private readonly RequestDelegate _next;
    private readonly MatineeContext _context;
    private readonly ILogger<WebRewriteMiddleware> _logger;

    /// <summary>
    /// Initializes a new instance of the <see cref="WebRewriteMiddleware"/> class.
    /// </summary>
    /// <param name="next">The rest of the pipeline.</param>
    /// <param name="context">The plugin context (version for the cache-buster).</param>
    /// <param name="logger">The logger.</param>
    public WebRewriteMiddleware(RequestDelegate next, MatineeContext context, ILogger<WebRewriteMiddleware> logger)
    {
        _next = next;
        _context = context;
        _logger = logger;
    }

    /// <summary>Handles one request.</summary>
    /// <param name="httpContext">The request.</param>
    /// <returns>A task.</returns>
    public async Task InvokeAsync(HttpContext httpContext)
    {
        var request = httpContext.Request;
        if (!HttpMethods.IsGet(request.Method))
        {
            await _next(httpContext).ConfigureAwait(false);
            return;
        }

        var match = WebPaths.Classify(request.PathBase.Value, request.Path.Value);
        if (match.File == WebFile.None)
        {
            await _next(httpContext).ConfigureAwait(false);
            return;
        }

        request.Headers.Remove(HeaderNames.AcceptEncoding);
        request.Headers.Remove(HeaderNames.Range);
        request.Headers.Remove(HeaderNames.IfRange);
        request.Headers.Remove(HeaderNames.IfNoneMatch);
        request.Headers.Remove(HeaderNames.IfModifiedSince);

        var response = httpContext.Response;
        var originalBody = response.Body;
        int limit = match.File == WebFile.Index ? IndexHtmlRewriter.MaxDocumentLength : ConfigJsonRewriter.MaxDocumentLength;
        // A plain using: disposing only frees the in-memory buffer, so there is nothing to await
        // (and no await without ConfigureAwait(false)).
        using var capture = new CappedBufferStream(originalBody, limit);
        response.Body = capture;
        try
        {
            await _next(httpContext).ConfigureAwait(false);
        }
        finally
        {
            response.Body = originalBody;
        }

        if (capture.Overflowed)
        {
            return;
        }

        var original = capture.Buffered();
        byte[]? rewritten = null;
        if (response.StatusCode == StatusCodes.Status200OK && !response.Headers.ContainsKey(HeaderNames.ContentEncoding))
        {
            rewritten = Rewrite(match, Encoding.UTF8.GetString(original.AsSpan()), httpContext);
        }

        if (rewritten is null)
        {
            await originalBody.WriteAsync(original.AsMemory(), httpContext.RequestAborted).ConfigureAwait(false);
            return;
        }

        // The body now depends on the plugin's version and settings: drop the file's validators
        // and make browsers revalidate.
        response.Headers.Remove(HeaderNames.ETag);
        response.Headers.Remove(HeaderNames.LastModified);
        response.Headers.Remove(HeaderNames.AcceptRanges);
        response.Headers.CacheControl = "no-cache";
        response.ContentLength = rewritten.Length;
        await originalBody.WriteAsync(rewritten, httpContext.RequestAborted).ConfigureAwait(false);
    }

    private byte[]? Rewrite(WebRequestMatch match, string text, HttpContext httpContext)
    {
        try
        {
            if (match.File == WebFile.Index)
            {
                var result = IndexHtmlRewriter.Rewrite(text, match.BaseUrl, _context.FullVersion);
                if (!result.Injected)
                {
                    _logger.LogWarning("Matinee could not add its script to {Path}: {Outcome}", httpContext.Request.Path.Value, result.Outcome);
                    return null;
                }

                return Encoding.UTF8.GetBytes(result.Html);
            }

            var config = ConfigJsonRewriter.Rewrite(text);
            if (config.Outcome != ConfigRewriteOutcome.Added)
            {
                if (config.Outcome != ConfigRewriteOutcome.AlreadyPresent)
                {
                    _logger.LogWarning("Matinee could not add its plugin to {Path}: {Outcome}", httpContext.Request.Path.Value, config.Outcome);
                }

                return null;
            }

            return Encoding.UTF8.GetBytes(config.Json);
        }
#pragma warning disable CA1031 // Fail open: any rewrite problem must leave jellyfin-web working.
        catch (Exception e)
#pragma warning restore CA1031
        {
            _logger.LogError(e, "Matinee failed to rewrite {Path}; serving it unchanged", httpContext.Request.Path.Value);
            return null;
        }
    }
}
