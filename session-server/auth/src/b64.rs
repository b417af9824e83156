//! Base64url (RFC 4648 §5, no padding) decoding, for reading a JWT header before any key is
//! chosen: the header says which algorithm and key the token claims, and both are checked
//! before `jsonwebtoken` sees the token, so that each refusal gets its own reason label.
//!
//! The decoding itself is the `base64` crate's (the version `jsonwebtoken` already uses), with
//! the engine JWTs need: the URL-safe alphabet, padding refused (RFC 7515 §2 forbids it), and
//! non-zero trailing bits refused, so that one header has exactly one spelling.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// Decode unpadded base64url; `None` on any character outside the alphabet, on padding, on
/// an impossible length, or on non-canonical trailing bits.
pub(crate) fn decode_url_nopad(input: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(input).ok()
}

#[cfg(test)]
mod tests {
    use super::decode_url_nopad;

    #[test]
    fn decodes_rfc4648_vectors_without_padding() {
        // RFC 4648 §10 test vectors, padding removed.
        let cases: [(&str, &[u8]); 7] = [
            ("", b""),
            ("Zg", b"f"),
            ("Zm8", b"fo"),
            ("Zm9v", b"foo"),
            ("Zm9vYg", b"foob"),
            ("Zm9vYmE", b"fooba"),
            ("Zm9vYmFy", b"foobar"),
        ];
        for (input, want) in cases {
            assert_eq!(
                decode_url_nopad(input).as_deref(),
                Some(want),
                "input {input:?}"
            );
        }
    }

    #[test]
    fn uses_the_url_alphabet() {
        assert_eq!(decode_url_nopad("-_8"), Some(vec![0xfb, 0xff]));
        assert_eq!(
            decode_url_nopad("+/8"),
            None,
            "standard alphabet is not base64url"
        );
    }

    #[test]
    fn refuses_padding_and_bad_lengths() {
        assert_eq!(decode_url_nopad("Zg=="), None);
        assert_eq!(decode_url_nopad("Zm9vY"), None);
        assert_eq!(decode_url_nopad("Zm9v.g"), None);
    }

    #[test]
    fn refuses_non_canonical_trailing_bits() {
        // "Zg" is "f"; "Zh" spells the same byte with a stray low bit set: a second spelling
        // of one header would let two different tokens carry the same claims.
        assert_eq!(decode_url_nopad("Zh"), None);
    }
}
