using System;
using System.Threading.Tasks;
using Jellyfin.Plugin.Matinee.Core.Web;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
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
/// Jellyfin.Server/Startup.cs <c>Configure</c> builds (v10.10.7 lines 145-231, v10.11.11 lines 144-236, v12.0-rc5 lines 166-257):
/// it runs before <c>app.Map(BaseUrl, …)</c>, before <c>UseResponseCompression</c> and before the
/// static-file middleware that serves <c>/web</c> (<c>UseDefaultFiles</c>/<c>UseStaticFiles</c>
/// with <c>RequestPath = "/web"</c>, only when <c>HostWebClient()</c>). Hence: the path still
/// carries the BaseUrl, and the request's <c>Accept-Encoding</c>, <c>Range</c> and conditional
/// headers are removed so the inner pipeline answers with the whole, uncompressed file.
/// The decisions — what is held, when headers change, HEAD, 304, failures — are Core's
/// <see cref="WebResponseRewrite"/>, tested with NUnit; this class only adapts ASP.NET Core to it.
/// It stands aside when the File Transformation plugin does the injection or Jellyfin does not
/// host the web client (<see cref="InjectionStatus"/>).
/// </remarks>
public sealed class WebRewriteMiddleware
{
    private readonly RequestDelegate _next;
    private readonly MatineeContext _context;
    private readonly InjectionStatus _status;
    private readonly ILogger<WebRewriteMiddleware> _logger;

    /// <summary>
    /// Initializes a new instance of the <see cref="WebRewriteMiddleware"/> class.
    /// </summary>
    /// <param name="next">The rest of the pipeline.</param>
    /// <param name="context">The plugin context (version for the cache-buster).</param>
    /// <param name="status">Which injection path is active.</param>
    /// <param name="logger">The logger.</param>
    public WebRewriteMiddleware(RequestDelegate next, MatineeContext context, InjectionStatus status, ILogger<WebRewriteMiddleware> logger)
    {
        _next = next;
        _context = context;
        _status = status;
        _logger = logger;
    }

    /// <summary>Handles one request.</summary>
    /// <param name="httpContext">The request.</param>
    /// <returns>A task.</returns>
    public async Task InvokeAsync(HttpContext httpContext)
    {
        var request = httpContext.Request;
        string? innerMethod = WebResponseRewrite.InnerMethod(request.Method);
        var match = innerMethod is null || !_status.MiddlewareActive
            ? default
            : WebPaths.Classify(request.PathBase.Value, request.Path.Value);
        var features = httpContext.Features;
        if (match.File == WebFile.None || features.Get<IHttpResponseBodyFeature>() is not { } serverBody)
        {
            await _next(httpContext).ConfigureAwait(false);
            return;
        }

        request.Headers.Remove(HeaderNames.AcceptEncoding);
        request.Headers.Remove(HeaderNames.Range);
        request.Headers.Remove(HeaderNames.IfRange);
        request.Headers.Remove(HeaderNames.IfNoneMatch);
        request.Headers.Remove(HeaderNames.IfModifiedSince);

        string originalMethod = request.Method;
        bool head = HttpMethods.IsHead(originalMethod);
        int limit = match.File == WebFile.Index ? IndexHtmlRewriter.MaxDocumentLength : ConfigJsonRewriter.MaxDocumentLength;
        var rewrite = new WebResponseRewrite(
            new HttpResponseTarget(httpContext.Response, serverBody),
            limit,
            head,
            text => Rewrite(match, text, httpContext));
        var capture = new CaptureBodyFeature(rewrite.Body);
        WebRewriteOutcome outcome;
        features.Set<IHttpResponseBodyFeature>(capture);
        try
        {
            outcome = await rewrite.RunAsync(
                async () =>
                {
                    // HEAD runs as GET inside so that the rewritten length can be known. Kestrel
                    // decides whether a body may be sent from the method it parsed (HttpProtocol's
                    // CanWriteResponseBody tests its HttpMethod enum; setting HttpRequest.Method
                    // only changes the method text), so a HEAD answer still carries no body; and
                    // Core never writes one for HEAD anyway.
                    request.Method = innerMethod!;
                    try
                    {
                        await _next(httpContext).ConfigureAwait(false);
                        await capture.FlushWriterAsync().ConfigureAwait(false);
                    }
                    finally
                    {
                        request.Method = originalMethod;
                        features.Set(serverBody);
                    }
                },
                httpContext.RequestAborted).ConfigureAwait(false);
        }
        finally
        {
            features.Set(serverBody);
            rewrite.Body.Dispose();
        }

        _status.Record(match.File, outcome.ToString(), DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        if (outcome == WebRewriteOutcome.Failed)
        {
            _logger.LogError(rewrite.Error, "Matinee failed to rewrite {Path}; served it unchanged", request.Path.Value);
        }
    }

    private string? Rewrite(WebRequestMatch match, string text, HttpContext httpContext)
    {
        var result = WebFileRewrite.Apply(match.File, text, match.BaseUrl, _context.FullVersion);
        if (result.Problem is not null)
        {
            _logger.LogWarning("Matinee could not inject into {Path}: {Problem}", httpContext.Request.Path.Value, result.Problem);
        }

        return result.Text;
    }
}
