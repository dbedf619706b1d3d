//! Tokens of an external identity provider (e.g. Better Auth), accepted on Bearer routes when
//! configured (`EXTERNAL_*`, see [`crate::config::ExternalJwt`]).
//!
//! The algorithm is fixed by the key, never by the token: an HS256 shared secret verifies
//! HS256 only; a JWKS key verifies the one algorithm its `kty`/`crv` (and `alg`, if given)
//! imply (OKP Ed25519 -> EdDSA, EC P-256 -> ES256, RSA -> RS256). Symmetric (`oct`) keys of
//! a JWKS are ignored, so a public document can never supply an HMAC key. `exp`, `iss`,
//! `aud` and `sub` are required, with the built-in tokens' 30 s leeway; `typ` must be absent
//! (as in Better Auth's tokens) or `JWT` (taskline's own `at+jwt` is never accepted here).
//! `sub` is taken exactly as signed: `" a"` and `"a"` are two subjects.
//!
//! The `email` claim is the user's address as shown; it is reserved (no other account may
//! use it) only if the token says the provider verified it: `email_verified: true` (OpenID
//! Connect) or `emailVerified: true` (Better Auth, which puts its user object in the claims).
//! Otherwise anyone who signs up at the provider with someone else's address would take that
//! address from its owner.
//!
//! The JWKS is fetched lazily by the first external token of a cold start and kept for the
//! life of the process; it is fetched again only for a token naming an unknown `kid`, and at
//! most once a minute (so a flood of made-up `kid`s costs the provider one request a minute).
//! A fetch gives up after [`FETCH_TIMEOUT`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::Mutex;

use super::{Email, TOKEN_TYPE, User, UserId, UserName};
use crate::config::{ExternalJwt, ExternalKeys};
use crate::error::ApiError;

/// Clock skew tolerated on `exp` (as for taskline's own tokens).
const LEEWAY_SECS: u64 = 30;
/// Least time between two fetches of the JWKS.
pub const JWKS_REFETCH_INTERVAL: Duration = Duration::from_secs(60);
/// Connecting to the provider.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// A whole fetch of the JWKS (connect, TLS, request, body).
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(4);
/// Largest JWKS document read (a few keys are a few KiB).
const MAX_JWKS_BYTES: usize = 64 * 1024;
/// Longest `sub` accepted (it is part of a DynamoDB key).
const MAX_SUBJECT_CHARS: usize = 255;
/// Domain of the placeholder email of a user whose token carries no usable `email`
/// (`.invalid` is reserved and never delivers, RFC 2606).
const NO_EMAIL_DOMAIN: &str = "external.invalid";
/// Name of a user whose token carries neither a usable `name` nor `email`.
const DEFAULT_NAME: &str = "Taskline user";

/// A token the provider signed and that is current, for `issuer`'s user `subject`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalIdentity {
    pub issuer: String,
    pub subject: String,
    /// The `email` claim, if it is a valid address.
    pub email: Option<Email>,
    /// Whether the provider says it verified `email` (`email_verified` or `emailVerified`
    /// is `true`): only then is the address reserved for this user.
    pub email_verified: bool,
    /// The `name` claim, if it is a valid display name (longer ones are shortened).
    pub name: Option<UserName>,
    /// When the token was issued (`iat`, Unix seconds), if it says: how recently the user
    /// signed in at the provider, for actions that ask for a fresh sign-in.
    pub issued_at: Option<i64>,
}

impl ExternalIdentity {
    /// The taskline user created for this identity on its first use.
    pub fn new_user(&self) -> User {
        let id = UserId::generate();
        let name = self.name.clone().or_else(|| {
            let local = self.email.as_ref()?.as_str().split('@').next()?;
            UserName::parse(local).ok()
        });
        let email = self
            .email
            .clone()
            .or_else(|| Email::parse(&format!("{}@{NO_EMAIL_DOMAIN}", id.as_uuid().simple())).ok());
        let mut user = User::new(
            email.unwrap_or_else(|| Email::from_stored(format!("user@{NO_EMAIL_DOMAIN}"))),
            name.unwrap_or_else(|| UserName::from_stored(DEFAULT_NAME.into())),
        );
        user.id = id;
        user.email_verified = self.email_verified && self.email.is_some();
        user
    }
}

