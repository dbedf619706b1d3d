//! Password hashing: argon2id with OWASP's parameters (m = 19456 KiB, t = 2, p = 1), stored as
//! a PHC string. Hashing takes tens of milliseconds of CPU and 19 MiB, so it runs on a blocking
//! thread, never on the async runtime's workers.

use std::sync::Mutex;

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use super::Password;
use crate::error::ApiError;

/// Memory cost in KiB, iterations and lanes (OWASP Password Storage Cheat Sheet, argon2id).
pub const MEMORY_KIB: u32 = 19_456;
pub const ITERATIONS: u32 = 2;
pub const LANES: u32 = 1;

/// What logins of unknown emails verify against, so that they take as long as a wrong
/// password and answer the same. A constant (the hash, with exactly [`params`] as a unit test
/// checks, of 256 random bits that were then thrown away) rather than computed at cold start,
/// which would cost every cold start a hash.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$dRqS9JxXEm0U5mqBxsJ+ZQ$HPuIMKLG6SDAdA0U/0Oes7kkjoc7Fu7Voqzr/tbL+MM";

/// The stored hash of an account that has no password (users of an external identity
/// provider): the hash of a password nobody knows, so every password check of it fails the
/// ordinary way (no special case where passwords are checked).
pub(crate) const NO_PASSWORD_HASH: &str = DUMMY_HASH;

fn params() -> Result<Params, ApiError> {
    Params::new(MEMORY_KIB, ITERATIONS, LANES, None)
        .map_err(|e| ApiError::Internal(format!("argon2 parameters: {e}")))
}

/// Argon2's 19 MiB working memory, kept between hashes. Allocating it afresh for every hash
/// lets glibc's allocator raise its mmap threshold and keep freed blocks in its arenas: peak
/// RSS of `login` then grew past 250 MB (over the function's 256 MB), against ~30 MB with
/// this pool (see scripts/bench-login.sh). One buffer per concurrent hash; a Lambda
/// instance serves one request at a time.
static MEMORY: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());

/// Runs `argon2` over `password` and `salt` into `out` with pooled memory.
fn hash_into(
    argon2: &Argon2<'_>,
    password: &Password,
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), ApiError> {
    let blocks_needed = argon2.params().block_count();
    let pooled = MEMORY.lock().unwrap_or_else(|e| e.into_inner()).pop();
    let mut blocks = pooled
        .filter(|blocks| blocks.len() >= blocks_needed)
        .unwrap_or_else(|| vec![Block::new(); blocks_needed]);
    let result =
        argon2.hash_password_into_with_memory(password.expose().as_bytes(), salt, out, &mut blocks);
    MEMORY
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(blocks);
    result.map_err(|e| ApiError::failed("running argon2", e))
}

/// Hashes a new password into a PHC string (random 128-bit salt from the system CSPRNG).
pub async fn hash_password(password: Password) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        aws_lc_rs::rand::fill(&mut salt).map_err(|e| ApiError::failed("drawing a salt", e))?;
        let params = params()?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        hash_into(&argon2, &password, &salt, &mut out)?;
        let phc_error =
            |e: argon2::password_hash::Error| ApiError::failed("encoding a PHC string", e);
        let salt = SaltString::encode_b64(&salt).map_err(phc_error)?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params).map_err(phc_error)?,
            salt: Some(salt.as_salt()),
            hash: Some(Output::new(&out).map_err(phc_error)?),
        };
        Ok(phc.to_string())
    })
    .await
    .map_err(|e| ApiError::failed("joining the hashing task", e))?
}

/// Whether `password` matches `stored` (a PHC string, verified with the parameters it names).
/// With no stored hash (unknown email) it verifies against [`DUMMY_HASH`] and answers `false`,
/// taking the same time.
pub async fn verify_password(password: Password, stored: Option<String>) -> Result<bool, ApiError> {
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let phc = stored.as_deref().unwrap_or(DUMMY_HASH);
        let parsed = PasswordHash::new(phc).map_err(invalid_hash)?;
        let algorithm = Algorithm::try_from(parsed.algorithm).map_err(invalid_hash)?;
        let version = parsed
            .version
            .map(Version::try_from)
            .transpose()
            .map_err(invalid_hash)?
            .unwrap_or_default();
        let params = Params::try_from(&parsed).map_err(invalid_hash)?;
        let expected = parsed.hash.ok_or_else(|| invalid_hash("no hash"))?;
        let salt = parsed.salt.ok_or_else(|| invalid_hash("no salt"))?;
        let mut salt_bytes = [0u8; 64];
        let salt = salt.decode_b64(&mut salt_bytes).map_err(invalid_hash)?;
        let mut out = vec![0u8; expected.len()];
        hash_into(
            &Argon2::new(algorithm, version, params),
            &password,
            salt,
            &mut out,
        )?;
        let matches =
            aws_lc_rs::constant_time::verify_slices_are_equal(&out, expected.as_bytes()).is_ok();
        Ok(known && matches)
    })
    .await
    .map_err(|e| ApiError::failed("joining the verifying task", e))?
}

fn invalid_hash(e: impl Into<crate::error::Source>) -> ApiError {
    ApiError::failed("reading the stored password hash", e)
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

    /// Our pooled-memory hashing is plain argon2: the crate's own verifier accepts our hashes,
    /// and we accept the crate's (including other parameters, as after a future upgrade).
    #[tokio::test]
    async fn hashes_agree_with_the_argon2_crate() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let ours = hash_password(password("interoperable")).await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"interoperable", &parsed)
                .is_ok()
        );
        assert!(
            Argon2::default()
                .verify_password(b"interoperablE", &parsed)
                .is_err()
        );

        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let stronger = Params::new(2 * MEMORY_KIB, 3, 1, None).unwrap();
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, stronger)
            .hash_password(b"interoperable", &salt)
            .unwrap()
            .to_string();
        assert!(
            verify_password(password("interoperable"), Some(theirs.clone()))
                .await
                .unwrap()
        );
        assert!(
            !verify_password(password("interoperablE"), Some(theirs))
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
