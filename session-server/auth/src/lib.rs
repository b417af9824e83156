//! Authentication for the Matinee session server.
//!
//! The session server asks one question of this crate: *who is this `hello`?* It hands the
//! `token` (and, where anonymous access is allowed, the display `name`) to an [`Authenticator`]
//! and gets back an [`Identity`] or an [`AuthError`]. Everything about Jellyfin (JWKS, the
//! `/Users/Me` check, caching) lives behind that one trait, so the server never sees a key,
//! and a token never travels further than this crate.
//!
//! Module map:
//! - `lib.rs` — the trait, the identity, the errors, the configuration sections, and
//!   [`build`], which picks the authenticator from configuration; the anonymous
//!   authenticator (demo mode and `auth.allow_anonymous`).
//! - `jellyfin.rs` — [`JellyfinAuthenticator`]: routes a token to the JWT path or the raw
//!   Jellyfin token path, and falls back to anonymous for token-less hellos when allowed.
//! - `jwt.rs` — verifies Jellyfin-issued JWTs (RS256 pinned, `kid`, `aud`, `iss`, `exp`).
//! - `jwks.rs` — the public keys: fetched from Jellyfin (cached by `kid`, rate-limited refetch,
//!   background refresh) or loaded once from a JWKS/PEM file.
//! - `users_me.rs` — raw Jellyfin access tokens checked with `GET /Users/Me`, cached.
//! - `cache.rs` — the bounded, time-limited cache of `/Users/Me` answers, keyed by a keyed
//!   hash of the token so the token itself is never stored.
//! - `http.rs` — the HTTP client shared by the two Jellyfin calls, with bounded body reads.
//! - `b64.rs` — base64url decoding for the JWT header (read before any key is chosen).

use std::future::Future;
use std::hash::BuildHasher;
use std::pin::Pin;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

mod b64;
mod cache;
mod http;
mod jellyfin;
mod jwks;
mod jwt;
mod users_me;

pub use jellyfin::JellyfinAuthenticator;

/// A boxed future, so that [`Authenticator`] can be used as a trait object.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Who a connection is, once authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// Stable user id: the Jellyfin user id, or `anon:<random>` for anonymous users.
    pub user_id: String,
    /// Display name shown to the other members.
    pub name: String,
    /// True when the identity was not checked against Jellyfin (demo / allow_anonymous).
    pub anonymous: bool,
}

/// What a `hello` carries that matters for authentication.
#[derive(Clone, Copy, Debug, Default)]
pub struct Credentials<'a> {
    /// `hello.token`: a Jellyfin-issued JWT or a raw Jellyfin access token.
    pub token: Option<&'a str>,
    /// `hello.name`: the display name, used only where anonymous access is allowed.
    pub name: Option<&'a str>,
}

/// Why a `hello` was not admitted. `reason` is a short, fixed label (never derived from the
/// token) used in logs and in the `auth_failures_total{reason}` metric.
///
/// `Unauthorized` reasons: `no_token`, `too_long`, `malformed`, `bad_alg`, `no_kid`,
/// `unknown_kid`, `bad_signature`, `expired`, `not_yet_valid`, `bad_audience`, `bad_issuer`,
/// `missing_claim`, `jellyfin_rejected`, `raw_tokens_disabled`.
///
/// `Unavailable` reasons: `jellyfin_timeout`, `jellyfin_unreachable`, `jellyfin_5xx`,
/// `jellyfin_bad_response`, `jellyfin_busy`, `jwks_unavailable`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthError {
    /// The credentials are wrong → `error{code:"unauthorized"}` and close 4001.
    Unauthorized {
        /// Fixed label such as `"expired"`, `"bad_signature"`, `"no_token"`.
        reason: &'static str,
    },
    /// A backend (Jellyfin) did not answer → `error{code:"unavailable"}`; the client may retry.
    Unavailable {
        /// Fixed label such as `"jellyfin_timeout"`, `"jellyfin_5xx"`.
        reason: &'static str,
    },
}

