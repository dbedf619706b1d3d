//! Password hashing: argon2id with OWASP's parameters (m = 19456 KiB, t = 2, p = 1), stored as
//! a PHC string. Hashing takes tens of milliseconds of CPU and 19 MiB, so it runs on a blocking
//! thread, never on the async runtime's workers.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use super::Password;
use crate::error::ApiError;

/// Memory cost in KiB, iterations and lanes (OWASP Password Storage Cheat Sheet, argon2id).
pub const MEMORY_KIB: u32 = 19_456;
pub const ITERATIONS: u32 = 2;
pub const LANES: u32 = 1;

/// What logins of unknown emails verify against, so that they take as long as a wrong
/// password and answer the same. A constant (the hash, with exactly [`argon2`]'s parameters
/// as a unit test checks, of 256 random bits that were then thrown away) rather than computed
/// at cold start, which would cost every cold start a hash.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$dRqS9JxXEm0U5mqBxsJ+ZQ$HPuIMKLG6SDAdA0U/0Oes7kkjoc7Fu7Voqzr/tbL+MM";

fn argon2() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, LANES, None)
        .expect("argon2 parameters are valid constants");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a new password into a PHC string (random 128-bit salt from the system CSPRNG).
pub async fn hash_password(password: Password) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        aws_lc_rs::rand::fill(&mut salt)
            .map_err(|_| ApiError::Internal("no randomness for a salt".into()))?;
        let salt = SaltString::encode_b64(&salt)
            .map_err(|e| ApiError::Internal(format!("encoding salt: {e}")))?;
        argon2()
            .hash_password(password.expose().as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| ApiError::Internal(format!("hashing password: {e}")))
    })
    .await
    .map_err(|e| ApiError::Internal(format!("hashing task failed: {e}")))?
}

/// Whether `password` matches `stored` (a PHC string). With no stored hash (unknown email) it
/// verifies against [`DUMMY_HASH`] and answers `false`, taking the same time.
pub async fn verify_password(password: Password, stored: Option<String>) -> Result<bool, ApiError> {
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let phc = stored.as_deref().unwrap_or(DUMMY_HASH);
        let parsed = PasswordHash::new(phc)
            .map_err(|e| ApiError::Internal(format!("stored password hash is invalid: {e}")))?;
        let matches = argon2()
            .verify_password(password.expose().as_bytes(), &parsed)
            .is_ok();
        Ok(known && matches)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("verifying task failed: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn password(s: &str) -> Password {
        Password::parse(s).unwrap()
    }

    #[tokio::test]
    async fn hashes_are_argon2id_phc_strings_that_verify() {
        let hash = hash_password(password("correct horse")).await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(
            verify_password(password("correct horse"), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(
            !verify_password(password("correct horse "), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(
            !verify_password(password("wrong horse"), Some(hash))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn salts_differ() {
        let a = hash_password(password("same password")).await.unwrap();
        let b = hash_password(password("same password")).await.unwrap();
        assert_ne!(a, b);
    }

    /// The dummy must cost exactly what a real hash costs, or timing reveals unknown emails.
    #[test]
    fn dummy_hash_has_the_parameters_of_real_hashes() {
        let dummy = PasswordHash::new(DUMMY_HASH).unwrap();
        assert_eq!(dummy.algorithm.as_str(), "argon2id");
        assert_eq!(dummy.version, Some(0x13));
        let params = Params::try_from(&dummy).unwrap();
        assert_eq!(
            (params.m_cost(), params.t_cost(), params.p_cost()),
            (MEMORY_KIB, ITERATIONS, LANES)
        );
        assert_eq!(dummy.hash.unwrap().len(), Params::DEFAULT_OUTPUT_LEN);
    }

    #[tokio::test]
    async fn unknown_users_never_verify() {
        assert!(
            !verify_password(password("anything at all"), None)
                .await
                .unwrap()
        );
    }
}
