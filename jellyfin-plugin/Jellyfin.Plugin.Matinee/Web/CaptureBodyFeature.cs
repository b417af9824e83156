using System.IO;
using System.IO.Pipelines;
using System.Threading;
using System.Threading.Tasks;
using Jellyfin.Plugin.Matinee.Core.Web;
using Microsoft.AspNetCore.Http.Features;

namespace Jellyfin.Plugin.Matinee.Web;

/// <summary>
/// The response body feature the inner pipeline sees while <see cref="WebRewriteMiddleware"/>
/// holds a response: every way of producing a body — the stream, the pipe writer,
/// <c>StartAsync</c>, <c>SendFileAsync</c> (the static-file middleware's), <c>CompleteAsync</c> —
/// ends in Core's <see cref="ResponseCapture"/>, which holds bytes, flushes and starts back.
/// Replacing the feature (not only <c>HttpResponse.Body</c>) is what keeps <c>SendFileAsync</c>
/// and <c>StartAsync</c> from reaching the server's own feature; ASP.NET Core's response
/// compression middleware wraps responses the same way (Microsoft.AspNetCore.ResponseCompression,
/// ResponseCompressionBody, .NET 8 and 9).
/// </summary>
internal sealed class CaptureBodyFeature : IHttpResponseBodyFeature
{
    private readonly ResponseCapture _capture;
    private PipeWriter? _writer;

    /// <summary>
    /// Initializes a new instance of the <see cref="CaptureBodyFeature"/> class.
    /// </summary>
    /// <param name="capture">Core's capture stream.</param>
    public CaptureBodyFeature(ResponseCapture capture)
    {
        _capture = capture;
    }

    /// <inheritdoc />
    public Stream Stream => _capture;

    /// <inheritdoc />
    public PipeWriter Writer => _writer ??= PipeWriter.Create(_capture, new StreamPipeWriterOptions(leaveOpen: true));

    /// <inheritdoc />
    public void DisableBuffering()
    {
        // Buffering is the point while the body is held; past the limit bytes go straight through anyway.
    }

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken = default) => _capture.StartAsync(cancellationToken);

    /// <inheritdoc />
    public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) =>
        _capture.SendFileAsync(path, offset, count, cancellationToken);

    /// <inheritdoc />
    /// <remarks>Only moves pipe-written bytes into the capture: the real completion follows the rewrite.</remarks>
    public Task CompleteAsync() => FlushWriterAsync();

    /// <summary>Moves anything written through <see cref="Writer"/> into the capture.</summary>
    /// <returns>A task.</returns>
    public async Task FlushWriterAsync()
    {
        if (_writer is not null)
        {
            await _writer.FlushAsync().ConfigureAwait(false);
        }
    }
}