impl AuthError {
    /// The fixed label for logs and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            AuthError::Unauthorized { reason } | AuthError::Unavailable { reason } => reason,
        }
    }

    pub(crate) fn unauthorized(reason: &'static str) -> Self {
        AuthError::Unauthorized { reason }
    }

    pub(crate) fn unavailable(reason: &'static str) -> Self {
        AuthError::Unavailable { reason }
    }
}

/// Decides who a connection is.
pub trait Authenticator: Send + Sync + 'static {
    /// Check the credentials of one `hello`.
    fn authenticate<'a>(
        &'a self,
        creds: Credentials<'a>,
    ) -> BoxFuture<'a, Result<Identity, AuthError>>;

    /// Whether the backends this authenticator needs answer (feeds `GET /readyz`).
    fn ready(&self) -> BoxFuture<'_, bool> {
        Box::pin(async { true })
    }
}

/// Largest accepted `auth.leeway_secs`: a token that expired longer ago than this is refused
/// whatever the configuration says, so a misconfiguration cannot stretch a 5-minute token.
pub const MAX_LEEWAY_SECS: u64 = 5;

/// `[auth]` configuration section.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Admit connections without a token, with a display name from `hello.name`.
    /// Default `false`; `--demo` turns it on. When Jellyfin is configured as well, a `hello`
    /// that carries a token is still verified (a bad token is refused, never downgraded to
    /// anonymous); only a `hello` without a token gets an anonymous identity.
    pub allow_anonymous: bool,
    /// Path of a file with the public key(s) that verify Jellyfin-issued JWTs: a JWKS (the
    /// JSON that the plugin serves at `/Matinee/Jwks`) or one PEM RSA public key (its `kid` is
    /// its RFC 7638 thumbprint, which is what the plugin uses). Default: none (keys are fetched
    /// from `jellyfin.url`). Use it when the session server cannot reach Jellyfin; it replaces
    /// the JWKS fetch, and is read once at start.
    pub jwks_file: Option<String>,
    /// Accept raw Jellyfin access tokens (checked with `GET {jellyfin.url}/Users/Me`) besides
    /// JWTs, for clients without the plugin. Default `true`; needs `jellyfin.url`.
    pub jellyfin_tokens: bool,
    /// Clock skew tolerated on a JWT's `exp` and `nbf`, in seconds. Default `5`, at most `5`:
    /// tokens live 5 minutes, and a larger skew means the clocks need fixing, not the server.
    pub leeway_secs: u64,
    /// How often the JWKS is fetched again in the background, in seconds. Default `300`:
    /// a key the plugin rotates in is normally picked up on first use anyway (unknown `kid`
    /// triggers a refetch); the periodic refresh is what drops keys the plugin removed.
    pub jwks_refresh_secs: u64,
    /// Shortest interval between two JWKS fetches caused by tokens with an unknown `kid`, in
    /// seconds. Default `10`: a stranger sending made-up `kid`s must not turn the session
    /// server into a load generator against Jellyfin.
    pub jwks_min_refetch_secs: u64,
    /// How long a raw Jellyfin token that Jellyfin accepted is trusted without asking again,
    /// in seconds. Default `60`: a revoked token keeps working this long at most.
    pub token_cache_secs: u64,
    /// How long a raw Jellyfin token that Jellyfin refused is refused without asking again,
    /// in seconds. Default `5`: shields Jellyfin from a client retrying a bad token in a loop.
    pub token_negative_cache_secs: u64,
    /// Most raw-token answers kept in the cache. Default `10000`; bounds the memory a stranger
    /// can make the server spend by sending many different tokens.
    pub token_cache_entries: usize,
    /// Most `/Users/Me` requests to Jellyfin in flight at once; a raw-token check that cannot
    /// get a slot within half of `jellyfin.timeout_ms` is answered `unavailable`. Default `32`: plenty
    /// for real users (answers are cached), and a cap on what strangers with made-up tokens
    /// can make Jellyfin do.
    pub max_concurrent_checks: usize,
    /// Longest accepted token, in bytes. Default `4096`: a Matinee JWT is under 1 KiB and a
    /// Jellyfin access token 32 characters; anything much longer is refused before any parsing.
    pub max_token_bytes: usize,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            allow_anonymous: false,
            jwks_file: None,
            jellyfin_tokens: true,
            leeway_secs: MAX_LEEWAY_SECS,
            jwks_refresh_secs: 300,
            jwks_min_refetch_secs: 10,
            token_cache_secs: 60,
            token_negative_cache_secs: 5,
            token_cache_entries: 10_000,
            max_concurrent_checks: 32,
            max_token_bytes: 4096,
        }
    }
}

