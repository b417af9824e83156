using System.Text;
using Jellyfin.Plugin.Matinee.Core.Json;
using NUnit.Framework;

namespace Jellyfin.Plugin.Matinee.Core.Tests.Json
{
    [TestFixture]
    public class JsonReaderTests
    {
        [Test]
        public void Parse_AllKinds_WithPositions()
        {
            string text = " {\"s\":\"a\\u00e9\\\"\",\"n\":-1.5e3,\"b\":true,\"z\":null,\"a\":[1, \"x\"]} ";
            var v = JsonReader.Parse(text);
            Assert.AreEqual(JsonKind.Object, v.Kind);
            Assert.AreEqual(1, v.Start);
            Assert.AreEqual(text.Length - 1, v.End);
            Assert.AreEqual("a\u00e9\"", v.GetString("s"));
            Assert.AreEqual(JsonKind.Number, v.Get("n").Kind);
            Assert.AreEqual("-1.5e3", v.Get("n").Text);
            Assert.IsTrue(v.Get("b").Boolean);
            Assert.AreEqual(JsonKind.Null, v.Get("z").Kind);
            var a = v.Get("a");
            Assert.AreEqual(2, a.Items.Count);
            Assert.AreEqual("[1, \"x\"]", text.Substring(a.Start, a.End - a.Start));
            Assert.AreEqual("\"x\"", text.Substring(a.Items[1].Start, a.Items[1].End - a.Items[1].Start));
        }

        [Test]
        public void Parse_DuplicateKeys_GetReturnsLast_LikeJavaScript()
        {
            var v = JsonReader.Parse("{\"k\":1,\"k\":2}");
            Assert.AreEqual("2", v.Get("k").Text);
            Assert.AreEqual(2, v.Members.Count);
        }

        [Test]
        public void Parse_SurrogatePairEscape()
        {
            Assert.AreEqual("\ud83c\udfac", JsonReader.Parse("\"\\ud83c\\udfac\"").Text);
        }

        [Test]
        public void Parse_ByteOrderMark_Tolerated()
        {
            Assert.AreEqual(JsonKind.Array, JsonReader.Parse("\uFEFF[]").Kind);
        }

        [TestCase("")]
        [TestCase("   ")]
        [TestCase("{")]
        [TestCase("{\"a\":1,}")]
        [TestCase("[1,]")]
        [TestCase("[1 2]")]
        [TestCase("{\"a\" 1}")]
        [TestCase("{a:1}")]
        [TestCase("'single'")]
        [TestCase("\"unterminated")]
        [TestCase("\"bad \\x escape\"")]
        [TestCase("\"short \\u12\"")]
        [TestCase("\"raw \n newline\"")]
        [TestCase("01")]
        [TestCase("1.")]
        [TestCase("-")]
        [TestCase("1e")]
        [TestCase("tru")]
        [TestCase("nul")]
        [TestCase("{} {}")]
        [TestCase("[1] x")]
        [TestCase("NaN")]
        public void Parse_Invalid_Throws(string text)
        {
            Assert.Throws<JsonParseException>(() => JsonReader.Parse(text));
        }

        [Test]
        public void Parse_TooDeep_ThrowsInsteadOfOverflowingTheStack()
        {
            var sb = new StringBuilder();
            for (int i = 0; i < 100000; i++)
            {
                sb.Append('[');
            }

            var e = Assert.Throws<JsonParseException>(() => JsonReader.Parse(sb.ToString()));
            StringAssert.Contains("nesting", e.Message);
        }

        [Test]
        public void Parse_AtMaxDepth_Accepted()
        {
            string text = new string('[', JsonReader.MaxDepth + 1) + new string(']', JsonReader.MaxDepth + 1);
            Assert.AreEqual(JsonKind.Array, JsonReader.Parse(text).Kind);
        }
    }
}
