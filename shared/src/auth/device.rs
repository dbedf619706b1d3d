//! Device cookies: OWASP's defence against slow brute force ("device cookies", Authentication
//! Cheat Sheet). A successful login hands the browser a long-lived token naming the account it
//! logged into; a later login to that account presenting it is budgeted by that device alone,
//! so strangers holding the account's email at its failure ceiling do not lock the owner out.
//!
//! A token is `base64url(version || user id || nonce || expiry || tag)`: the user it is bound
//! to, 128 random bits naming the device (its own failure budget), the end of its life (epoch
//! seconds, big-endian), and an HMAC-SHA256 tag over all of it. Nothing is stored: a token is
//! valid when its tag verifies and it has not expired, and it only counts for the account of
//! its user. The key is derived from the access-token key with a fixed label, so there is no
//! further secret to deploy and rotate; rotating `JWT_SECRET` voids every device cookie, which
//! only costs their holders the exemption until their next login.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

use crate::domain::UserId;
use crate::error::ApiError;

/// How long a device cookie lasts from the login that set it (180 days): a browser used every
/// few months stays known.
pub const DEVICE_COOKIE_TTL_SECS: i64 = 180 * 24 * 60 * 60;

const VERSION: u8 = 1;
const USER_BYTES: usize = 16;
const NONCE_BYTES: usize = 16;
const EXPIRY_BYTES: usize = 8;
const TAG_BYTES: usize = 32;
const SIGNED_BYTES: usize = 1 + USER_BYTES + NONCE_BYTES + EXPIRY_BYTES;
const TOKEN_BYTES: usize = SIGNED_BYTES + TAG_BYTES;
/// Derives this key from the access-token key: the label keeps the two uses apart.
const LABEL: &[u8] = b"taskline/device-cookie/v1";

/// Signs and opens device cookies.
#[derive(Clone)]
pub struct DeviceKeys(hmac::Key);

impl std::fmt::Debug for DeviceKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceKeys(..)")
    }
}

/// A device cookie's value as the client holds it. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct DeviceToken(String);

impl DeviceToken {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for DeviceToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceToken(..)")
    }
}

/// A valid device cookie: the account it was set for, and the device's id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    user: UserId,
    id: String,
}

impl Device {
    /// The user whose login set the cookie.
    pub fn user(&self) -> UserId {
        self.user
    }

    /// The device's id (its nonce, base64url): the key of its failure budget.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl DeviceKeys {
    /// The key, derived from the access-token key (`JWT_SECRET`).
    pub fn new(jwt_secret: &[u8]) -> Self {
        Self(super::derived_key(jwt_secret, LABEL))
    }

    /// A new device cookie for `user`, valid for [`DEVICE_COOKIE_TTL_SECS`] from `now`.
    pub fn issue(&self, user: UserId, now: i64) -> Result<DeviceToken, ApiError> {
        let mut bytes = Vec::with_capacity(TOKEN_BYTES);
        bytes.push(VERSION);
        bytes.extend_from_slice(user.as_uuid().as_bytes());
        let mut nonce = [0u8; NONCE_BYTES];
        aws_lc_rs::rand::fill(&mut nonce)
            .map_err(|e| ApiError::failed("drawing a device cookie", e))?;
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&(now + DEVICE_COOKIE_TTL_SECS).to_be_bytes());
        let tag = hmac::sign(&self.0, &bytes);
        bytes.extend_from_slice(tag.as_ref());
        Ok(DeviceToken(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// The device of a cookie value if this server signed it and it has not expired at `now`;
    /// `None` for anything else (forged, altered, expired, another key's, not ours at all).
    pub fn open(&self, value: &str, now: i64) -> Option<Device> {
        let bytes = URL_SAFE_NO_PAD.decode(value).ok()?;
        if bytes.len() != TOKEN_BYTES || bytes.first() != Some(&VERSION) {
            return None;
        }
        let (signed, tag) = bytes.split_at_checked(SIGNED_BYTES)?;
        hmac::verify(&self.0, signed, tag).ok()?;
        let user = signed.get(1..1 + USER_BYTES)?;
        let nonce = signed.get(1 + USER_BYTES..1 + USER_BYTES + NONCE_BYTES)?;
        let expiry = signed.get(1 + USER_BYTES + NONCE_BYTES..)?;
        let expires_at = i64::from_be_bytes(expiry.try_into().ok()?);
        if expires_at <= now {
            return None;
        }
        Some(Device {
            user: UserId::from_uuid(Uuid::from_slice(user).ok()?),
            id: URL_SAFE_NO_PAD.encode(nonce),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"test-jwt-secret-0123456789abcdef0123456789";
    const NOW: i64 = 1_800_000_000;

    #[test]
    fn a_cookie_opens_for_its_user_until_it_expires() {
        let keys = DeviceKeys::new(KEY);
        let user = UserId::generate();
        let token = keys.issue(user, NOW).unwrap();
        let device = keys.open(token.expose(), NOW + 1).unwrap();
        assert_eq!(device.user(), user);
        assert_eq!(device.id().len(), 22);
        assert!(
            keys.open(token.expose(), NOW + DEVICE_COOKIE_TTL_SECS - 1)
                .is_some()
        );
        assert_eq!(
            keys.open(token.expose(), NOW + DEVICE_COOKIE_TTL_SECS),
            None
        );
        // Each login names a new device.
        let again = keys
            .open(keys.issue(user, NOW).unwrap().expose(), NOW)
            .unwrap();
        assert_ne!(again.id(), device.id());
        assert!(!format!("{token:?}").contains(token.expose()));
    }

    #[test]
    fn forged_altered_or_foreign_cookies_do_not_open() {
        let keys = DeviceKeys::new(KEY);
        let token = keys.issue(UserId::generate(), NOW).unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(token.expose()).unwrap();
        // Another user, or a later expiry, written into a real token: the tag no longer fits.
        for at in [1, 1 + USER_BYTES + NONCE_BYTES] {
            bytes[at] ^= 1;
            assert_eq!(
                keys.open(&URL_SAFE_NO_PAD.encode(&bytes), NOW),
                None,
                "{at}"
            );
            bytes[at] ^= 1;
        }
        // Signed with another key (another deployment's, or the access-token key itself).
        let other = DeviceKeys::new(b"another-jwt-secret-0123456789abcdef01234");
        assert_eq!(other.open(token.expose(), NOW), None);
        let raw = hmac::Key::new(hmac::HMAC_SHA256, KEY);
        let mut forged = bytes[..SIGNED_BYTES].to_vec();
        forged.extend_from_slice(hmac::sign(&raw, &forged).as_ref());
        assert_eq!(keys.open(&URL_SAFE_NO_PAD.encode(&forged), NOW), None);
        for junk in ["", "x", "not base64!", &token.expose()[1..]] {
            assert_eq!(keys.open(junk, NOW), None, "{junk}");
        }
    }
}
