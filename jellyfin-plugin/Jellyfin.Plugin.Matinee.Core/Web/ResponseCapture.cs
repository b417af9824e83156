using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace Jellyfin.Plugin.Matinee.Core.Web
{
    /// <summary>
    /// The response body the inner pipeline writes to while <see cref="WebResponseRewrite"/>
    /// holds the response: bytes are kept in memory up to a limit and nothing reaches the client.
    /// <para>
    /// Flushing and starting are no-ops while buffering. That is the point of this class:
    /// ASP.NET Core's <c>StreamResponseBodyFeature.StartAsync</c> (Microsoft.AspNetCore.Http,
    /// .NET 8 and 9) starts a response by flushing the body stream, and the static-file
    /// middleware that serves <c>/web</c> calls <c>SendFileAsync</c>, which starts first. If a
    /// flush went through, the status line and the file's own <c>Content-Length</c> would reach
    /// the client before the rewrite, and the longer rewritten page would be cut off.
    /// </para>
    /// <para>
    /// Past the limit the capture gives up: what it holds and everything after it go straight to
    /// the real body, headers untouched, so an unexpectedly large file is served as it is instead
    /// of filling memory.
    /// </para>
    /// </summary>
    public sealed class ResponseCapture : Stream
    {
        private const int CopyChunk = 16 * 1024;

        private readonly IResponseTarget _target;
        private readonly int _limit;
        private readonly bool _discardBody;
        private MemoryStream _held = new MemoryStream();
        private bool _passThrough;
        private bool _closed;

        /// <summary>Creates a capture in front of <paramref name="target"/>.</summary>
        /// <param name="target">The real response.</param>
        /// <param name="limit">Most bytes held; one more and the capture passes everything through.</param>
        /// <param name="discardBody">True for a HEAD request: no body byte ever reaches the target.</param>
        public ResponseCapture(IResponseTarget target, int limit, bool discardBody)
        {
            if (target == null)
            {
                throw new ArgumentNullException(nameof(target));
            }

            if (limit < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(limit));
            }

            _target = target;
            _limit = limit;
            _discardBody = discardBody;
        }

        /// <summary>True once the limit was passed and bytes go straight to the real body.</summary>
        public bool PassedThrough => _passThrough;

        /// <summary>Bytes held so far (0 after <see cref="PassedThrough"/>).</summary>
        public long HeldLength => _held == null ? 0 : _held.Length;

        /// <inheritdoc />
        public override bool CanRead => false;

        /// <inheritdoc />
        public override bool CanSeek => false;

        /// <inheritdoc />
        public override bool CanWrite => !_closed;

        /// <inheritdoc />
        public override long Length => throw new NotSupportedException();

        /// <inheritdoc />
        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        /// <summary>
        /// Takes the held bytes and closes the capture to further writes (what the rewrite decides
        /// on). Throws when the capture passed through.
        /// </summary>
        /// <returns>The whole body as the inner pipeline wrote it.</returns>
        public byte[] TakeHeld()
        {
            if (_passThrough || _held == null)
            {
                throw new InvalidOperationException("The body was not held.");
            }

            byte[] bytes = _held.ToArray();
            _held = null;
            _closed = true;
            return bytes;
        }

        /// <summary>Drops what is held and refuses further writes (the inner pipeline failed).</summary>
        public void Abandon()
        {
            _held = null;
            _closed = true;
        }

        /// <summary>
        /// Starts the response: a no-op while buffering (the rewrite decides the headers later);
        /// after the capture passed through, starts the real response.
        /// </summary>
        /// <param name="cancellationToken">Cancels the start.</param>
        /// <returns>A task.</returns>
        public Task StartAsync(CancellationToken cancellationToken)
        {
            return _passThrough ? _target.StartAsync(cancellationToken) : Task.CompletedTask;
        }

        /// <summary>
        /// Sends part of a file as the body, as <c>IHttpResponseBodyFeature.SendFileAsync</c> does
        /// (the static-file middleware's way of serving <c>index.html</c>): the bytes go through
        /// <see cref="WriteAsync(byte[], int, int, CancellationToken)"/>, so they are held like any other.
        /// </summary>
        /// <param name="path">The file.</param>
        /// <param name="offset">First byte to send.</param>
        /// <param name="count">Bytes to send, or null for the rest of the file.</param>
        /// <param name="cancellationToken">Cancels the copy.</param>
        /// <returns>A task.</returns>
        public async Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken)
        {
            if (path == null)
            {
                throw new ArgumentNullException(nameof(path));
            }

            using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, true))
            {
                long length = file.Length;
                if (offset < 0 || offset > length)
                {
                    throw new ArgumentOutOfRangeException(nameof(offset), offset, "Offset is outside the file.");
                }

                if (count.HasValue && (count.Value < 0 || count.Value > length - offset))
                {
                    throw new ArgumentOutOfRangeException(nameof(count), count, "Count runs past the end of the file.");
                }

                long remaining = count ?? length - offset;
                file.Seek(offset, SeekOrigin.Begin);
                var chunk = new byte[(int)Math.Min(CopyChunk, Math.Max(1, remaining))];
                while (remaining > 0)
                {
                    int read = await file.ReadAsync(chunk, 0, (int)Math.Min(chunk.Length, remaining), cancellationToken).ConfigureAwait(false);
                    if (read == 0)
                    {
                        throw new EndOfStreamException("The file ended before the requested range.");
                    }

                    await WriteAsync(chunk, 0, read, cancellationToken).ConfigureAwait(false);
                    remaining -= read;
                }
            }
        }

        /// <inheritdoc />
        public override void Flush()
        {
            // Synchronous flushes are also held back while buffering; after passing through they
            // are sent asynchronously (Kestrel refuses synchronous I/O by default).
            if (_passThrough)
            {
                _target.FlushAsync(CancellationToken.None).GetAwaiter().GetResult();
            }
        }

        /// <inheritdoc />
        public override Task FlushAsync(CancellationToken cancellationToken)
        {
            return _passThrough ? _target.FlushAsync(cancellationToken) : Task.CompletedTask;
        }

        /// <inheritdoc />
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        /// <inheritdoc />
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        /// <inheritdoc />
        public override void SetLength(long value) => throw new NotSupportedException();

        /// <inheritdoc />
        public override void Write(byte[] buffer, int offset, int count)
        {
            WriteAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();
        }

        /// <inheritdoc />
        public override async Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            if (buffer == null)
            {
                throw new ArgumentNullException(nameof(buffer));
            }

            if (offset < 0 || count < 0 || offset > buffer.Length - count)
            {
                throw new ArgumentOutOfRangeException(nameof(count));
            }

            if (_closed)
            {
                throw new ObjectDisposedException(nameof(ResponseCapture), "The response body was already completed.");
            }

            if (!_passThrough)
            {
                if (_held.Length + count <= _limit)
                {
                    _held.Write(buffer, offset, count);
                    return;
                }

                // Over the limit: give up on rewriting. The headers are the inner pipeline's own
                // (its Content-Length still matches), so the original bytes can follow them.
                _passThrough = true;
                byte[] held = _held.ToArray();
                _held = null;
                if (!_discardBody && held.Length > 0)
                {
                    await _target.WriteAsync(held, 0, held.Length, cancellationToken).ConfigureAwait(false);
                }
            }

            if (!_discardBody && count > 0)
            {
                await _target.WriteAsync(buffer, offset, count, cancellationToken).ConfigureAwait(false);
            }
        }

        /// <inheritdoc />
        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _held = null;
                _closed = true;
            }

            base.Dispose(disposing);
        }
    }
}
