//! The public keys that verify Jellyfin-issued JWTs, by `kid`.
//!
//! Two sources: the plugin's JWKS fetched from Jellyfin, or a file read once at start.
//! Fetched keys are replaced as a whole on every successful fetch, so a key the plugin drops
//! stops being accepted at the next refresh. A token with an unknown `kid` triggers a refetch
//! (the plugin may have rotated its key), at most once per `auth.jwks_min_refetch_secs`.

use std::collections::HashMap;
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, KeyAlgorithm, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::DecodingKey;
use tokio::time::Instant;

use crate::{http, AuthError};

/// Largest JWKS accepted, in bytes; the plugin's holds one or two keys (~1 KiB).
const MAX_JWKS_BYTES: usize = 64 * 1024;
/// Most keys kept from one JWKS.
const MAX_KEYS: usize = 32;
/// Longest `kid` accepted (the plugin's are 43 characters).
pub(crate) const MAX_KID_CHARS: usize = 128;

type Keys = HashMap<String, Arc<DecodingKey>>;

/// Where the keys come from.
enum Source {
    /// Loaded once from `auth.jwks_file`.
    File,
    /// Fetched from the plugin.
    Remote {
        client: reqwest::Client,
        url: String,
    },
}

struct State {
    keys: Keys,
    /// When the last fetch started (successful or not); drives the refetch rate limit.
    last_attempt: Option<Instant>,
    /// Whether the last fetch succeeded (feeds readiness, and tells "Jellyfin is down" from
    /// "this `kid` does not exist").
    last_ok: bool,
}

/// Keys by `kid`.
pub(crate) struct KeyStore {
    source: Source,
    /// Never held across `.await`: fetches build the new map first, then swap it in.
    state: RwLock<State>,
    /// Serialises fetches, so a burst of tokens with the same new `kid` causes one fetch,
    /// not one per token; an async mutex because it is held across the HTTP request.
    fetching: tokio::sync::Mutex<()>,
    min_refetch: Duration,
}