/// `[jellyfin]` configuration section.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct JellyfinConfig {
    /// Base URL of the Jellyfin server as seen from the session server, e.g. `http://jellyfin:8096`.
    /// Default: none. Used for the JWKS (unless `auth.jwks_file` is set) and for raw tokens.
    /// Give the final URL: redirects are not followed, so a token is never sent elsewhere.
    pub url: Option<String>,
    /// The Jellyfin server id (Dashboard → General, or `GET /System/Info/Public` → `Id`), which
    /// the plugin puts in the JWT's `iss`. Default: none, and then `iss` is not checked; set it
    /// when several Jellyfin servers could mint tokens with keys this server trusts.
    pub server_id: Option<String>,
    /// Path of the plugin's JWKS under `url`. Default `/Matinee/Jwks`.
    pub jwks_path: String,
    /// Timeout of each request to Jellyfin (connect + answer), in milliseconds. Default `3000`:
    /// long enough for a busy Jellyfin, short enough that a hung one yields `unavailable`
    /// quickly and the client retries.
    pub timeout_ms: u64,
}

impl Default for JellyfinConfig {
    fn default() -> Self {
        JellyfinConfig {
            url: None,
            server_id: None,
            jwks_path: "/Matinee/Jwks".into(),
            timeout_ms: 3000,
        }
    }
}

/// Build the authenticator that the configuration asks for.
///
/// - Jellyfin configured (`jellyfin.url` or `auth.jwks_file`): a [`JellyfinAuthenticator`],
///   which also admits token-less hellos anonymously when `auth.allow_anonymous` is set.
/// - Otherwise, `auth.allow_anonymous`: [`Anonymous`].
/// - Otherwise: an error saying what to configure.
///
/// Must be called inside a tokio runtime when keys are fetched from Jellyfin: the background
/// JWKS refresh is spawned here.
pub fn build(
    auth: &AuthConfig,
    jellyfin: &JellyfinConfig,
) -> Result<Arc<dyn Authenticator>, String> {
    if jellyfin.url.is_none() && auth.jwks_file.is_none() {
        if auth.allow_anonymous {
            return Ok(Arc::new(Anonymous));
        }
        return Err("no way to authenticate users: set jellyfin.url (or auth.jwks_file), or auth.allow_anonymous = true".into());
    }
    Ok(Arc::new(JellyfinAuthenticator::new(auth, jellyfin)?))
}

/// Admits everyone with a display name; for demo mode and `auth.allow_anonymous = true`.
pub struct Anonymous;

/// Longest display name kept, in characters.
pub const MAX_NAME_CHARS: usize = 40;

/// A display name fit to show to others: no control characters, at most [`MAX_NAME_CHARS`],
/// trimmed; `None` when nothing is left.
pub fn clean_name(raw: &str) -> Option<String> {
    let name: String = raw
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect();
    let name = name.trim();
    if name.is_empty() {
        None
    } else {
        Some(name.to_string())
    }
}

/// Jellyfin user ids are GUIDs, written with or without dashes and in either case depending
/// on the Jellyfin version and endpoint; the same user must get the same `user_id` whether
/// they came with a JWT or a raw token (resume compares them), so GUIDs are brought to the
/// 32-lowercase-hex form. Anything else is kept as it is.
pub(crate) fn normalize_user_id(id: &str) -> String {
    let hex: String = id.chars().filter(|&c| c != '-').collect();
    if hex.len() == 32 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        hex.to_ascii_lowercase()
    } else {
        id.to_string()
    }
}

