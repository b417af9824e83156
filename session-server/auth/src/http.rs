//! The HTTP client for the two calls to Jellyfin (JWKS and `/Users/Me`).

use std::time::Duration;

use crate::AuthError;

/// A client with the configured timeout that never follows redirects: a redirect could carry
/// the `Authorization` header of a raw token to another host, so Matinee asks the admin for
/// the final URL instead.
pub(crate) fn client(timeout_ms: u64) -> Result<reqwest::Client, String> {
    let timeout = Duration::from_millis(timeout_ms.max(1));
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("matinee-server/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot build the HTTP client for Jellyfin: {e}"))
}

/// Base URL without trailing slashes, checked to be http(s) with a host.
pub(crate) fn base_url(url: &str) -> Result<String, String> {
    let parsed =
        reqwest::Url::parse(url).map_err(|e| format!("jellyfin.url {url:?} is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(format!(
            "jellyfin.url {url:?} must be an http:// or https:// URL with a host"
        ));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(format!(
            "jellyfin.url {url:?} must not have a query or fragment"
        ));
    }
    Ok(url.trim_end_matches('/').to_string())
}

/// Map a transport error to a fixed `unavailable` reason.
pub(crate) fn transport_error(e: &reqwest::Error) -> AuthError {
    if e.is_timeout() {
        AuthError::unavailable("jellyfin_timeout")
    } else {
        AuthError::unavailable("jellyfin_unreachable")
    }
}

/// Read at most `limit` bytes of body; a longer body is an error, so a broken or hostile
/// upstream cannot make the server buffer without bound.
pub(crate) async fn read_limited(
    mut resp: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, AuthError> {
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Err(AuthError::unavailable("jellyfin_bad_response"));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| transport_error(&e))? {
        if body.len() + chunk.len() > limit {
            return Err(AuthError::unavailable("jellyfin_bad_response"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