impl KeyStore {
    /// Keys from a JWKS or PEM file; errors say which file and what is wrong with it.
    pub(crate) fn from_file(path: &str) -> Result<Self, String> {
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("auth.jwks_file {path:?}: {e}"))?;
        let keys = parse_key_file(&text).map_err(|e| format!("auth.jwks_file {path:?}: {e}"))?;
        Ok(KeyStore {
            source: Source::File,
            state: RwLock::new(State {
                keys,
                last_attempt: None,
                last_ok: true,
            }),
            fetching: tokio::sync::Mutex::new(()),
            min_refetch: Duration::ZERO,
        })
    }

    /// Keys fetched from `url`; nothing is fetched until [`KeyStore::refresh`] or a lookup.
    pub(crate) fn remote(client: reqwest::Client, url: String, min_refetch: Duration) -> Self {
        KeyStore {
            source: Source::Remote { client, url },
            state: RwLock::new(State {
                keys: HashMap::new(),
                last_attempt: None,
                last_ok: false,
            }),
            fetching: tokio::sync::Mutex::new(()),
            min_refetch,
        }
    }

    fn cached(&self, kid: &str) -> Option<Arc<DecodingKey>> {
        self.state
            .read()
            .expect("key state lock poisoned")
            .keys
            .get(kid)
            .cloned()
    }

    /// The key for `kid`, refetching the JWKS once (rate-limited) when it is unknown.
    pub(crate) async fn key(&self, kid: &str) -> Result<Arc<DecodingKey>, AuthError> {
        if let Some(k) = self.cached(kid) {
            return Ok(k);
        }
        if matches!(self.source, Source::File) {
            return Err(AuthError::unauthorized("unknown_kid"));
        }
        let _guard = self.fetching.lock().await;
        // Another task may have fetched while this one waited.
        if let Some(k) = self.cached(kid) {
            return Ok(k);
        }
        let (recent, last_ok) = {
            let st = self.state.read().expect("key state lock poisoned");
            (
                st.last_attempt
                    .is_some_and(|t| t.elapsed() < self.min_refetch),
                st.last_ok,
            )
        };
        if recent {
            return Err(if last_ok {
                AuthError::unauthorized("unknown_kid")
            } else {
                AuthError::unavailable("jwks_unavailable")
            });
        }
        self.fetch_locked().await?;
        self.cached(kid)
            .ok_or(AuthError::unauthorized("unknown_kid"))
    }

    /// Fetch now (used by the background refresh), waiting for any fetch under way.
    pub(crate) async fn refresh(&self) -> Result<(), AuthError> {
        let _guard = self.fetching.lock().await;
        self.fetch_locked().await
    }

    /// Whether keys can be had: a file always; Jellyfin when the last fetch succeeded, or
    /// when a new attempt (rate-limited like unknown-`kid` refetches) succeeds now.
    pub(crate) async fn ready(&self) -> bool {
        if matches!(self.source, Source::File) {
            return true;
        }
        if self.state.read().expect("key state lock poisoned").last_ok {
            return true;
        }
        let _guard = self.fetching.lock().await;
        let recent = {
            let st = self.state.read().expect("key state lock poisoned");
            if st.last_ok {
                return true;
            }
            st.last_attempt
                .is_some_and(|t| t.elapsed() < self.min_refetch)
        };
        !recent && self.fetch_locked().await.is_ok()
    }

    /// One fetch; the caller holds `fetching`.
    async fn fetch_locked(&self) -> Result<(), AuthError> {
        let Source::Remote { client, url } = &self.source else {
            return Ok(());
        };
        self.state
            .write()
            .expect("key state lock poisoned")
            .last_attempt = Some(Instant::now());
        let result = fetch(client, url).await;
        let mut st = self.state.write().expect("key state lock poisoned");
        match result {
            Ok(keys) => {
                tracing::debug!(keys = keys.len(), url = %url, "JWKS fetched");
                st.keys = keys;
                st.last_ok = true;
                Ok(())
            }
            Err(e) => {
                // Old keys stay: tokens signed with them still verify while Jellyfin is away.
                tracing::warn!(reason = e.reason(), url = %url, "JWKS fetch failed");
                st.last_ok = false;
                Err(e)
            }
        }
    }

    /// Refresh every `every` (retrying after `retry` while failing) until the store is dropped.
    pub(crate) fn spawn_refresh(self: &Arc<Self>, every: Duration, retry: Duration) {
        if matches!(self.source, Source::File) {
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            // No runtime (e.g. a config check): keys are then fetched on first use.
            return;
        };
        let weak: Weak<Self> = Arc::downgrade(self);
        handle.spawn(async move {
            loop {
                let Some(store) = weak.upgrade() else { return };
                let ok = store.refresh().await.is_ok();
                drop(store);
                tokio::time::sleep(if ok { every } else { retry.min(every) }).await;
            }
        });
    }
}

async fn fetch(client: &reqwest::Client, url: &str) -> Result<Keys, AuthError> {
    let resp = client
        .get(url)
        .send()
        .await
        .map_err(|e| http::transport_error(&e))?;
    let status = resp.status();
    if status.is_server_error() {
        return Err(AuthError::unavailable("jellyfin_5xx"));
    }
    if !status.is_success() {
        tracing::warn!(status = status.as_u16(), url = %url, "JWKS request answered with an unexpected status");
        return Err(AuthError::unavailable("jellyfin_bad_response"));
    }
    let body = http::read_limited(resp, MAX_JWKS_BYTES).await?;
    let text =
        std::str::from_utf8(&body).map_err(|_| AuthError::unavailable("jellyfin_bad_response"))?;
    parse_jwks(text).map_err(|e| {
        tracing::warn!(error = %e, url = %url, "JWKS from Jellyfin is not usable");
        AuthError::unavailable("jellyfin_bad_response")
    })
}

/// A JWKS or a PEM public key.
pub(crate) fn parse_key_file(text: &str) -> Result<Keys, String> {
    if text.trim_start().starts_with("-----BEGIN") {
        let key = DecodingKey::from_rsa_pem(text.as_bytes())
            .map_err(|e| format!("not an RSA public key in PEM form: {e}"))?;
        let jwk = Jwk::from_decoding_key(&key, None)
            .map_err(|e| format!("cannot read the RSA public key: {e}"))?;
        let kid = jwk
            .thumbprint(ThumbprintHash::SHA256)
            .map_err(|e| format!("cannot compute the key's thumbprint: {e}"))?;
        Ok(HashMap::from([(kid, Arc::new(key))]))
    } else {
        parse_jwks(text)
    }
}

