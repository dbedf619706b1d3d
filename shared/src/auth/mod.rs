//! Identity without I/O of its own: user ids, access tokens (JWT) and the external provider's
//! tokens verified, passwords hashed and checked, refresh tokens generated and parsed, device
//! cookies signed and opened, the credentials of accounts (email, name, password). Which user a
//! request is from, reading the store, is decided above this module (`App::authenticate`).

mod access_token;
mod credentials;
mod device;
mod external;
mod link_token;
mod password;
mod refresh_token;
mod user;

pub use access_token::{
    ACCESS_TOKEN_TTL_SECS, AccessTokens, Claims, IssuedToken, SessionClaim, TOKEN_TYPE, Verified,
};
pub use credentials::{Email, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, Password, UserName};
pub use device::{DEVICE_COOKIE_TTL_SECS, Device, DeviceKeys, DeviceToken};
pub use external::{
    ExternalIdentity, ExternalTokens, FETCH_TIMEOUT, JWKS_REFETCH_INTERVAL, identity_key,
};
pub use link_token::{LinkKind, LinkToken};
pub(crate) use password::NO_PASSWORD_HASH;
pub use password::{hash_password, verify_password};
pub use refresh_token::{
    REFRESH_ABSOLUTE_TTL_SECS, REFRESH_IDLE_TTL_SECS, RefreshToken, SuccessorKey,
};
// The ids are domain types; re-exported here, where the functions and tests have always found them.
pub use crate::domain::{FamilyId, UserId};
pub use user::{User, unix_now};

use aws_lc_rs::hmac;

use crate::error::ApiError;

/// The token of an `Authorization: Bearer <token>` header value (scheme case-insensitive);
/// a missing header or another scheme is a 401.
pub fn bearer_token(authorization: Option<&str>) -> Result<&str, ApiError> {
    let value = authorization.ok_or(ApiError::unauthorized_bearer(
        "a Bearer access token is required",
    ))?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => Ok(token.trim()),
        _ => Err(ApiError::unauthorized_bearer(
            "the Authorization header must use the Bearer scheme",
        )),
    }
}

/// An HMAC-SHA256 key of its own for one use of `secret`, derived under `label`: one secret is
/// configured, and what is signed for one use (a device cookie, a refresh token's successor)
/// never verifies for another.
pub(crate) fn derived_key(secret: &[u8], label: &[u8]) -> hmac::Key {
    let derived = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret), label);
    hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref())
}
