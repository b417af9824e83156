//! Raw Jellyfin access tokens, for clients without the plugin: `GET {jellyfin.url}/Users/Me`
//! with `Authorization: MediaBrowser Token="…"` (the one form every Jellyfin version accepts).
//! 200 → the user of the `UserDto`; 401/403 → `unauthorized`; timeout, connection failure,
//! 5xx or an unexpected answer → `unavailable`. Answers are cached (see `cache.rs`).

use std::sync::Mutex;
use std::time::Duration;

use reqwest::header::{HeaderValue, AUTHORIZATION};
use reqwest::StatusCode;
use serde::Deserialize;

use crate::cache::{Answer, TokenCache};
use crate::{clean_name, http, normalize_user_id, AuthConfig, AuthError, Identity};

/// Largest `UserDto` accepted, in bytes (a real one is a few KiB with its policy).
const MAX_USER_BYTES: usize = 256 * 1024;

/// The part of Jellyfin's `UserDto` that Matinee uses.
#[derive(Deserialize)]
struct UserDto {
    #[serde(rename = "Id")]
    id: String,
    #[serde(rename = "Name", default)]
    name: Option<String>,
}

pub(crate) struct UsersMe {
    client: reqwest::Client,
    url: String,
    /// Never held across `.await`.
    cache: Mutex<TokenCache>,
    /// Bounds the `/Users/Me` requests in flight, so a crowd of strangers with made-up tokens
    /// cannot turn the session server into a load generator against Jellyfin.
    permits: tokio::sync::Semaphore,
    /// How long to wait for a permit before answering `unavailable`: half the request
    /// timeout, so that waiting plus asking stays within about 1.5 timeouts.
    wait: Duration,
}

/// Whether a raw token may be put in the `MediaBrowser Token="…"` header: Jellyfin's tokens
/// are hex; this also admits base64 and URL-safe characters, but never a quote, comma, space
/// or control character that could change the header's meaning.
fn safe_token(token: &str) -> bool {
    token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b))
}

impl UsersMe {
    pub(crate) fn new(
        client: reqwest::Client,
        base_url: &str,
        auth: &AuthConfig,
        timeout_ms: u64,
    ) -> Self {
        UsersMe {
            client,
            url: format!("{base_url}/Users/Me"),
            cache: Mutex::new(TokenCache::new(
                auth.token_cache_entries,
                Duration::from_secs(auth.token_cache_secs),
                Duration::from_secs(auth.token_negative_cache_secs),
            )),
            permits: tokio::sync::Semaphore::new(auth.max_concurrent_checks),
            wait: Duration::from_millis(timeout_ms / 2),
        }
    }

    pub(crate) async fn check(&self, token: &str) -> Result<Identity, AuthError> {
        if token.is_empty() || !safe_token(token) {
            return Err(AuthError::unauthorized("malformed"));
        }
        let key = {
            let mut cache = self.cache.lock().expect("token cache lock poisoned");
            let key = cache.key(token);
            if let Some(answer) = cache.get(key) {
                return to_result(answer);
            }
            key
        };
        let _permit = match tokio::time::timeout(self.wait, self.permits.acquire()).await {
            Ok(Ok(permit)) => permit,
            _ => return Err(AuthError::unavailable("jellyfin_busy")),
        };
        let answer = self.ask(token).await?;
        self.cache
            .lock()
            .expect("token cache lock poisoned")
            .insert(key, answer.clone());
        to_result(answer)
    }

    async fn ask(&self, token: &str) -> Result<Answer, AuthError> {
        let mut value = HeaderValue::from_str(&format!("MediaBrowser Token=\"{token}\""))
            .map_err(|_| AuthError::unauthorized("malformed"))?;
        // Redacted from any Debug output of the request.
        value.set_sensitive(true);
        let resp = self
            .client
            .get(&self.url)
            .header(AUTHORIZATION, value)
            .send()
            .await
            .map_err(|e| http::transport_error(&e))?;
        let status = resp.status();
        match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => return Ok(Answer::Rejected),
            s if s.is_server_error() => return Err(AuthError::unavailable("jellyfin_5xx")),
            StatusCode::OK => {}
            s => {
                tracing::warn!(status = s.as_u16(), url = %self.url, "Jellyfin /Users/Me answered with an unexpected status");
                return Err(AuthError::unavailable("jellyfin_bad_response"));
            }
        }
        let body = http::read_limited(resp, MAX_USER_BYTES).await?;
        let user: UserDto = serde_json::from_slice(&body).map_err(|_| {
            tracing::warn!(url = %self.url, "Jellyfin /Users/Me answered 200 without a UserDto");
            AuthError::unavailable("jellyfin_bad_response")
        })?;
        if user.id.is_empty() || user.id.len() > 128 {
            return Err(AuthError::unavailable("jellyfin_bad_response"));
        }
        let name = user
            .name
            .as_deref()
            .and_then(clean_name)
            .unwrap_or_else(|| "Jellyfin user".to_string());
        Ok(Answer::User {
            user_id: normalize_user_id(&user.id),
            name,
        })
    }
}

fn to_result(answer: Answer) -> Result<Identity, AuthError> {
    match answer {
        Answer::User { user_id, name } => Ok(Identity {
            user_id,
            name,
            anonymous: false,
        }),
        Answer::Rejected => Err(AuthError::unauthorized("jellyfin_rejected")),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_token;

    #[test]
    fn header_breaking_characters_are_refused() {
        assert!(safe_token("0123456789abcdef0123456789abcdef"));
        assert!(safe_token("a-b_c.d~e+f/g="));
        for bad in ["a\"b", "a,b", "a b", "a\r\nX-Evil: 1", "a\0", "é"] {
            assert!(!safe_token(bad), "{bad:?}");
        }
    }
}
