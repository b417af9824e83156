//! Test tokens minted with the test keys in `testdata/jwt/` (TEST ONLY keys).
#![allow(dead_code)]

use jsonwebtoken::jwk::{Jwk, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

/// `kid` of the first test key (`test-key.pem`), as in `jwks.json` and `vector.json`.
pub const KID1: &str = "0RJvOQBms4XOebjUbBNaAyn3bwk3_DsTTqUQBhC-bMQ";
/// The Jellyfin server id used as `iss` in the vector.
pub const ISS: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
/// The vector's user.
pub const SUB: &str = "4f7c1a2b9d3e4f5a8b6c7d8e9f0a1b2c";
/// A second user.
pub const SUB_BOB: &str = "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0";
/// Far-future `exp` (2100-01-01) so committed tokens stay valid.
pub const FAR_EXP: u64 = 4_102_444_800;
/// The vector's `iat`.
pub const IAT: u64 = 1_767_225_600;

pub fn testdata_path(name: &str) -> String {
    format!("{}/../../testdata/jwt/{name}", env!("CARGO_MANIFEST_DIR"))
}

pub fn testdata(name: &str) -> String {
    let path = testdata_path(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn vector() -> Value {
    serde_json::from_str(&testdata("vector.json")).unwrap()
}

/// The JWKS with the first test key, as the plugin would publish it.
pub fn jwks1() -> Value {
    serde_json::from_str(&testdata("jwks.json")).unwrap()
}

pub fn key1() -> EncodingKey {
    EncodingKey::from_rsa_pem(testdata("test-key.pem").as_bytes()).unwrap()
}

pub fn key2() -> EncodingKey {
    EncodingKey::from_rsa_pem(testdata("test-key-2.pem").as_bytes()).unwrap()
}

/// The public JWK of a private key, with its RFC 7638 thumbprint as `kid` (what the plugin does).
pub fn public_jwk(key: &EncodingKey) -> Value {
    let mut jwk = Jwk::from_encoding_key(key, Algorithm::RS256).unwrap();
    jwk.common.key_id = Some(jwk.thumbprint(ThumbprintHash::SHA256).unwrap());
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    serde_json::to_value(&jwk).unwrap()
}

pub fn kid2() -> String {
    public_jwk(&key2())["kid"].as_str().unwrap().to_string()
}

/// A JWKS with both test keys (after the plugin rotated in key 2).
pub fn jwks_both() -> Value {
    json!({"keys": [jwks1()["keys"][0].clone(), public_jwk(&key2())]})
}

pub fn b64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

pub fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

/// Claims like the plugin's, valid for 5 minutes from now.
pub fn fresh_claims(sub: &str, name: &str) -> Value {
    let now = now();
    json!({"sub": sub, "name": name, "aud": "matinee", "iss": ISS, "iat": now, "nbf": now, "exp": now + 300})
}

/// RS256 with `key`, header `kid` as given.
pub fn sign(key: &EncodingKey, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = kid.map(str::to_string);
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

/// A token with a hand-written header and no signature check possible (e.g. `alg: none`).
pub fn unsigned(header: &Value, claims: &Value, signature: &str) -> String {
    format!(
        "{}.{}.{signature}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    )
}

/// HS256 "signed" with the RSA public key (PEM text) as the HMAC secret: the classic
/// algorithm-confusion attack.
pub fn hs256_with_public_key(claims: &Value) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(KID1.into());
    let secret = testdata("test-key.pub.pem");
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// Same header and signature, payload swapped: the signature no longer matches.
pub fn tampered(valid: &str, claims: &Value) -> String {
    let mut parts = valid.split('.');
    let (h, _, s) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    format!("{h}.{}.{s}", b64url(claims.to_string().as_bytes()))
}

fn fixed(sub: &str, name: &str) -> Value {
    json!({"sub": sub, "name": name, "aud": "matinee", "iss": ISS, "iat": IAT, "nbf": IAT, "exp": FAR_EXP})
}

fn without(mut v: Value, key: &str) -> Value {
    v.as_object_mut().unwrap().remove(key);
    v
}

fn with(mut v: Value, key: &str, value: Value) -> Value {
    v[key] = value;
    v
}

/// The committed token set (`testdata/jwt/tokens.json`): deterministic (RS256 signatures are),
/// with far-future or long-past times, so tests of the whole server can use them without a JWT
/// library. `expect` is `"ok"` or the `unauthorized` reason against `jwks.json` with
/// `jellyfin.server_id` set to [`ISS`]; `key2` is `"ok"` only once `jwks-rotated.json` is served.
pub fn fixed_cases() -> Value {
    let k1 = key1();
    let valid = vector()["token"].as_str().unwrap().to_string();
    let alice = fixed(SUB, "Test User");
    let bob = fixed(SUB_BOB, "Bob");
    let case = |token: String, expect: &str| json!({"token": token, "expect": expect});
    let mut cases = serde_json::Map::new();
    let mut ok = |name: &str, token: String, sub: &str, user: &str| {
        cases.insert(
            name.into(),
            json!({"token": token, "expect": "ok", "user_id": sub, "name": user}),
        );
    };
    ok("valid", valid.clone(), SUB, "Test User");
    ok("valid_bob", sign(&k1, Some(KID1), &bob), SUB_BOB, "Bob");
    ok(
        "key2",
        sign(&key2(), Some(&kid2()), &alice),
        SUB,
        "Test User",
    );
    let mut add = |name: &str, v: Value| {
        cases.insert(name.into(), v);
    };
    add(
        "expired",
        case(
            sign(
                &k1,
                Some(KID1),
                &with(
                    with(alice.clone(), "nbf", IAT.into()),
                    "exp",
                    (IAT + 300).into(),
                ),
            ),
            "expired",
        ),
    );
    add(
        "not_yet_valid",
        case(
            sign(
                &k1,
                Some(KID1),
                &with(alice.clone(), "nbf", (FAR_EXP - 600).into()),
            ),
            "not_yet_valid",
        ),
    );
    add(
        "wrong_aud",
        case(
            sign(
                &k1,
                Some(KID1),
                &with(alice.clone(), "aud", "jellyfin".into()),
            ),
            "bad_audience",
        ),
    );
    add(
        "wrong_iss",
        case(
            sign(
                &k1,
                Some(KID1),
                &with(
                    alice.clone(),
                    "iss",
                    "ffffffffffffffffffffffffffffffff".into(),
                ),
            ),
            "bad_issuer",
        ),
    );
    add(
        "unknown_kid",
        case(sign(&k1, Some("no-such-kid"), &alice), "unknown_kid"),
    );
    add("no_kid", case(sign(&k1, None, &alice), "no_kid"));
    add(
        "bad_signature",
        case(
            tampered(&valid, &with(alice.clone(), "sub", SUB_BOB.into())),
            "bad_signature",
        ),
    );
    add(
        "alg_none",
        case(
            unsigned(
                &json!({"alg": "none", "kid": KID1, "typ": "JWT"}),
                &alice,
                "",
            ),
            "bad_alg",
        ),
    );
    add(
        "hs256_public_key",
        case(hs256_with_public_key(&alice), "bad_alg"),
    );
    add(
        "missing_sub",
        case(
            sign(&k1, Some(KID1), &without(alice.clone(), "sub")),
            "missing_claim",
        ),
    );
    add(
        "missing_name",
        case(
            sign(&k1, Some(KID1), &without(alice.clone(), "name")),
            "missing_claim",
        ),
    );
    add(
        "missing_exp",
        case(
            sign(&k1, Some(KID1), &without(alice.clone(), "exp")),
            "missing_claim",
        ),
    );
    add(
        "missing_aud",
        case(
            sign(&k1, Some(KID1), &without(alice.clone(), "aud")),
            "missing_claim",
        ),
    );
    json!({
        "_comment": "TEST ONLY tokens, minted by the matinee-auth tests with test-key.pem (kid in jwks.json) and test-key-2.pem (kid in jwks-rotated.json). `expect` is \"ok\" or the unauthorized reason, with jellyfin.server_id = the vector's iss. Regenerate: MATINEE_BLESS=1 cargo test -p matinee-auth --test vectors committed_tokens_are.",
        "iss": ISS,
        "cases": Value::Object(cases),
    })
}
