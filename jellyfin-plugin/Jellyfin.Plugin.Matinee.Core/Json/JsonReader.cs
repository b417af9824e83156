using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Jellyfin.Plugin.Matinee.Core.Json
{
    /// <summary>The kind of a parsed JSON value.</summary>
    public enum JsonKind
    {
        /// <summary>An object.</summary>
        Object,

        /// <summary>An array.</summary>
        Array,

        /// <summary>A string.</summary>
        String,

        /// <summary>A number (kept as its source text).</summary>
        Number,

        /// <summary><c>true</c> or <c>false</c>.</summary>
        Boolean,

        /// <summary><c>null</c>.</summary>
        Null,
    }

    /// <summary>
    /// One parsed JSON value. It remembers where it sits in the source text (<see cref="Start"/>,
    /// <see cref="End"/>) so that a rewrite can splice text in without re-serialising, and so
    /// leave every byte it does not need to change exactly as it was.
    /// </summary>
    public sealed class JsonValue
    {
        internal JsonValue(JsonKind kind, int start)
        {
            Kind = kind;
            Start = start;
        }

        /// <summary>What this value is.</summary>
        public JsonKind Kind { get; }

        /// <summary>Offset of the value's first character in the source.</summary>
        public int Start { get; }

        /// <summary>Offset just after the value's last character in the source.</summary>
        public int End { get; internal set; }

        /// <summary>The decoded string (for strings) or the number's text (for numbers).</summary>
        public string Text { get; internal set; }

        /// <summary>The boolean value (for booleans).</summary>
        public bool Boolean { get; internal set; }

        /// <summary>Members of an object, in source order (duplicates kept).</summary>
        public IList<KeyValuePair<string, JsonValue>> Members { get; } = new List<KeyValuePair<string, JsonValue>>();

        /// <summary>Items of an array, in source order.</summary>
        public IList<JsonValue> Items { get; } = new List<JsonValue>();

        /// <summary>The last member called <paramref name="name"/>, or null.</summary>
        public JsonValue Get(string name)
        {
            JsonValue found = null;
            foreach (var m in Members)
            {
                if (string.Equals(m.Key, name, StringComparison.Ordinal))
                {
                    found = m.Value;
                }
            }

            return found;
        }

        /// <summary>The string member <paramref name="name"/>, or null when absent or not a string.</summary>
        public string GetString(string name)
        {
            var v = Get(name);
            return v != null && v.Kind == JsonKind.String ? v.Text : null;
        }
    }

    /// <summary>Raised for text that is not valid JSON; the message says where and why.</summary>
    public sealed class JsonParseException : FormatException
    {
        /// <summary>Creates the exception.</summary>
        public JsonParseException(string message, int position)
            : base(message + " at offset " + position.ToString(CultureInfo.InvariantCulture))
        {
            Position = position;
        }

        /// <summary>Offset in the source where parsing stopped.</summary>
        public int Position { get; }
    }

    /// <summary>
    /// A strict RFC 8259 parser for small documents (config.json, JWK files). Recursion is
    /// bounded so that hostile input cannot exhaust the stack.
    /// </summary>
    public sealed class JsonReader
    {
        /// <summary>Deepest nesting accepted.</summary>
        public const int MaxDepth = 64;

        private readonly string _s;
        private int _pos;

        private JsonReader(string text)
        {
            _s = text;
        }

        /// <summary>Parses one JSON document (surrounding whitespace allowed, a UTF-8 BOM tolerated).</summary>
        /// <exception cref="JsonParseException">The text is not a single valid JSON value.</exception>
        public static JsonValue Parse(string text)
        {
            if (text == null)
            {
                throw new ArgumentNullException(nameof(text));
            }

            var r = new JsonReader(text);
            if (r._s.Length > 0 && r._s[0] == '\uFEFF')
            {
                r._pos = 1;
            }

            r.SkipWs();
            var v = r.ParseValue(0);
            r.SkipWs();
            if (r._pos != r._s.Length)
            {
                throw new JsonParseException("unexpected text after the JSON value", r._pos);
            }

            return v;
        }

        private void SkipWs()
        {
            while (_pos < _s.Length)
            {
                char c = _s[_pos];
                if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
                {
                    _pos++;
                }
                else
                {
                    break;
                }
            }
        }

        private JsonValue ParseValue(int depth)
        {
            if (depth > MaxDepth)
            {
                throw new JsonParseException("nesting deeper than " + MaxDepth.ToString(CultureInfo.InvariantCulture), _pos);
            }

            if (_pos >= _s.Length)
            {
                throw new JsonParseException("unexpected end of text", _pos);
            }

            char c = _s[_pos];
            switch (c)
            {
                case '{': return ParseObject(depth);
                case '[': return ParseArray(depth);
                case '"':
                    {
                        var v = new JsonValue(JsonKind.String, _pos);
                        v.Text = ParseString();
                        v.End = _pos;
                        return v;
                    }

                case 't': return ParseLiteral("true", JsonKind.Boolean, true);
                case 'f': return ParseLiteral("false", JsonKind.Boolean, false);
                case 'n': return ParseLiteral("null", JsonKind.Null, false);
                default:
                    if (c == '-' || (c >= '0' && c <= '9'))
                    {
                        return ParseNumber();
                    }

                    throw new JsonParseException("unexpected character '" + c + "'", _pos);
            }
        }

        private JsonValue ParseObject(int depth)
        {
            var v = new JsonValue(JsonKind.Object, _pos);
            _pos++;
            SkipWs();
            if (Peek() == '}')
            {
                _pos++;
                v.End = _pos;
                return v;
            }

            while (true)
            {
                SkipWs();
                if (Peek() != '"')
                {
                    throw new JsonParseException("expected a property name", _pos);
                }

                string name = ParseString();
                SkipWs();
                Expect(':');
                SkipWs();
                var item = ParseValue(depth + 1);
                v.Members.Add(new KeyValuePair<string, JsonValue>(name, item));
                SkipWs();
                char c = Peek();
                _pos++;
                if (c == ',')
                {
                    continue;
                }

                if (c == '}')
                {
                    v.End = _pos;
                    return v;
                }

                throw new JsonParseException("expected ',' or '}'", _pos - 1);
            }
        }

        private JsonValue ParseArray(int depth)
        {
            var v = new JsonValue(JsonKind.Array, _pos);
            _pos++;
            SkipWs();
            if (Peek() == ']')
            {
                _pos++;
                v.End = _pos;
                return v;
            }

            while (true)
            {
                SkipWs();
                v.Items.Add(ParseValue(depth + 1));
                SkipWs();
                char c = Peek();
                _pos++;
                if (c == ',')
                {
                    continue;
                }

                if (c == ']')
                {
                    v.End = _pos;
                    return v;
                }

                throw new JsonParseException("expected ',' or ']'", _pos - 1);
            }
        }

        private string ParseString()
        {
            Expect('"');
            var sb = new StringBuilder();
            while (true)
            {
                if (_pos >= _s.Length)
                {
                    throw new JsonParseException("unterminated string", _pos);
                }

                char c = _s[_pos++];
                if (c == '"')
                {
                    return sb.ToString();
                }

                if (c < 0x20)
                {
                    throw new JsonParseException("control character in string", _pos - 1);
                }

                if (c != '\\')
                {
                    sb.Append(c);
                    continue;
                }

                if (_pos >= _s.Length)
                {
                    throw new JsonParseException("unterminated escape", _pos);
                }

                char e = _s[_pos++];
                switch (e)
                {
                    case '"': sb.Append('"'); break;
                    case '\\': sb.Append('\\'); break;
                    case '/': sb.Append('/'); break;
                    case 'b': sb.Append('\b'); break;
                    case 'f': sb.Append('\f'); break;
                    case 'n': sb.Append('\n'); break;
                    case 'r': sb.Append('\r'); break;
                    case 't': sb.Append('\t'); break;
                    case 'u':
                        if (_pos + 4 > _s.Length)
                        {
                            throw new JsonParseException("short \\u escape", _pos);
                        }

                        int code;
                        if (!int.TryParse(_s.Substring(_pos, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out code))
                        {
                            throw new JsonParseException("bad \\u escape", _pos);
                        }

                        sb.Append((char)code);
                        _pos += 4;
                        break;
                    default:
                        throw new JsonParseException("bad escape '\\" + e + "'", _pos - 1);
                }
            }
        }

        private JsonValue ParseNumber()
        {
            int start = _pos;
            if (Peek() == '-')
            {
                _pos++;
            }

            if (Peek() == '0')
            {
                _pos++;
            }
            else if (IsDigit(Peek()))
            {
                while (IsDigit(Peek()))
                {
                    _pos++;
                }
            }
            else
            {
                throw new JsonParseException("bad number", _pos);
            }

            if (Peek() == '.')
            {
                _pos++;
                if (!IsDigit(Peek()))
                {
                    throw new JsonParseException("bad number fraction", _pos);
                }

                while (IsDigit(Peek()))
                {
                    _pos++;
                }
            }

            if (Peek() == 'e' || Peek() == 'E')
            {
                _pos++;
                if (Peek() == '+' || Peek() == '-')
                {
                    _pos++;
                }

                if (!IsDigit(Peek()))
                {
                    throw new JsonParseException("bad number exponent", _pos);
                }

                while (IsDigit(Peek()))
                {
                    _pos++;
                }
            }

            var v = new JsonValue(JsonKind.Number, start);
            v.Text = _s.Substring(start, _pos - start);
            v.End = _pos;
            return v;
        }

        private JsonValue ParseLiteral(string word, JsonKind kind, bool value)
        {
            if (string.CompareOrdinal(_s, _pos, word, 0, word.Length) != 0)
            {
                throw new JsonParseException("unexpected character '" + _s[_pos] + "'", _pos);
            }

            var v = new JsonValue(kind, _pos);
            v.Boolean = value;
            _pos += word.Length;
            v.End = _pos;
            return v;
        }

        private static bool IsDigit(char c) => c >= '0' && c <= '9';

        private char Peek() => _pos < _s.Length ? _s[_pos] : '\0';

        private void Expect(char c)
        {
            if (Peek() != c)
            {
                throw new JsonParseException("expected '" + c + "'", _pos);
            }

            _pos++;
        }
    }
}
