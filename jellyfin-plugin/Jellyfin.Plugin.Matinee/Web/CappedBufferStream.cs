using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace Jellyfin.Plugin.Matinee.Web;

/// <summary>
/// Collects a response body in memory up to a limit; past the limit it writes what it holds to
/// the real body and passes everything else straight through. The rewrite middleware uses it so
/// that an unexpectedly large response is served untouched instead of filling memory.
/// </summary>
internal sealed class CappedBufferStream : Stream
{
    private readonly Stream _inner;
    private readonly int _limit;
    private MemoryStream? _buffer = new();

    /// <summary>
    /// Initializes a new instance of the <see cref="CappedBufferStream"/> class.
    /// </summary>
    /// <param name="inner">The real response body.</param>
    /// <param name="limit">Most bytes held in memory.</param>
    public CappedBufferStream(Stream inner, int limit)
    {
        _inner = inner;
        _limit = limit;
    }

    /// <summary>Gets a value indicating whether the limit was passed (the body went straight through).</summary>
    public bool Overflowed => _buffer is null;

    /// <inheritdoc />
    public override bool CanRead => false;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override bool CanWrite => true;

    /// <inheritdoc />
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc />
    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>Gets the bytes held (only while not <see cref="Overflowed"/>).</summary>
    /// <returns>The buffered body.</returns>
    public ArraySegment<byte> Buffered()
    {
        if (_buffer is null || !_buffer.TryGetBuffer(out var segment))
        {
            throw new InvalidOperationException("The body was not buffered.");
        }

        return segment;
    }

    /// <inheritdoc />
    public override void Flush()
    {
        if (_buffer is null)
        {
            _inner.Flush();
        }
    }

    /// <inheritdoc />
    public override Task FlushAsync(CancellationToken cancellationToken) =>
        _buffer is null ? _inner.FlushAsync(cancellationToken) : Task.CompletedTask;

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) =>
        WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc />
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_buffer is not null && _buffer.Length + buffer.Length <= _limit)
        {
            _buffer.Write(buffer.Span);
            return;
        }

        if (_buffer is not null)
        {
            var held = _buffer;
            _buffer = null;
            held.Position = 0;
            await held.CopyToAsync(_inner, cancellationToken).ConfigureAwait(false);
            await held.DisposeAsync().ConfigureAwait(false);
        }

        await _inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _buffer?.Dispose();
        }

        base.Dispose(disposing);
    }
}
