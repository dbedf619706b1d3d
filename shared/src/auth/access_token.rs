//! Access tokens: short-lived HS256 JWTs, `typ: at+jwt` (RFC 9068). The algorithm is pinned
//! and every claim that matters is required, so `none`, other algorithms, other token types,
//! string-typed `exp` and tokens of other issuers or audiences are all refused.
//!
//! Each token names its session (`sid`: the refresh-token family of the login it descends
//! from), so that ending the session ends its access tokens at once (see
//! [`super::authenticate`]). Tokens without `sid` are refused. A token also carries the user's
//! session generation it was issued in (`sgen`; absent on tokens issued before generations,
//! read as 0): ending every other session moves the user's generation on, which ends the
//! tokens of older generations at once without touching one session item (see
//! `crate::store` sessions).

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{FamilyId, UserId};
use crate::config::Config;
use crate::error::ApiError;

/// Lifetime of an access token.
pub const ACCESS_TOKEN_TTL_SECS: i64 = 900;
/// JOSE `typ` of access tokens.
pub const TOKEN_TYPE: &str = "at+jwt";
/// Clock skew tolerated on `exp`.
const LEEWAY_SECS: u64 = 30;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
    pub jti: String,
    /// The session (refresh family) the token belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// The user's session generation the token was issued in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sgen: Option<u64>,
}

/// What a valid access token says: whose it is, and of which session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub user: UserId,
    pub session: FamilyId,
    /// The user's session generation the token was issued in.
    pub generation: u64,
}

/// The session an access token names, as the standing check compares it with the user's:
/// its refresh family and the session generation the token was issued in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionClaim {
    pub family: FamilyId,
    pub generation: u64,
}

impl Verified {
    pub fn claim(&self) -> SessionClaim {
        SessionClaim {
            family: self.session,
            generation: self.generation,
        }
    }
}

/// A freshly issued token as the login and refresh responses return it.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedToken {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
}

#[derive(Clone)]
pub struct AccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
}

impl AccessTokens {
    pub fn new(config: &Config) -> Self {
        let secret = config.jwt_secret.expose();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.set_issuer(&[&config.jwt_issuer]);
        validation.set_audience(&[&config.jwt_audience]);
        validation.validate_exp = true;
        validation.leeway = LEEWAY_SECS;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer: config.jwt_issuer.clone(),
            audience: config.jwt_audience.clone(),
        }
    }

    /// A token for `user` in the session `session` (the family of its refresh token), of the
    /// user's session generation `generation`.
    pub fn issue(
        &self,
        user: UserId,
        session: FamilyId,
        generation: u64,
    ) -> Result<IssuedToken, ApiError> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let claims = Claims {
            sub: user.to_string(),
            iat: now,
            exp: now + ACCESS_TOKEN_TTL_SECS,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            jti: Uuid::now_v7().to_string(),
            sid: Some(session.to_string()),
            sgen: Some(generation),
        };
        self.encode(&claims).map(|access_token| IssuedToken {
            access_token,
            token_type: "Bearer",
            expires_in: ACCESS_TOKEN_TTL_SECS,
        })
    }

    /// Signs arbitrary claims with the configured key (tokens of tests and tools).
    pub fn encode(&self, claims: &Claims) -> Result<String, ApiError> {
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some(TOKEN_TYPE.to_string());
        jsonwebtoken::encode(&header, claims, &self.encoding)
            .map_err(|e| ApiError::failed("signing an access token", e))
    }

    /// The user and session a token was issued to, if the token is ours, intact and current
    /// (whether the session still exists is for the caller to check).
    pub fn verify(&self, token: &str) -> Result<Verified, ApiError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| ApiError::unauthorized_bearer("the access token is malformed"))?;
        if header.alg != Algorithm::HS256 || header.typ.as_deref() != Some(TOKEN_TYPE) {
            return Err(ApiError::unauthorized_bearer(
                "the access token is not a taskline access token",
            ));
        }
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| ApiError::unauthorized_bearer("the access token is invalid or expired"))?;
        let user = UserId::parse(&data.claims.sub).ok_or(ApiError::unauthorized_bearer(
            "the access token has no valid subject",
        ))?;
        // Tokens issued before sessions were named cannot be tied to one: refused (they
        // would have expired within ACCESS_TOKEN_TTL_SECS anyway).
        let session = data.claims.sid.as_deref().and_then(FamilyId::parse).ok_or(
            ApiError::unauthorized_bearer("the access token names no valid session"),
        )?;
        Ok(Verified {
            user,
            session,
            generation: data.claims.sgen.unwrap_or(0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn tokens() -> AccessTokens {
        let vars: HashMap<String, String> = [
            ("TABLE_NAME", "t"),
            ("ALLOWED_ORIGINS", "http://localhost:5173"),
            ("JWT_SECRET", "0123456789abcdef0123456789abcdef"),
            ("CURSOR_SECRET", "0123456789abcdef0123456789abcdef"),
        ]
        .into_iter()
        .map(|(k, v)| (k.into(), v.into()))
        .collect();
        let keys = [crate::config::SecretName::Jwt];
        AccessTokens::new(&Config::from_vars_with_keys(&vars, &keys).unwrap())
    }

    /// A missing crypto backend compiles and then panics here, at the first encode.
    #[test]
    fn issues_and_verifies_a_token() {
        let tokens = tokens();
        let user = UserId::generate();
        let session = FamilyId::generate();
        let issued = tokens.issue(user, session, 7).unwrap();
        assert_eq!(issued.token_type, "Bearer");
        assert_eq!(issued.expires_in, 900);
        assert_eq!(
            tokens.verify(&issued.access_token).unwrap(),
            Verified {
                user,
                session,
                generation: 7
            }
        );
        let header = jsonwebtoken::decode_header(&issued.access_token).unwrap();
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        assert_eq!(header.alg, Algorithm::HS256);
    }

    #[test]
    fn a_tampered_token_is_refused() {
        let tokens = tokens();
        let token = tokens
            .issue(UserId::generate(), FamilyId::generate(), 0)
            .unwrap()
            .access_token;
        let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
        parts[2] = parts[2].chars().rev().collect();
        assert!(tokens.verify(&parts.join(".")).is_err());
    }

    fn claims(sid: Option<String>) -> Claims {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        Claims {
            sub: UserId::generate().to_string(),
            iat: now,
            exp: now + 60,
            iss: "taskline".into(),
            aud: "taskline-api".into(),
            jti: Uuid::now_v7().to_string(),
            sid,
            sgen: None,
        }
    }

    #[test]
    fn a_token_without_a_valid_session_is_refused() {
        let tokens = tokens();
        for sid in [None, Some(String::new()), Some("not-a-family".into())] {
            let token = tokens.encode(&claims(sid.clone())).unwrap();
            assert!(tokens.verify(&token).is_err(), "sid {sid:?}");
        }
        let family = FamilyId::generate();
        let token = tokens.encode(&claims(Some(family.to_string()))).unwrap();
        let verified = tokens.verify(&token).unwrap();
        assert_eq!(verified.session, family);
        // A token of before session generations is of generation 0.
        assert_eq!(verified.generation, 0);
    }
}
