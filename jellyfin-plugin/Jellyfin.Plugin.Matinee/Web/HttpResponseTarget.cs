using System;
using System.Threading;
using System.Threading.Tasks;
using Jellyfin.Plugin.Matinee.Core.Web;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Jellyfin.Plugin.Matinee.Web;

/// <summary>
/// Core's view of the real response: ASP.NET Core's <see cref="HttpResponse"/> for status and
/// headers, and the body feature that was in place before the capture (the server's) for the body.
/// </summary>
internal sealed class HttpResponseTarget : IResponseTarget
{
    private readonly HttpResponse _response;
    private readonly IHttpResponseBodyFeature _body;

    /// <summary>
    /// Initializes a new instance of the <see cref="HttpResponseTarget"/> class.
    /// </summary>
    /// <param name="response">The response.</param>
    /// <param name="body">The body feature to write the final bytes to.</param>
    public HttpResponseTarget(HttpResponse response, IHttpResponseBodyFeature body)
    {
        _response = response;
        _body = body;
    }

    /// <inheritdoc />
    public bool HasStarted => _response.HasStarted;

    /// <inheritdoc />
    public int StatusCode => _response.StatusCode;

    /// <inheritdoc />
    public long? ContentLength
    {
        get => _response.ContentLength;
        set => _response.ContentLength = value;
    }

    /// <inheritdoc />
    public bool HasHeader(string name) => _response.Headers.ContainsKey(name);

    /// <inheritdoc />
    public void RemoveHeader(string name) => _response.Headers.Remove(name);

    /// <inheritdoc />
    public void SetHeader(string name, string value) => _response.Headers[name] = value;

    /// <inheritdoc />
    public Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        _body.Stream.WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public Task FlushAsync(CancellationToken cancellationToken) => _body.Stream.FlushAsync(cancellationToken);

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken) => _body.StartAsync(cancellationToken);
}