/// A string claim, trimmed (claims of other types count as absent).
fn claim(value: &Option<Value>) -> Option<&str> {
    value.as_ref().and_then(Value::as_str).map(str::trim)
}

/// A boolean claim that is `true` (also as the string `"true"`, as some providers send it).
fn claim_is_true(value: &Option<Value>) -> bool {
    match value {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true",
        _ => false,
    }
}

#[derive(Deserialize)]
struct ExternalClaims {
    iss: String,
    sub: String,
    #[serde(default)]
    email: Option<Value>,
    #[serde(default)]
    email_verified: Option<Value>,
    /// Better Auth's spelling (its user object's field).
    #[serde(default, rename = "emailVerified")]
    email_verified_camel_case: Option<Value>,
    #[serde(default)]
    name: Option<Value>,
    #[serde(default)]
    iat: Option<Value>,
}

/// The verifier of the configured external provider's tokens. Shared by all requests of a
/// process (its JWKS cache lives here).
pub struct ExternalTokens {
    issuer: String,
    audience: String,
    keys: Keys,
}

enum Keys {
    Secret(DecodingKey),
    Jwks(Box<Jwks>),
}

/// A key of the JWKS and the one algorithm it verifies.
struct VerifyingKey {
    key: DecodingKey,
    algorithm: Algorithm,
}

struct Jwks {
    url: hyper::Uri,
    refetch_interval: Duration,
    cache: Mutex<JwksCache>,
}

#[derive(Default)]
struct JwksCache {
    /// Built at the first fetch (loading the system's root certificates costs a few ms).
    client: Option<HttpClient>,
    keys: HashMap<String, Arc<VerifyingKey>>,
    /// When the last fetch started (successful or not).
    fetched_at: Option<Instant>,
}

type HttpClient = Client<HttpsConnector<HttpConnector>, Empty<Bytes>>;

fn refused(detail: &'static str) -> ApiError {
    ApiError::unauthorized_bearer(detail)
}

/// 503: the provider's keys cannot be had (unreachable, or a JWKS without usable keys).
fn keys_unavailable(reason: &str) -> ApiError {
    ApiError::Unavailable {
        context: "external JWKS unavailable",
        source: reason.into(),
    }
}

impl ExternalTokens {
    pub fn new(config: &ExternalJwt) -> Self {
        let keys = match &config.keys {
            ExternalKeys::Secret(secret) => Keys::Secret(DecodingKey::from_secret(secret.expose())),
            ExternalKeys::Jwks(url) => Keys::Jwks(Box::new(Jwks {
                url: url.clone(),
                refetch_interval: JWKS_REFETCH_INTERVAL,
                cache: Mutex::default(),
            })),
        };
        Self {
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            keys,
        }
    }

    /// The same verifier with another least time between JWKS fetches (tests of key rotation
    /// that cannot wait a minute).
    pub fn with_refetch_interval(mut self, interval: Duration) -> Self {
        if let Keys::Jwks(jwks) = &mut self.keys {
            jwks.refetch_interval = interval;
        }
        self
    }

    /// Whether `token` is for this path rather than taskline's own verifier: any token whose
    /// header is not taskline's `typ`. (Only a routing decision: each path verifies fully.)
    pub fn is_candidate(token: &str) -> bool {
        jsonwebtoken::decode_header(token)
            .map(|header| header.typ.as_deref() != Some(TOKEN_TYPE))
            .unwrap_or(false)
    }

