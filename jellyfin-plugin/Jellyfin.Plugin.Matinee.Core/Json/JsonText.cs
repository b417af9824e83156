using System;
using System.Globalization;
using System.Text;

namespace Jellyfin.Plugin.Matinee.Core.Json
{
    /// <summary>
    /// A tiny, careful JSON writer. Core writes its few small documents (JWT header and payload,
    /// JWKS, key file) itself so that it depends on nothing but the base library, and so that the
    /// exact bytes are under our control: the cross-language JWT vector pins them byte for byte.
    /// </summary>
    public sealed class JsonWriter
    {
        private readonly StringBuilder _sb = new StringBuilder();
        private bool _needComma;

        /// <summary>Starts an object (<c>{</c>).</summary>
        public JsonWriter BeginObject()
        {
            Separate();
            _sb.Append('{');
            _needComma = false;
            return this;
        }

        /// <summary>Ends an object (<c>}</c>).</summary>
        public JsonWriter EndObject()
        {
            _sb.Append('}');
            _needComma = true;
            return this;
        }

        /// <summary>Starts an array (<c>[</c>).</summary>
        public JsonWriter BeginArray()
        {
            Separate();
            _sb.Append('[');
            _needComma = false;
            return this;
        }

        /// <summary>Ends an array (<c>]</c>).</summary>
        public JsonWriter EndArray()
        {
            _sb.Append(']');
            _needComma = true;
            return this;
        }

        /// <summary>Writes a property name; the value must follow.</summary>
        public JsonWriter Name(string name)
        {
            Separate();
            JsonText.AppendQuoted(_sb, name);
            _sb.Append(':');
            _needComma = false;
            return this;
        }

        /// <summary>Writes a string value.</summary>
        public JsonWriter Value(string value)
        {
            Separate();
            if (value == null)
            {
                _sb.Append("null");
            }
            else
            {
                JsonText.AppendQuoted(_sb, value);
            }

            _needComma = true;
            return this;
        }

        /// <summary>Writes an integer value.</summary>
        public JsonWriter Value(long value)
        {
            Separate();
            _sb.Append(value.ToString(CultureInfo.InvariantCulture));
            _needComma = true;
            return this;
        }

        /// <summary>Writes a boolean value.</summary>
        public JsonWriter Value(bool value)
        {
            Separate();
            _sb.Append(value ? "true" : "false");
            _needComma = true;
            return this;
        }

        /// <summary>Writes <c>"name":"value"</c>.</summary>
        public JsonWriter Property(string name, string value) => Name(name).Value(value);

        /// <summary>Writes <c>"name":123</c>.</summary>
        public JsonWriter Property(string name, long value) => Name(name).Value(value);

        /// <summary>Writes <c>"name":true</c>.</summary>
        public JsonWriter Property(string name, bool value) => Name(name).Value(value);

        /// <summary>The compact JSON text written so far.</summary>
        public override string ToString() => _sb.ToString();

        private void Separate()
        {
            if (_needComma)
            {
                _sb.Append(',');
            }
        }
    }

    /// <summary>JSON string escaping shared by the writer and the rewriters.</summary>
    public static class JsonText
    {
        /// <summary>Returns <paramref name="value"/> as a quoted JSON string literal.</summary>
        public static string Quote(string value)
        {
            if (value == null)
            {
                throw new ArgumentNullException(nameof(value));
            }

            var sb = new StringBuilder(value.Length + 2);
            AppendQuoted(sb, value);
            return sb.ToString();
        }

        /// <summary>
        /// Appends <paramref name="value"/> as a JSON string literal. Non-ASCII text is kept as is
        /// (the output is UTF-8); quotes, backslashes and control characters are escaped; U+2028
        /// and U+2029 are escaped too because older JavaScript parsers treat them as line breaks.
        /// A lone UTF-16 surrogate cannot be encoded as UTF-8 and many JSON parsers (serde_json
        /// among them) reject <c>\ud800</c>-style escapes of one, so it becomes U+FFFD.
        /// </summary>
        public static void AppendQuoted(StringBuilder sb, string value)
        {
            sb.Append('"');
            for (int i = 0; i < value.Length; i++)
            {
                char c = value[i];
                switch (c)
                {
                    case '"': sb.Append("\\\""); break;
                    case '\\': sb.Append("\\\\"); break;
                    case '\b': sb.Append("\\b"); break;
                    case '\f': sb.Append("\\f"); break;
                    case '\n': sb.Append("\\n"); break;
                    case '\r': sb.Append("\\r"); break;
                    case '\t': sb.Append("\\t"); break;
                    case '\u2028': sb.Append("\\u2028"); break;
                    case '\u2029': sb.Append("\\u2029"); break;
                    default:
                        if (c < 0x20 || c == 0x7f)
                        {
                            sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        }
                        else if (char.IsHighSurrogate(c))
                        {
                            if (i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
                            {
                                sb.Append(c).Append(value[i + 1]);
                                i++;
                            }
                            else
                            {
                                sb.Append('\uFFFD');
                            }
                        }
                        else if (char.IsLowSurrogate(c))
                        {
                            sb.Append('\uFFFD');
                        }
                        else
                        {
                            sb.Append(c);
                        }

                        break;
                }
            }

            sb.Append('"');
        }
    }
}