impl Authenticator for Anonymous {
    fn authenticate<'a>(
        &'a self,
        creds: Credentials<'a>,
    ) -> BoxFuture<'a, Result<Identity, AuthError>> {
        Box::pin(async move {
            let name = clean_name(creds.name.unwrap_or("")).unwrap_or_else(|| "Guest".to_string());
            let id: u64 = std::collections::hash_map::RandomState::new()
                .hash_one(std::time::SystemTime::now());
            Ok(Identity {
                user_id: format!("anon:{id:016x}"),
                name,
                anonymous: true,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guid_user_ids_are_normalized() {
        assert_eq!(
            normalize_user_id("4F7C1A2B-9D3E-4F5A-8B6C-7D8E9F0A1B2C"),
            "4f7c1a2b9d3e4f5a8b6c7d8e9f0a1b2c"
        );
        assert_eq!(
            normalize_user_id("4f7c1a2b9d3e4f5a8b6c7d8e9f0a1b2c"),
            "4f7c1a2b9d3e4f5a8b6c7d8e9f0a1b2c"
        );
        assert_eq!(normalize_user_id("not-a-guid"), "not-a-guid");
    }

    #[test]
    fn names_are_cleaned() {
        assert_eq!(clean_name("  Ann\u{0}\n "), Some("Ann".to_string()));
        assert_eq!(clean_name(" \t "), None);
        assert_eq!(
            clean_name(&"x".repeat(100)).unwrap().chars().count(),
            MAX_NAME_CHARS
        );
    }

    #[tokio::test]
    async fn anonymous_gets_a_cleaned_name_and_a_fresh_id() {
        let a = Anonymous
            .authenticate(Credentials {
                token: None,
                name: Some("Bo\u{7}b"),
            })
            .await
            .unwrap();
        let b = Anonymous
            .authenticate(Credentials {
                token: None,
                name: None,
            })
            .await
            .unwrap();
        assert_eq!(a.name, "Bob");
        assert_eq!(b.name, "Guest");
        assert!(a.anonymous && a.user_id.starts_with("anon:"));
        assert_ne!(a.user_id, b.user_id);
    }

    #[test]
    fn build_refuses_a_configuration_that_admits_nobody() {
        let err = build(&AuthConfig::default(), &JellyfinConfig::default())
            .err()
            .unwrap();
        assert!(
            err.contains("jellyfin.url") && err.contains("allow_anonymous"),
            "{err}"
        );
    }

    #[test]
    fn build_checks_settings() {
        let jf = JellyfinConfig {
            url: Some("http://127.0.0.1:9".into()),
            ..Default::default()
        };
        let auth = AuthConfig {
            leeway_secs: 6,
            ..Default::default()
        };
        assert!(build(&auth, &jf).err().unwrap().contains("leeway_secs"));
        let bad_url = JellyfinConfig {
            url: Some("ftp://x".into()),
            ..Default::default()
        };
        assert!(build(&AuthConfig::default(), &bad_url)
            .err()
            .unwrap()
            .contains("jellyfin.url"));
        let missing = AuthConfig {
            jwks_file: Some("/nonexistent/jwks.json".into()),
            ..Default::default()
        };
        assert!(build(&missing, &JellyfinConfig::default())
            .err()
            .unwrap()
            .contains("auth.jwks_file"));
    }

    #[test]
    fn config_sections_parse_with_defaults_and_refuse_unknown_keys() {
        let auth: AuthConfig = serde_json::from_str(r#"{"allow_anonymous": true}"#).unwrap();
        assert_eq!(
            auth,
            AuthConfig {
                allow_anonymous: true,
                ..Default::default()
            }
        );
        assert!(serde_json::from_str::<AuthConfig>(r#"{"alow_anonymous": true}"#).is_err());
        let jf: JellyfinConfig = serde_json::from_str(r#"{"url": "http://jf:8096"}"#).unwrap();
        assert_eq!(jf.jwks_path, "/Matinee/Jwks");
        assert_eq!(jf.timeout_ms, 3000);
    }
}
