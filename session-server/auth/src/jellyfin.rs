//! [`JellyfinAuthenticator`]: who may enter when Matinee belongs to a Jellyfin server.

use std::sync::Arc;
use std::time::Duration;

use crate::jwks::KeyStore;
use crate::jwt::{looks_like_jwt, JwtVerifier};
use crate::users_me::UsersMe;
use crate::MAX_LEEWAY_SECS;
use crate::{
    http, Anonymous, AuthConfig, AuthError, Authenticator, BoxFuture, Credentials, Identity,
    JellyfinConfig,
};

/// Admits users of one Jellyfin server: JWTs issued by the Matinee plugin (keys from its
/// JWKS or from `auth.jwks_file`), and, when enabled, raw Jellyfin access tokens. A `hello`
/// without a token gets an anonymous identity when `auth.allow_anonymous` is set, and is
/// refused otherwise; a `hello` with a token is always verified.
pub struct JellyfinAuthenticator {
    jwt: JwtVerifier,
    raw: Option<UsersMe>,
    allow_anonymous: bool,
    max_token_bytes: usize,
}

impl JellyfinAuthenticator {
    /// Build from configuration; errors name the offending setting. Needs `jellyfin.url` or
    /// `auth.jwks_file`. Inside a tokio runtime, starts the background JWKS refresh.
    pub fn new(auth: &AuthConfig, jellyfin: &JellyfinConfig) -> Result<Self, String> {
        if auth.leeway_secs > MAX_LEEWAY_SECS {
            return Err(format!(
                "auth.leeway_secs = {} is too large: at most {MAX_LEEWAY_SECS}",
                auth.leeway_secs
            ));
        }
        if auth.max_token_bytes == 0 {
            return Err("auth.max_token_bytes must be at least 1".into());
        }
        if auth.max_concurrent_checks == 0 {
            return Err("auth.max_concurrent_checks must be at least 1".into());
        }
        if auth.jwks_refresh_secs == 0 {
            return Err("auth.jwks_refresh_secs must be at least 1".into());
        }
        let base = jellyfin.url.as_deref().map(http::base_url).transpose()?;
        let client = match &base {
            Some(_) => Some(http::client(jellyfin.timeout_ms)?),
            None => None,
        };
        let keys = match (&auth.jwks_file, &base, &client) {
            (Some(path), _, _) => Arc::new(KeyStore::from_file(path)?),
            (None, Some(base), Some(client)) => {
                if !jellyfin.jwks_path.starts_with('/') {
                    return Err(format!(
                        "jellyfin.jwks_path {:?} must start with '/'",
                        jellyfin.jwks_path
                    ));
                }
                let store = Arc::new(KeyStore::remote(
                    client.clone(),
                    format!("{base}{}", jellyfin.jwks_path),
                    Duration::from_secs(auth.jwks_min_refetch_secs),
                ));
                store.spawn_refresh(
                    Duration::from_secs(auth.jwks_refresh_secs),
                    Duration::from_secs(auth.jwks_min_refetch_secs.max(1)),
                );
                store
            }
            _ => {
                return Err(
                    "no way to verify Matinee tokens: set jellyfin.url or auth.jwks_file".into(),
                )
            }
        };
        let raw = match (&base, client) {
            (Some(base), Some(client)) if auth.jellyfin_tokens => {
                Some(UsersMe::new(client, base, auth, jellyfin.timeout_ms))
            }
            _ => None,
        };
        let issuer = jellyfin.server_id.as_deref().filter(|s| !s.is_empty());
        Ok(JellyfinAuthenticator {
            jwt: JwtVerifier::new(keys, issuer, auth.leeway_secs),
            raw,
            allow_anonymous: auth.allow_anonymous,
            max_token_bytes: auth.max_token_bytes,
        })
    }

    async fn check(&self, creds: Credentials<'_>) -> Result<Identity, AuthError> {
        let token = match creds.token.map(str::trim) {
            None | Some("") if self.allow_anonymous => return Anonymous.authenticate(creds).await,
            None | Some("") => return Err(AuthError::unauthorized("no_token")),
            Some(t) => t,
        };
        if token.len() > self.max_token_bytes {
            return Err(AuthError::unauthorized("too_long"));
        }
        if looks_like_jwt(token) {
            return self.jwt.verify(token).await;
        }
        match &self.raw {
            Some(raw) => raw.check(token).await,
            None => Err(AuthError::unauthorized("raw_tokens_disabled")),
        }
    }
}

impl Authenticator for JellyfinAuthenticator {
    fn authenticate<'a>(
        &'a self,
        creds: Credentials<'a>,
    ) -> BoxFuture<'a, Result<Identity, AuthError>> {
        Box::pin(async move {
            let result = self.check(creds).await;
            // Never the token: only the outcome, the user id, and the fixed reason label.
            match &result {
                Ok(id) => {
                    tracing::debug!(user_id = %id.user_id, anonymous = id.anonymous, "authenticated")
                }
                Err(e) => tracing::debug!(reason = e.reason(), "authentication refused"),
            }
            result
        })
    }

    fn ready(&self) -> BoxFuture<'_, bool> {
        Box::pin(self.jwt.ready())
    }
}
