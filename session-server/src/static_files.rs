//! The demo page and client sources embedded at build time (see `build.rs`), served with
//! their content type, `Cache-Control: no-cache` and single-range support (Chromium needs
//! ranges to seek in an `.mp4`).

use warp::http::{header, HeaderValue, StatusCode};
use warp::reply::Response;

include!(concat!(env!("OUT_DIR"), "/embedded.rs"));

/// Served at `/` until the client's demo page exists.
const FALLBACK_PAGE: &str = "<!doctype html><meta charset=utf-8><title>Matinee</title>\
<h1>Matinee</h1><p>The session server is running in demo mode. The demo page has not been \
built into this binary yet (<code>client-js/demo/index.html</code>).</p>\
<p>WebSocket endpoint: <code>/ws</code>. Health: <a href=/healthz>/healthz</a>.</p>";

/// Content type by file extension.
pub fn content_type(path: &str) -> &'static str {
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "mp4" | "m4v" => "video/mp4",
        "webm" => "video/webm",
        "m3u8" => "application/vnd.apple.mpegurl",
        "ts" => "video/mp2t",
        "m4s" => "video/iso.segment",
        "vtt" => "text/vtt; charset=utf-8",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Look up an embedded file by its path (`demo/index.html`, `src/core/x.js`).
pub fn lookup(path: &str) -> Option<&'static [u8]> {
    EMBEDDED.iter().find(|(p, _)| *p == path).map(|(_, b)| *b)
}

/// A range that lies outside the file (answered with 416).
#[derive(Debug, PartialEq, Eq)]
pub struct Unsatisfiable;

/// Parse a single `bytes=` range against a length. `Ok(None)`: serve everything (no header,
/// several ranges or a form we ignore, as RFC 9110 allows).
pub fn parse_range(h: Option<&str>, len: u64) -> Result<Option<(u64, u64)>, Unsatisfiable> {
    let Some(h) = h else { return Ok(None) };
    let Some(spec) = h.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return Ok(None);
    };
    let (a, b) = (a.trim(), b.trim());
    let range = if a.is_empty() {
        let n: u64 = b.parse().map_err(|_| Unsatisfiable)?;
        if n == 0 || len == 0 {
            return Err(Unsatisfiable);
        }
        (len.saturating_sub(n), len - 1)
    } else {
        let start: u64 = a.parse().map_err(|_| Unsatisfiable)?;
        let end: u64 = if b.is_empty() {
            len.saturating_sub(1)
        } else {
            b.parse::<u64>()
                .map_err(|_| Unsatisfiable)?
                .min(len.saturating_sub(1))
        };
        if start >= len || start > end {
            return Err(Unsatisfiable);
        }
        (start, end)
    };
    Ok(Some(range))
}

/// Serve an embedded file (or the fallback page for `demo/index.html`).
pub fn serve(path: &str, range: Option<&str>) -> Response {
    let body: &'static [u8] = match lookup(path) {
        Some(b) => b,
        None if path == "demo/index.html" => FALLBACK_PAGE.as_bytes(),
        None => {
            let mut r = Response::new("not found".into());
            *r.status_mut() = StatusCode::NOT_FOUND;
            return r;
        }
    };
    let len = body.len() as u64;
    let mut r = match parse_range(range, len) {
        Ok(None) => Response::new(body.into()),
        Ok(Some((a, b))) => {
            let mut r = Response::new(body[a as usize..=b as usize].into());
            *r.status_mut() = StatusCode::PARTIAL_CONTENT;
            let cr = format!("bytes {a}-{b}/{len}");
            r.headers_mut().insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&cr).expect("ascii"),
            );
            r
        }
        Err(Unsatisfiable) => {
            let mut r = Response::new(Vec::new().into());
            *r.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
            let cr = format!("bytes */{len}");
            r.headers_mut().insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&cr).expect("ascii"),
            );
            return r;
        }
    };
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(path)),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range(None, 10), Ok(None));
        assert_eq!(parse_range(Some("bytes=0-3"), 10), Ok(Some((0, 3))));
        assert_eq!(parse_range(Some("bytes=5-"), 10), Ok(Some((5, 9))));
        assert_eq!(parse_range(Some("bytes=-4"), 10), Ok(Some((6, 9))));
        assert_eq!(parse_range(Some("bytes=8-100"), 10), Ok(Some((8, 9))));
        assert_eq!(parse_range(Some("bytes=10-"), 10), Err(Unsatisfiable));
        assert_eq!(parse_range(Some("bytes=4-2"), 10), Err(Unsatisfiable));
        assert_eq!(parse_range(Some("bytes=0-1,3-4"), 10), Ok(None));
        assert_eq!(parse_range(Some("items=0-1"), 10), Ok(None));
    }

    #[test]
    fn types() {
        assert_eq!(content_type("a/b.MP4"), "video/mp4");
        assert_eq!(content_type("x.mjs"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("noext"), "application/octet-stream");
    }
}