    /// The identity a token of the provider proves, if it is intact, current and for us.
    pub async fn verify(&self, token: &str) -> Result<ExternalIdentity, ApiError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| refused("the access token is malformed"))?;
        if header
            .typ
            .as_deref()
            .is_some_and(|typ| !typ.eq_ignore_ascii_case("JWT"))
        {
            return Err(refused("the access token is not of an accepted type"));
        }
        let (key, algorithm) = match &self.keys {
            Keys::Secret(key) => (key.clone(), Algorithm::HS256),
            Keys::Jwks(jwks) => {
                let key = jwks.key(header.kid.as_deref()).await?;
                (key.key.clone(), key.algorithm)
            }
        };
        if header.alg != algorithm {
            return Err(refused(
                "the access token is not signed as its key requires",
            ));
        }
        let mut validation = Validation::new(algorithm);
        validation.algorithms = vec![algorithm];
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        let claims = jsonwebtoken::decode::<ExternalClaims>(token, &key, &validation)
            .map_err(|_| refused("the access token is invalid or expired"))?
            .claims;
        // Not trimmed: the provider's subject is compared exactly, as signed (one of nothing
        // but whitespace names no one).
        let subject = claims.sub.as_str();
        if subject.trim().is_empty()
            || subject.chars().count() > MAX_SUBJECT_CHARS
            || subject.chars().any(char::is_control)
        {
            return Err(refused("the access token has no valid subject"));
        }
        Ok(ExternalIdentity {
            issuer: claims.iss,
            subject: subject.to_string(),
            email: claim(&claims.email).and_then(|email| Email::parse(email).ok()),
            email_verified: claim_is_true(&claims.email_verified)
                || claim_is_true(&claims.email_verified_camel_case),
            name: claim(&claims.name).and_then(|name| {
                let shortened: String = name.chars().take(100).collect();
                UserName::parse(&shortened).ok()
            }),
            // Seconds, possibly fractional; anything else counts as absent.
            issued_at: claims
                .iat
                .as_ref()
                .and_then(|iat| iat.as_i64().or_else(|| iat.as_f64().map(|f| f as i64))),
        })
    }
}

impl Jwks {
    /// The key named `kid`, fetching the JWKS if it was never fetched, or if `kid` is unknown
    /// and the last fetch is at least `refetch_interval` old. Concurrent requests wait for one
    /// fetch (the cache's lock is held across it).
    async fn key(&self, kid: Option<&str>) -> Result<Arc<VerifyingKey>, ApiError> {
        let kid = kid.ok_or(refused("the access token names no key (kid)"))?;
        let mut cache = self.cache.lock().await;
        if let Some(key) = cache.keys.get(kid) {
            return Ok(Arc::clone(key));
        }
        let due = cache
            .fetched_at
            .is_none_or(|at| at.elapsed() >= self.refetch_interval);
        if !due {
            return Err(if cache.keys.is_empty() {
                // Still no keys since the failed fetch: the provider is the problem, not the
                // token (a 401 would send clients to sign in again for nothing).
                keys_unavailable("no keys since the last fetch")
            } else {
                refused("the access token names an unknown key")
            });
        }
        cache.fetched_at = Some(Instant::now());
        match self.fetch(&mut cache.client).await {
            Ok(keys) => {
                tracing::info!(keys = keys.len(), "external JWKS fetched");
                cache.keys = keys;
            }
            Err(reason) => {
                tracing::warn!(%reason, "external JWKS could not be fetched");
                if cache.keys.is_empty() {
                    return Err(keys_unavailable(&reason));
                }
            }
        }
        cache
            .keys
            .get(kid)
            .map(Arc::clone)
            .ok_or(refused("the access token names an unknown key"))
    }

