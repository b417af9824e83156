//! Verification of Jellyfin-issued JWTs (DESIGN §2 step 3–4).
//!
//! What is checked, in order, each refusal with its own reason label:
//! the header is read first (`malformed`), its `alg` must be exactly `RS256` (`bad_alg`: this
//! refuses `none`, and HS256 "signed" with the public key as an HMAC secret, before any key is
//! touched), `kid` must be present (`no_kid`) and known (`unknown_kid`, after one rate-limited
//! JWKS refetch); then `jsonwebtoken` checks the signature with that key, with the algorithm
//! pinned again (`bad_signature`), `exp` required with at most 5 s leeway (`expired`), `nbf`
//! when present (`not_yet_valid`), `aud` = `matinee` (`bad_audience`), `iss` = the configured
//! server id when there is one (`bad_issuer`); finally `sub` and `name` must be non-empty
//! strings (`missing_claim`).

use std::sync::Arc;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;

use crate::jwks::{KeyStore, MAX_KID_CHARS};
use crate::{b64, clean_name, normalize_user_id, AuthError, Identity};

/// The audience every Matinee token carries.
pub(crate) const AUDIENCE: &str = "matinee";
/// Longest accepted `sub` (Jellyfin user ids are 32 hex characters).
const MAX_SUB_CHARS: usize = 128;
/// Largest accepted header, decoded; the plugin's is ~80 bytes.
const MAX_HEADER_BYTES: usize = 1024;

/// Whether a token has the shape of a JWS compact serialization (three dot-separated parts);
/// anything else is treated as a raw Jellyfin token.
pub(crate) fn looks_like_jwt(token: &str) -> bool {
    token.bytes().filter(|&b| b == b'.').count() == 2
}

/// The header fields read before a key is chosen.
#[derive(Deserialize)]
struct RawHeader {
    alg: String,
    kid: Option<String>,
    /// RFC 7515 §4.1.11: a token that declares critical extensions this server does not know
    /// must be refused; this server knows none.
    crit: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

pub(crate) struct JwtVerifier {
    keys: Arc<KeyStore>,
    validation: Validation,
}

impl JwtVerifier {
    pub(crate) fn new(keys: Arc<KeyStore>, issuer: Option<&str>, leeway_secs: u64) -> Self {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = leeway_secs;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_audience(&[AUDIENCE]);
        let mut required = vec!["exp", "aud", "sub"];
        if let Some(iss) = issuer {
            validation.set_issuer(&[iss]);
            required.push("iss");
        }
        validation.set_required_spec_claims(&required);
        JwtVerifier { keys, validation }
    }

    pub(crate) async fn verify(&self, token: &str) -> Result<Identity, AuthError> {
        let kid = read_header(token)?;
        let key = self.keys.key(&kid).await?;
        let data = jsonwebtoken::decode::<Claims>(token, &key, &self.validation)
            .map_err(|e| map_error(e.kind()))?;
        let sub = data
            .claims
            .sub
            .filter(|s| {
                !s.is_empty()
                    && s.chars().count() <= MAX_SUB_CHARS
                    && !s.chars().any(char::is_control)
            })
            .map(|s| normalize_user_id(&s));
        let name = data.claims.name.as_deref().and_then(clean_name);
        match (sub, name) {
            (Some(user_id), Some(name)) => Ok(Identity {
                user_id,
                name,
                anonymous: false,
            }),
            _ => Err(AuthError::unauthorized("missing_claim")),
        }
    }

    pub(crate) async fn ready(&self) -> bool {
        self.keys.ready().await
    }
}

/// The `kid` of a token whose header declares RS256 and nothing this server cannot honour.
fn read_header(token: &str) -> Result<String, AuthError> {
    let malformed = || AuthError::unauthorized("malformed");
    let header_b64 = token.split('.').next().ok_or_else(malformed)?;
    if header_b64.len() > MAX_HEADER_BYTES * 4 / 3 + 4 {
        return Err(malformed());
    }
    let bytes = b64::decode_url_nopad(header_b64).ok_or_else(malformed)?;
    let header: RawHeader = serde_json::from_slice(&bytes).map_err(|_| malformed())?;
    if header.alg != "RS256" {
        return Err(AuthError::unauthorized("bad_alg"));
    }
    if header.crit.is_some() {
        return Err(malformed());
    }
    match header.kid {
        Some(kid) if !kid.is_empty() && kid.chars().count() <= MAX_KID_CHARS => Ok(kid),
        Some(_) => Err(malformed()),
        None => Err(AuthError::unauthorized("no_kid")),
    }
}

fn map_error(kind: &ErrorKind) -> AuthError {
    AuthError::unauthorized(match kind {
        ErrorKind::InvalidSignature => "bad_signature",
        ErrorKind::ExpiredSignature => "expired",
        ErrorKind::ImmatureSignature => "not_yet_valid",
        ErrorKind::InvalidAudience => "bad_audience",
        ErrorKind::InvalidIssuer => "bad_issuer",
        ErrorKind::MissingRequiredClaim(_) => "missing_claim",
        ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => "bad_alg",
        // Bad key material in a JWKS would also land here; it is refused all the same.
        ErrorKind::InvalidRsaKey(_) | ErrorKind::InvalidKeyFormat => "bad_signature",
        _ => "malformed",
    })
}
