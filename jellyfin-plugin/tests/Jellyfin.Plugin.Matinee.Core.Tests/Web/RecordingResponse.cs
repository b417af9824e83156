using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Jellyfin.Plugin.Matinee.Core.Web;

namespace Jellyfin.Plugin.Matinee.Core.Tests.Web
{
    /// <summary>
    /// A response that behaves like Kestrel's where it matters to the capture: the first write,
    /// flush or start sends the headers, and after that any header change throws
    /// ("Headers are read-only, response has already started."). It records the Content-Length
    /// in force when the headers went out, so a test can compare it with the body that followed.
    /// </summary>
    internal sealed class RecordingResponse : IResponseTarget
    {
        private readonly Dictionary<string, string> _headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        private readonly MemoryStream _body = new MemoryStream();

        public bool HasStarted { get; private set; }

        public int StatusCode { get; set; } = 200;

        /// <summary>Content-Length when the headers were sent (null: none, or not started).</summary>
        public long? ContentLengthAtStart { get; private set; }

        /// <summary>Calls in order: "start", "write N", "flush".</summary>
        public List<string> Events { get; } = new List<string>();

        public byte[] Body => _body.ToArray();

        public long? ContentLength
        {
            get => _headers.TryGetValue("Content-Length", out var v) ? long.Parse(v, CultureInfo.InvariantCulture) : (long?)null;
            set
            {
                if (value.HasValue)
                {
                    SetHeader("Content-Length", value.Value.ToString(CultureInfo.InvariantCulture));
                }
                else
                {
                    RemoveHeader("Content-Length");
                }
            }
        }

        public string Header(string name) => _headers.TryGetValue(name, out var v) ? v : null;

        public bool HasHeader(string name) => _headers.ContainsKey(name);

        public void RemoveHeader(string name)
        {
            ThrowIfStarted();
            _headers.Remove(name);
        }

        public void SetHeader(string name, string value)
        {
            ThrowIfStarted();
            _headers[name] = value;
        }

        public Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Start();
            Events.Add("write " + count);
            _body.Write(buffer, offset, count);
            return Task.CompletedTask;
        }

        public Task FlushAsync(CancellationToken cancellationToken)
        {
            Start();
            Events.Add("flush");
            return Task.CompletedTask;
        }

        public Task StartAsync(CancellationToken cancellationToken)
        {
            Start();
            return Task.CompletedTask;
        }

        private void Start()
        {
            if (!HasStarted)
            {
                HasStarted = true;
                ContentLengthAtStart = ContentLength;
                Events.Add("start");
            }
        }

        private void ThrowIfStarted()
        {
            if (HasStarted)
            {
                throw new InvalidOperationException("Headers are read-only, response has already started.");
            }
        }
    }
}