    async fn fetch(
        &self,
        client: &mut Option<HttpClient>,
    ) -> Result<HashMap<String, Arc<VerifyingKey>>, String> {
        let client = match client {
            Some(client) => client,
            None => client.insert(http_client()?),
        };
        let request = hyper::Request::get(self.url.clone())
            .header(hyper::header::ACCEPT, "application/json")
            .body(Empty::new())
            .map_err(|e| format!("building the request: {e}"))?;
        let body = tokio::time::timeout(FETCH_TIMEOUT, async {
            let response = client.request(request).await.map_err(|e| e.to_string())?;
            if !response.status().is_success() {
                return Err(format!("status {}", response.status()));
            }
            Limited::new(response.into_body(), MAX_JWKS_BYTES)
                .collect()
                .await
                .map(|body| body.to_bytes())
                .map_err(|e| format!("reading the body: {e}"))
        })
        .await
        .map_err(|_| format!("no answer within {FETCH_TIMEOUT:?}"))??;
        parse_jwks(&body)
    }
}

/// HTTPS (system roots, aws-lc-rs) or local plain HTTP; connecting gives up after
/// [`CONNECT_TIMEOUT`].
fn http_client() -> Result<HttpClient, String> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(CONNECT_TIMEOUT));
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(rustls::crypto::aws_lc_rs::default_provider())
        .map_err(|e| format!("loading root certificates: {e}"))?
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Ok(Client::builder(hyper_util::rt::TokioExecutor::new()).build(https))
}

#[derive(Deserialize)]
struct JwksDocument {
    keys: Vec<Value>,
}

/// The usable signing keys of a JWKS document by `kid`. Keys without `kid`, of another use,
/// of an unsupported type or curve, or symmetric, are skipped (one odd key does not make the
/// provider's other keys unusable).
fn parse_jwks(body: &[u8]) -> Result<HashMap<String, Arc<VerifyingKey>>, String> {
    let document: JwksDocument =
        serde_json::from_slice(body).map_err(|e| format!("not a JWKS document: {e}"))?;
    let mut keys = HashMap::new();
    for value in document.keys {
        let Ok(jwk) = serde_json::from_value::<Jwk>(value) else {
            continue;
        };
        let Some(kid) = jwk.common.key_id.clone() else {
            continue;
        };
        if jwk
            .common
            .public_key_use
            .as_ref()
            .is_some_and(|key_use| *key_use != PublicKeyUse::Signature)
        {
            continue;
        }
        let Some(algorithm) = algorithm_of(&jwk) else {
            continue;
        };
        let Ok(key) = DecodingKey::from_jwk(&jwk) else {
            continue;
        };
        keys.insert(kid, Arc::new(VerifyingKey { key, algorithm }));
    }
    Ok(keys)
}

/// The one algorithm a JWKS key verifies: implied by its type and curve, and if the key
/// names an `alg` that must be the same one.
fn algorithm_of(jwk: &Jwk) -> Option<Algorithm> {
    let (algorithm, named) = match &jwk.algorithm {
        AlgorithmParameters::OctetKeyPair(key) if key.curve == EllipticCurve::Ed25519 => {
            (Algorithm::EdDSA, KeyAlgorithm::EdDSA)
        }
        AlgorithmParameters::EllipticCurve(key) if key.curve == EllipticCurve::P256 => {
            (Algorithm::ES256, KeyAlgorithm::ES256)
        }
        AlgorithmParameters::RSA(_) => (Algorithm::RS256, KeyAlgorithm::RS256),
        _ => return None,
    };
    match jwk.common.key_algorithm {
        None => Some(algorithm),
        Some(alg) if alg == named => Some(algorithm),
        Some(_) => None,
    }
}

