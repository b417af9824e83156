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
//!   [`build`], which picks the authenticator from configuration.
//! - the anonymous authenticator (demo mode and `auth.allow_anonymous`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

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
}

/// Decides who a connection is.
pub trait Authenticator: Send + Sync + 'static {
    /// Check the credentials of one `hello`.
    fn authenticate<'a>(&'a self, creds: Credentials<'a>) -> BoxFuture<'a, Result<Identity, AuthError>>;

    /// Whether the backends this authenticator needs answer (feeds `GET /readyz`).
    fn ready(&self) -> BoxFuture<'_, bool> {
        Box::pin(async { true })
    }
}

/// `[auth]` configuration section.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Admit connections without a token, with a display name from `hello.name`.
    /// Off by default; `--demo` turns it on.
    pub allow_anonymous: bool,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig { allow_anonymous: false }
    }
}

/// `[jellyfin]` configuration section.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct JellyfinConfig {
    /// Base URL of the Jellyfin server as seen from the session server, e.g. `http://jellyfin:8096`.
    pub url: Option<String>,
}

/// Build the authenticator that the configuration asks for.
pub fn build(auth: &AuthConfig, _jellyfin: &JellyfinConfig) -> Result<Arc<dyn Authenticator>, String> {
    if auth.allow_anonymous {
        return Ok(Arc::new(Anonymous));
    }
    Err("no way to authenticate users: set jellyfin.url (or auth.jwks_file), or auth.allow_anonymous = true".into())
}

/// Admits everyone with a display name; for demo mode and `auth.allow_anonymous = true`.
pub struct Anonymous;

/// Longest display name kept, in characters.
pub const MAX_NAME_CHARS: usize = 40;

impl Authenticator for Anonymous {
    fn authenticate<'a>(&'a self, creds: Credentials<'a>) -> BoxFuture<'a, Result<Identity, AuthError>> {
        Box::pin(async move {
            let name: String = creds
                .name
                .unwrap_or("")
                .chars()
                .filter(|c| !c.is_control())
                .take(MAX_NAME_CHARS)
                .collect::<String>()
                .trim()
                .to_string();
            let name = if name.is_empty() { "Guest".to_string() } else { name };
            let id: u64 = std::collections::hash_map::RandomState::new()
                .hash_one(std::time::SystemTime::now());
            Ok(Identity { user_id: format!("anon:{id:016x}"), name, anonymous: true })
        })
    }
}

use std::hash::BuildHasher;
