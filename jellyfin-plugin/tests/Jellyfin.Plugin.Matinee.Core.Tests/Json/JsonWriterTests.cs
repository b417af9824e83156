using System;
using System.Linq;
using Jellyfin.Plugin.Matinee.Core.Json;
using NUnit.Framework;

namespace Jellyfin.Plugin.Matinee.Core.Tests.Json
{
    [TestFixture]
    public class JsonWriterTests
    {
        [TestCase("plain", "\"plain\"")]
        [TestCase("say \"hi\"", "\"say \\\"hi\\\"\"")]
        [TestCase("C:\\path\\", "\"C:\\\\path\\\\\"")]
        [TestCase("a/b", "\"a/b\"")]
        [TestCase("line\nbreak\r\ttab", "\"line\\nbreak\\r\\ttab\"")]
        [TestCase("\b\f", "\"\\b\\f\"")]
        [TestCase("\u0000\u0001\u001f\u007f", "\"\\u0000\\u0001\\u001f\\u007f\"")]
        [TestCase("\u2028\u2029", "\"\\u2028\\u2029\"")]
        [TestCase("Zoë Ångström", "\"Zoë Ångström\"")]
        [TestCase("日本語", "\"日本語\"")]
        [TestCase("\ud83c\udfac film", "\"\ud83c\udfac film\"")]
        [TestCase("", "\"\"")]
        public void Quote_EscapesExactly(string input, string expected)
        {
            Assert.AreEqual(expected, JsonText.Quote(input));
        }

        // Not [TestCase]: attribute arguments are stored as UTF-8 (ECMA-335 II.23.3), where a lone
        // surrogate cannot survive, so under .NET the test would receive U+FFFD instead of it.
        public static object[] LoneSurrogates => new object[]
        {
            new object[] { "lone \ud800 high", "\"lone \ufffd high\"" },
            new object[] { "lone \udc00 low", "\"lone \ufffd low\"" },
            new object[] { "end \ud83c", "\"end \ufffd\"" },
        };

        [TestCaseSource("LoneSurrogates")]
        public void Quote_LoneSurrogate_BecomesReplacementCharacter(string input, string expected)
        {
            Assert.AreEqual(1, input.Count(char.IsSurrogate), "the input holds its lone surrogate");
            Assert.AreEqual(expected, JsonText.Quote(input));
        }

        [TestCase("say \"hi\" \\ / \n\r\t\b\f")]
        [TestCase("\u0000\u0001\u001f\u007f")]
        [TestCase("Zoë 日本語 \ud83c\udfac \u2028")]
        public void Quote_RoundTripsThroughReader(string input)
        {
            var parsed = JsonReader.Parse(JsonText.Quote(input));
            Assert.AreEqual(JsonKind.String, parsed.Kind);
            Assert.AreEqual(input, parsed.Text);
        }

        [Test]
        public void Writer_NestsCompactly()
        {
            string json = new JsonWriter().BeginObject()
                .Property("a", "x")
                .Property("n", -42L)
                .Property("t", true)
                .Name("list").BeginArray().Value("p").Value(1L).BeginObject().EndObject().EndArray()
                .Property("f", false)
                .EndObject().ToString();
            Assert.AreEqual("{\"a\":\"x\",\"n\":-42,\"t\":true,\"list\":[\"p\",1,{}],\"f\":false}", json);
        }

        [Test]
        public void Writer_EscapesNames()
        {
            string json = new JsonWriter().BeginObject().Property("we\"ird", "v").EndObject().ToString();
            Assert.AreEqual("{\"we\\\"ird\":\"v\"}", json);
        }

        [Test]
        public void Quote_Null_Throws()
        {
            Assert.Throws<ArgumentNullException>(() => JsonText.Quote(null));
        }
    }
}