/// Partition key of the link of an external identity. The issuer is base64url-encoded, so
/// no `#` in an issuer URL can make two identities share a key.
pub fn identity_key(identity: &ExternalIdentity) -> String {
    format!(
        "EXT#{}#{}",
        URL_SAFE_NO_PAD.encode(&identity.issuer),
        identity.subject
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn jwk(value: Value) -> Jwk {
        serde_json::from_value(value).unwrap()
    }

    const ED_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

    #[test]
    fn the_key_type_fixes_the_algorithm() {
        let ed = jwk(json!({"kty": "OKP", "crv": "Ed25519", "x": ED_X, "kid": "a"}));
        assert_eq!(algorithm_of(&ed), Some(Algorithm::EdDSA));
        let ed_named = jwk(json!({"kty": "OKP", "crv": "Ed25519", "x": ED_X, "alg": "EdDSA"}));
        assert_eq!(algorithm_of(&ed_named), Some(Algorithm::EdDSA));
        // A key claiming an algorithm its type cannot have is unusable, not reinterpreted.
        let confused = jwk(json!({"kty": "OKP", "crv": "Ed25519", "x": ED_X, "alg": "HS256"}));
        assert_eq!(algorithm_of(&confused), None);
        let rsa = jwk(json!({"kty": "RSA", "n": "AQAB", "e": "AQAB", "alg": "PS256"}));
        assert_eq!(algorithm_of(&rsa), None);
        let oct = jwk(json!({"kty": "oct", "k": "c2VjcmV0", "alg": "HS256"}));
        assert_eq!(algorithm_of(&oct), None);
    }

    #[test]
    fn a_jwks_keeps_only_signing_keys_with_a_kid() {
        let body = json!({"keys": [
            {"kty": "OKP", "crv": "Ed25519", "x": ED_X, "kid": "sig"},
            {"kty": "OKP", "crv": "Ed25519", "x": ED_X},
            {"kty": "OKP", "crv": "Ed25519", "x": ED_X, "kid": "enc", "use": "enc"},
            {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
            {"kty": "whatever", "kid": "odd"}
        ]});
        let keys = parse_jwks(body.to_string().as_bytes()).unwrap();
        assert_eq!(keys.keys().collect::<Vec<_>>(), ["sig"]);
        assert!(parse_jwks(b"<html>").is_err());
    }

    #[test]
    fn only_a_true_verification_claim_counts() {
        assert!(claim_is_true(&Some(json!(true))));
        assert!(claim_is_true(&Some(json!("true"))));
        for value in [json!(false), json!("yes"), json!(1), json!(null)] {
            assert!(!claim_is_true(&Some(value)));
        }
        assert!(!claim_is_true(&None));
    }

    #[test]
    fn subjects_differing_in_whitespace_have_different_links() {
        let identity = |subject: &str| ExternalIdentity {
            issuer: "https://auth.example.com".into(),
            subject: subject.into(),
            email: None,
            email_verified: false,
            name: None,
            issued_at: None,
        };
        assert_ne!(identity_key(&identity(" a")), identity_key(&identity("a")));
    }

    #[test]
    fn identity_keys_cannot_collide_through_separators() {
        let identity = |issuer: &str, subject: &str| ExternalIdentity {
            issuer: issuer.into(),
            subject: subject.into(),
            email: None,
            email_verified: false,
            name: None,
            issued_at: None,
        };
        assert_ne!(
            identity_key(&identity("a#b", "c")),
            identity_key(&identity("a", "b#c"))
        );
    }

    #[test]
    fn a_new_user_takes_its_profile_from_the_claims_or_defaults() {
        let identity = ExternalIdentity {
            issuer: "https://auth.example.com".into(),
            subject: "user-1".into(),
            email: Some(Email::parse("Ada@Example.com").unwrap()),
            email_verified: true,
            name: None,
            issued_at: None,
        };
        let user = identity.new_user();
        assert_eq!(user.email.as_str(), "ada@example.com");
        assert_eq!(user.name.as_str(), "ada");
        let anonymous = ExternalIdentity {
            email: None,
            ..identity
        }
        .new_user();
        assert_eq!(
            anonymous.email.as_str(),
            format!("{}@external.invalid", anonymous.id.as_uuid().simple())
        );
        assert_eq!(anonymous.name.as_str(), "Taskline user");
    }
}