/// The usable keys of a JWKS: RSA, with a `kid`, for signatures, RS256 or unspecified. Other
/// keys are skipped (a JWKS may legitimately hold keys for other purposes); a JWKS with no
/// usable key is an error, so that a broken answer never empties the key store.
pub(crate) fn parse_jwks(text: &str) -> Result<Keys, String> {
    #[derive(serde::Deserialize)]
    struct RawSet {
        keys: Vec<serde_json::Value>,
    }
    let set: RawSet = serde_json::from_str(text).map_err(|e| format!("not a JWKS: {e}"))?;
    let mut keys = HashMap::new();
    for raw in set.keys {
        if keys.len() >= MAX_KEYS {
            break;
        }
        let Ok(jwk) = serde_json::from_value::<Jwk>(raw) else {
            continue;
        };
        let Some(kid) = jwk.common.key_id.clone() else {
            continue;
        };
        if kid.is_empty() || kid.chars().count() > MAX_KID_CHARS {
            continue;
        }
        if !matches!(
            jwk.common.public_key_use,
            None | Some(PublicKeyUse::Signature)
        ) {
            continue;
        }
        if !matches!(jwk.common.key_algorithm, None | Some(KeyAlgorithm::RS256)) {
            continue;
        }
        if !matches!(jwk.algorithm, AlgorithmParameters::RSA(_)) {
            continue;
        }
        let Ok(key) = DecodingKey::from_jwk(&jwk) else {
            continue;
        };
        keys.insert(kid, Arc::new(key));
    }
    if keys.is_empty() {
        return Err("no usable RS256 signing key with a kid".into());
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn testdata(name: &str) -> String {
        let path = format!("{}/../../testdata/jwt/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    const KID: &str = "0RJvOQBms4XOebjUbBNaAyn3bwk3_DsTTqUQBhC-bMQ";

    #[test]
    fn reads_the_test_jwks() {
        let keys = parse_jwks(&testdata("jwks.json")).unwrap();
        assert_eq!(keys.keys().collect::<Vec<_>>(), vec![KID]);
    }

    #[test]
    fn a_pem_public_key_gets_its_thumbprint_as_kid() {
        let keys = parse_key_file(&testdata("test-key.pub.pem")).unwrap();
        assert_eq!(
            keys.keys().collect::<Vec<_>>(),
            vec![KID],
            "kid must match the plugin's (RFC 7638)"
        );
    }

    #[test]
    fn skips_unusable_keys_and_refuses_a_jwks_without_usable_ones() {
        let jwks = testdata("jwks.json");
        let mut v: serde_json::Value = serde_json::from_str(&jwks).unwrap();
        let good = v["keys"][0].clone();
        let mut enc = good.clone();
        enc["use"] = "enc".into();
        enc["kid"] = "enc".into();
        let mut hs =
            serde_json::json!({"kty": "oct", "k": "c2VjcmV0", "kid": "hmac", "alg": "HS256"});
        hs["use"] = "sig".into();
        let mut no_kid = good.clone();
        no_kid.as_object_mut().unwrap().remove("kid");
        let mut es = good.clone();
        es["alg"] = "RS512".into();
        es["kid"] = "rs512".into();
        v["keys"] = serde_json::json!([enc, hs, no_kid, es, "junk", good]);
        let keys = parse_jwks(&v.to_string()).unwrap();
        assert_eq!(keys.keys().collect::<Vec<_>>(), vec![KID]);

        v["keys"] = serde_json::json!([v["keys"][0], v["keys"][1]]);
        assert!(parse_jwks(&v.to_string()).is_err());
        assert!(parse_jwks("{}").is_err());
        assert!(parse_jwks("<html>").is_err());
        assert!(
            parse_key_file("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").is_err()
        );
    }
}
