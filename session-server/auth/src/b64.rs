//! Base64url (RFC 4648 §5, no padding) decoding, for reading a JWT header before any key is
//! chosen: the header says which algorithm and key the token claims, and both are checked
//! before `jsonwebtoken` sees the token, so that each refusal gets its own reason label.

/// Decode unpadded base64url; `None` on any character outside the alphabet, on padding, or
/// on an impossible length.
pub(crate) fn decode_url_nopad(input: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
            b'-' => Some(62),
            b'_' => Some(63),
            _ => None,
        }
    }
    let bytes = input.as_bytes();
    // A lone trailing character carries only 6 bits: not a whole byte, so not valid.
    if bytes.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut acc: u32 = 0;
        for &c in chunk {
            acc = (acc << 6) | value(c)?;
        }
        match chunk.len() {
            4 => out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]),
            3 => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
            2 => out.push((acc >> 4) as u8),
            _ => unreachable!("length checked above"),
        }
    }
    Some(out)
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
}
