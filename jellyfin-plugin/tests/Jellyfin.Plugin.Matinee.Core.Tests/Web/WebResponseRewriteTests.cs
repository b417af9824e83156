using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Jellyfin.Plugin.Matinee.Core.Web;
using NUnit.Framework;

namespace Jellyfin.Plugin.Matinee.Core.Tests.Web
{
    /// <summary>
    /// The request-time rewrite against a response that refuses late header changes like Kestrel,
    /// with the inner pipeline played the way ASP.NET Core's static-file middleware serves
    /// <c>/web/index.html</c>: headers first (200, the file's Content-Length, ETag, Last-Modified,
    /// Accept-Ranges), then <c>SendFileAsync</c>, which starts the response (a flush) before copying.
    /// </summary>
    [TestFixture]
    public class WebResponseRewriteTests
    {
        private const string Version = "0.1.0.11";
        private string _dir;
        private string _indexPath;
        private byte[] _indexBytes;

        [SetUp]
        public void SetUp()
        {
            _dir = Path.Combine(Path.GetTempPath(), "matinee-capture-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(_dir);
            _indexPath = Path.Combine(_dir, "index.html");
            _indexBytes = Encoding.UTF8.GetBytes(TestFiles.Fixture("10.11.11", "index.html"));
            File.WriteAllBytes(_indexPath, _indexBytes);
        }

        [TearDown]
        public void TearDown()
        {
            if (_dir != null && Directory.Exists(_dir))
            {
                Directory.Delete(_dir, true);
            }
        }

        private static string RewriteIndex(string text) => WebFileRewrite.Apply(WebFile.Index, text, string.Empty, Version).Text;

        private static byte[] Expected(byte[] original) =>
            Encoding.UTF8.GetBytes(IndexHtmlRewriter.Rewrite(Encoding.UTF8.GetString(original), string.Empty, Version).Html);

        private static void StaticFileHeaders(RecordingResponse response, long length)
        {
            response.StatusCode = 200;
            response.ContentLength = length;
            response.SetHeader("Content-Type", "text/html");
            response.SetHeader("ETag", "\"1db2f0c3a4e5\"");
            response.SetHeader("Last-Modified", "Tue, 01 Oct 2025 10:00:00 GMT");
            response.SetHeader("Accept-Ranges", "bytes");
        }

        private static WebRewriteOutcome Run(WebResponseRewrite rewrite, Func<Task> inner) =>
            rewrite.RunAsync(inner, CancellationToken.None).GetAwaiter().GetResult();

        [Test]
        public void SendFile_StartsThenCopies_RewrittenWithItsOwnLengthSetBeforeTheFirstWrite()
        {
            var response = new RecordingResponse();
            var rewrite = new WebResponseRewrite(response, IndexHtmlRewriter.MaxDocumentLength, false, RewriteIndex);
            bool startedDuringInner = true;

            var outcome = Run(rewrite, async () =>
            {
                StaticFileHeaders(response, _indexBytes.Length);
                await rewrite.Body.StartAsync(CancellationToken.None);
                await rewrite.Body.SendFileAsync(_indexPath, 0, null, CancellationToken.None);
                startedDuringInner = response.HasStarted;
            });

            byte[] expected = Expected(_indexBytes);
            Assert.AreEqual(WebRewriteOutcome.Rewritten, outcome);
            Assert.IsFalse(startedDuringInner, "nothing reached the client before the rewrite");
            Assert.That(expected.Length, Is.GreaterThan(_indexBytes.Length));
            CollectionAssert.AreEqual(expected, response.Body);
            Assert.AreEqual(expected.Length, response.ContentLengthAtStart, "Content-Length sent with the headers");
            Assert.IsNull(response.Header("ETag"));
            Assert.IsNull(response.Header("Last-Modified"));
            Assert.IsNull(response.Header("Accept-Ranges"));
            Assert.AreEqual("no-cache", response.Header("Cache-Control"));
            Assert.AreEqual("text/html", response.Header("Content-Type"));
            CollectionAssert.AreEqual(new[] { "start", "write " + expected.Length }, response.Events);
        }

        [Test]
        public void FlushesWhileBuffering_AreHeldBack_SoTheLongerPageIsNotCutOff()
        {
            // StreamResponseBodyFeature.StartAsync is a FlushAsync on the stream; a passed-through
            // flush would send the file's own Content-Length and then a longer body.
            var response = new RecordingResponse();
            var rewrite = new WebResponseRewrite(response, IndexHtmlRewriter.MaxDocumentLength, false, RewriteIndex);
            int half = _indexBytes.Length / 2;
            var startedAfter = new bool[3];

            var outcome = Run(rewrite, async () =>
            {
                StaticFileHeaders(response, _indexBytes.Length);
                await rewrite.Body.FlushAsync(CancellationToken.None);
                startedAfter[0] = response.HasStarted;
                await rewrite.Body.WriteAsync(_indexBytes, 0, half, CancellationToken.None);
                rewrite.Body.Flush();
                startedAfter[1] = response.HasStarted;
                rewrite.Body.Write(_indexBytes, half, _indexBytes.Length - half);
                await rewrite.Body.StartAsync(CancellationToken.None);
                await rewrite.Body.FlushAsync(CancellationToken.None);
                startedAfter[2] = response.HasStarted;
            });

            byte[] expected = Expected(_indexBytes);
            Assert.AreEqual(WebRewriteOutcome.Rewritten, outcome);
            CollectionAssert.AreEqual(new[] { false, false, false }, startedAfter);
            CollectionAssert.AreEqual(expected, response.Body);
            Assert.AreEqual(expected.Length, response.ContentLengthAtStart);
        }

        [Test]
        public void Head_InnerRunsAsGet_HeadersCarryTheRewrittenLengthAndNoBodyIsSent()
        {
            Assert.AreEqual("GET", WebResponseRewrite.InnerMethod("HEAD"));
            var response = new RecordingResponse();
            var rewrite = new WebResponseRewrite(response, IndexHtmlRewriter.MaxDocumentLength, true, RewriteIndex);

            var outcome = Run(rewrite, async () =>
            {
                StaticFileHeaders(response, _indexBytes.Length);
                await rewrite.Body.SendFileAsync(_indexPath, 0, null, CancellationToken.None);
            });

            Assert.AreEqual(WebRewriteOutcome.Rewritten, outcome);
            Assert.AreEqual(Expected(_indexBytes).Length, response.ContentLength, "the length a GET would get");
            Assert.AreEqual(0, response.Body.Length);
            Assert.IsNull(response.Header("ETag"));
        }

        [TestCase("GET", "GET")]
        [TestCase("get", "GET")]
        [TestCase("HEAD", "GET")]
        [TestCase("head", "GET")]
        [TestCase("POST", null)]
        [TestCase("OPTIONS", null)]
        [TestCase("", null)]
        [TestCase(null, null)]
        public void InnerMethod_OnlyGetAndHeadAreRewritten(string method, string expected)
        {
            Assert.AreEqual(expected, WebResponseRewrite.InnerMethod(method));
        }

        [Test]
        public void NotModified_PassesThroughWithItsValidatorsAndNoRewrite()
        {
            var response = new RecordingResponse();
            bool called = false;
            var rewrite = new WebResponseRewrite(response, 1024, false, t => { called = true; return t + "x"; });

            var outcome = Run(rewrite, () =>
            {
                response.StatusCode = 304;
                response.SetHeader("ETag", "\"abc\"");
                return rewrite.Body.StartAsync(CancellationToken.None);
            });

            Assert.AreEqual(WebRewriteOutcome.NotRewritable, outcome);
            Assert.IsFalse(called);
            Assert.AreEqual("\"abc\"", response.Header("ETag"));
            Assert.IsNull(response.ContentLength);
            Assert.AreEqual(0, response.Body.Length);
            Assert.IsNull(response.Header("Cache-Control"));
        }

        [TestCase(404, null)]
        [TestCase(206, null)]
        [TestCase(500, null)]
        [TestCase(200, "gzip")]
        public void NotAPlain200_OriginalBytesAndHeaders(int status, string encoding)
        {
            var response = new RecordingResponse();
            var rewrite = new WebResponseRewrite(response, IndexHtmlRewriter.MaxDocumentLength, false, RewriteIndex);
            byte[] body = Encoding.UTF8.GetBytes("<html><head><script src=x></script></head></html>");

            var outcome = Run(rewrite, () =>
            {
                response.StatusCode = status;
                response.ContentLength = body.Length;
                if (encoding != null)
                {
                    response.SetHeader("Content-Encoding", encoding);
                }

                return rewrite.Body.WriteAsync(body, 0, body.Length, CancellationToken.None);
            });

            Assert.AreEqual(WebRewriteOutcome.NotRewritable, outcome);
            CollectionAssert.AreEqual(body, response.Body);
            Assert.AreEqual(body.Length, response.ContentLengthAtStart);
        }

        [Test]
        public void RewriterThrows_FailsOpenWithTheOriginalBytesAndHeaders()
        {
            var response = new RecordingResponse();
            var boom = new InvalidOperationException("boom");
            var rewrite = new WebResponseRewrite(response, IndexHtmlRewriter.MaxDocumentLength, false, t => { throw boom; });

            var outcome = Run(rewrite, async () =>
            {
                StaticFileHeaders(response, _indexBytes.Length);
                await rewrite.Body.SendFileAsync(_indexPath, 0, null, CancellationToken.None);
            });

            Assert.AreEqual(WebRewriteOutcome.Failed, outcome);
            Assert.AreSame(boom, rewrite.Error);
            CollectionAssert.AreEqual(_indexBytes, response.Body);
            Assert.AreEqual(_indexBytes.Length, response.ContentLengthAtStart);
            Assert.AreEqual("\"1db2f0c3a4e5\"", response.Header("ETag"));
        }

        [Test]
        public void BodyNotUtf8_FailsOpenByteForByte()
        {
            var response = new RecordingResponse();
            bool called = false;
            var rewrite = new WebResponseRewrite(response, 1024, false, t => { called = true; return t; });
            byte[] latin1 = { 0x3c, 0x68, 0x65, 0x61, 0x64, 0x3e, 0xe9, 0x3c, 0x2f, 0x68, 0x65, 0x61, 0x64, 0x3e };

            var outcome = Run(rewrite, () =>
            {
                response.ContentLength = latin1.Length;
                return rewrite.Body.WriteAsync(latin1, 0, latin1.Length, CancellationToken.None);
            });

            Assert.AreEqual(WebRewriteOutcome.Failed, outcome);
            Assert.IsFalse(called, "a lossy decode must not reach the rewriter");
            CollectionAssert.AreEqual(latin1, response.Body);
        }

        [Test]
        public void InnerThrowsHalfway_NothingIsSentAndTheExceptionGoesOn()
        {
            var response = new RecordingResponse();
            var rewrite = new WebResponseRewrite(response, IndexHtmlRewriter.MaxDocumentLength, false, RewriteIndex);

            var e = Assert.Throws<IOException>(() => Run(rewrite, async () =>
            {
                StaticFileHeaders(response, _indexBytes.Length);
                await rewrite.Body.WriteAsync(_indexBytes, 0, 100, CancellationToken.None);
                await rewrite.Body.FlushAsync(CancellationToken.None);
                throw new IOException("disk went away");
            }));

            Assert.AreEqual("disk went away", e.Message);
            Assert.IsFalse(response.HasStarted, "the server can still answer 500");
            Assert.AreEqual(0, response.Body.Length);
            Assert.Throws<ObjectDisposedException>(() => rewrite.Body.Write(new byte[1], 0, 1));
        }

        [Test]
        public void RewriterDeclines_OriginalBytesAndHeaders()
        {
            var response = new RecordingResponse();
            var rewrite = new WebResponseRewrite(response, 1024, false, t => null);
            byte[] json = Encoding.UTF8.GetBytes("{\"plugins\":[\"MatineePlugin\"]}");

            var outcome = Run(rewrite, () =>
            {
                response.ContentLength = json.Length;
                response.SetHeader("ETag", "\"e\"");
                return rewrite.Body.WriteAsync(json, 0, json.Length, CancellationToken.None);
            });

            Assert.AreEqual(WebRewriteOutcome.Unchanged, outcome);
            CollectionAssert.AreEqual(json, response.Body);
            Assert.AreEqual("\"e\"", response.Header("ETag"));
        }

        [Test]
        public void LargerThanTheLimit_PassesThroughUntouchedAndFlushesGoThroughAfterwards()
        {
            var response = new RecordingResponse();
            bool called = false;
            var rewrite = new WebResponseRewrite(response, 1000, false, t => { called = true; return t; });
            bool startedBeforeLimit = true;
            bool startedAfterFlush = false;

            var outcome = Run(rewrite, async () =>
            {
                StaticFileHeaders(response, _indexBytes.Length);
                await rewrite.Body.WriteAsync(_indexBytes, 0, 600, CancellationToken.None);
                await rewrite.Body.FlushAsync(CancellationToken.None);
                startedBeforeLimit = response.HasStarted;
                await rewrite.Body.WriteAsync(_indexBytes, 600, 600, CancellationToken.None);
                Assert.IsTrue(rewrite.Body.PassedThrough);
                await rewrite.Body.FlushAsync(CancellationToken.None);
                startedAfterFlush = response.HasStarted;
                await rewrite.Body.WriteAsync(_indexBytes, 1200, _indexBytes.Length - 1200, CancellationToken.None);
            });

            Assert.AreEqual(WebRewriteOutcome.TooLarge, outcome);
            Assert.IsFalse(called);
            Assert.IsFalse(startedBeforeLimit);
            Assert.IsTrue(startedAfterFlush);
            CollectionAssert.AreEqual(_indexBytes, response.Body);
            Assert.AreEqual(_indexBytes.Length, response.ContentLengthAtStart);
            Assert.AreEqual("\"1db2f0c3a4e5\"", response.Header("ETag"));
            Assert.AreEqual(3, response.Events.Count(ev => ev.StartsWith("write", StringComparison.Ordinal)), "held part, the write that crossed, the rest");
        }

        [Test]
        public void HeadLargerThanTheLimit_HeadersOnly()
        {
            var response = new RecordingResponse();
            var rewrite = new WebResponseRewrite(response, 1000, true, RewriteIndex);

            var outcome = Run(rewrite, async () =>
            {
                StaticFileHeaders(response, _indexBytes.Length);
                await rewrite.Body.SendFileAsync(_indexPath, 0, null, CancellationToken.None);
            });

            Assert.AreEqual(WebRewriteOutcome.TooLarge, outcome);
            Assert.AreEqual(0, response.Body.Length);
            Assert.AreEqual(_indexBytes.Length, response.ContentLength);
        }

        [Test]
        public void StartedBehindTheCapture_OriginalBytesWithoutTouchingHeaders()
        {
            var response = new RecordingResponse();
            var rewrite = new WebResponseRewrite(response, IndexHtmlRewriter.MaxDocumentLength, false, RewriteIndex);

            var outcome = Run(rewrite, async () =>
            {
                StaticFileHeaders(response, _indexBytes.Length);
                await response.StartAsync(CancellationToken.None);
                await rewrite.Body.WriteAsync(_indexBytes, 0, _indexBytes.Length, CancellationToken.None);
            });

            Assert.AreEqual(WebRewriteOutcome.AlreadyStarted, outcome);
            CollectionAssert.AreEqual(_indexBytes, response.Body);
        }

        [Test]
        public void SendFile_HonoursOffsetAndCount()
        {
            var response = new RecordingResponse();
            var rewrite = new WebResponseRewrite(response, 4096, false, t => null);

            Run(rewrite, () => rewrite.Body.SendFileAsync(_indexPath, 10, 20, CancellationToken.None));

            CollectionAssert.AreEqual(_indexBytes.Skip(10).Take(20).ToArray(), response.Body);
        }

        [TestCase(-1L, null)]
        [TestCase(0L, -1L)]
        [TestCase(1L, 1000000L)]
        [TestCase(1000000L, null)]
        public void SendFile_RangeOutsideTheFile_Throws(long offset, long? count)
        {
            var capture = new ResponseCapture(new RecordingResponse(), 4096, false);
            Assert.Throws<ArgumentOutOfRangeException>(() => capture.SendFileAsync(_indexPath, offset, count, CancellationToken.None).GetAwaiter().GetResult());
        }

        [Test]
        public void Capture_RefusesBadArguments()
        {
            Assert.Throws<ArgumentNullException>(() => new ResponseCapture(null, 1, false));
            Assert.Throws<ArgumentOutOfRangeException>(() => new ResponseCapture(new RecordingResponse(), -1, false));
            Assert.Throws<ArgumentNullException>(() => new WebResponseRewrite(new RecordingResponse(), 1, false, null));
            var capture = new ResponseCapture(new RecordingResponse(), 10, false);
            Assert.Throws<ArgumentOutOfRangeException>(() => capture.Write(new byte[4], 2, 3));
            Assert.IsFalse(capture.CanRead);
            Assert.Throws<NotSupportedException>(() => capture.Read(new byte[1], 0, 1));
        }
    }
}
