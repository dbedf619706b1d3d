//! An external identity provider whose tokens Bearer routes accept as well (optional; off
//! when none of the `EXTERNAL_*` variables is set). Its HS256 secret (`EXTERNAL_JWT_SECRET`,
//! for a provider that signs with a shared secret rather than publishing a JWKS) is a key like
//! the others: deployed it comes from Secrets Manager (`EXTERNAL_JWT_SECRET_ARN`) in the same
//! one call, never through the function's environment.

use super::secrets::{Secret, secret_value};
use super::variables::{
    EXTERNAL_JWKS_URL, EXTERNAL_JWT_AUDIENCE, EXTERNAL_JWT_ISSUER, EXTERNAL_JWT_SECRET, JWT_ISSUER,
};
use super::vars::{ConfigError, Vars};

/// Where the keys of an external identity provider come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExternalKeys {
    /// A JWKS document (`EXTERNAL_JWKS_URL`) of public keys: EdDSA (Ed25519), ES256, RS256.
    Jwks(hyper::Uri),
    /// A shared HS256 secret (`EXTERNAL_JWT_SECRET`, >= 32 bytes; deployed, read from
    /// Secrets Manager via `EXTERNAL_JWT_SECRET_ARN`), for a provider that signs its tokens
    /// with one. Not Better Auth's `BETTER_AUTH_SECRET`, which signs no JWT: Better Auth's
    /// tokens are EdDSA, verified with its JWKS.
    Secret(Secret),
}

/// An external identity provider whose tokens Bearer routes accept as well.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalJwt {
    /// Required `iss` of its tokens (`EXTERNAL_JWT_ISSUER`).
    pub issuer: String,
    /// Required `aud` of its tokens (`EXTERNAL_JWT_AUDIENCE`).
    pub audience: String,
    pub keys: ExternalKeys,
}

/// The external identity provider, if any `EXTERNAL_*` variable is set: then issuer and
/// audience are required, and exactly one key source.
pub(super) fn external_jwt(
    vars: &Vars,
    jwt_issuer: &str,
) -> Result<Option<ExternalJwt>, ConfigError> {
    let (issuer_var, audience_var) = (EXTERNAL_JWT_ISSUER.name, EXTERNAL_JWT_AUDIENCE.name);
    let (jwks_var, secret_var) = (EXTERNAL_JWKS_URL.name, EXTERNAL_JWT_SECRET.name);
    let issuer = vars.get(issuer_var);
    let audience = vars.get(audience_var);
    let jwks_url = vars.get(jwks_var);
    let secret = vars.get(secret_var);
    if [issuer, audience, jwks_url, secret]
        .iter()
        .all(Option::is_none)
    {
        return Ok(None);
    }
    let issuer = issuer.ok_or(ConfigError::Invalid {
        name: issuer_var,
        reason: format!(
            "required when any EXTERNAL_* variable is set ({audience_var}, {jwks_var} or {secret_var})"
        ),
    })?;
    if issuer == jwt_issuer {
        // The two kinds of token must never be mistaken for each other.
        return Err(ConfigError::Invalid {
            name: issuer_var,
            reason: format!(
                "must differ from {} (the issuer of taskline's own tokens)",
                JWT_ISSUER.name
            ),
        });
    }
    let audience = audience.ok_or(ConfigError::Invalid {
        name: audience_var,
        reason: format!("required with {issuer_var}"),
    })?;
    let keys = external_keys(jwks_url, secret)?;
    Ok(Some(ExternalJwt {
        issuer: issuer.to_string(),
        audience: audience.to_string(),
        keys,
    }))
}

/// The external provider's key source: exactly one of `EXTERNAL_JWKS_URL` and
/// `EXTERNAL_JWT_SECRET` (a key like the others, see [`secret_value`]).
fn external_keys(
    jwks_url: Option<&str>,
    secret: Option<&str>,
) -> Result<ExternalKeys, ConfigError> {
    let (jwks_var, secret_var) = (EXTERNAL_JWKS_URL.name, EXTERNAL_JWT_SECRET.name);
    match (jwks_url, secret) {
        (Some(_), Some(_)) => Err(ConfigError::Invalid {
            name: jwks_var,
            reason: format!("set either {jwks_var} or {secret_var}, not both"),
        }),
        (None, None) => Err(ConfigError::Invalid {
            name: jwks_var,
            reason: format!(
                "{} needs a key source: set {jwks_var} or {secret_var}",
                EXTERNAL_JWT_ISSUER.name
            ),
        }),
        (Some(url), None) => Ok(ExternalKeys::Jwks(jwks_url_of(url)?)),
        (None, Some(secret)) => Ok(ExternalKeys::Secret(secret_value(secret_var, secret)?)),
    }
}

/// The JWKS URL: https, or plain http to a provider on this machine (development, tests).
fn jwks_url_of(url: &str) -> Result<hyper::Uri, ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid {
        name: EXTERNAL_JWKS_URL.name,
        reason,
    };
    let uri: hyper::Uri = url
        .parse()
        .map_err(|e| invalid(format!("{url:?} is not a URL: {e}")))?;
    let local = matches!(uri.host(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match uri.scheme_str() {
        Some("https") => Ok(uri),
        Some("http") if local => Ok(uri),
        _ => Err(invalid(format!(
            "{url:?} must be an https:// URL (plain http only on localhost)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::config::tests::vars;

    const BETTER_AUTH_SECRET: &str = "better-auth-secret-0123456789abcdef01";

    #[test]
    fn external_provider_is_off_by_default() {
        assert_eq!(Config::from_vars(&vars(&[])).unwrap().external_jwt, None);
    }

    #[test]
    fn external_provider_with_a_jwks_or_a_secret() {
        let jwks = Config::from_vars(&vars(&[
            ("EXTERNAL_JWT_ISSUER", "https://auth.example.com"),
            ("EXTERNAL_JWT_AUDIENCE", "https://auth.example.com"),
            (
                "EXTERNAL_JWKS_URL",
                "https://auth.example.com/api/auth/jwks",
            ),
        ]))
        .unwrap();
        assert_eq!(
            jwks.external_jwt.unwrap().keys,
            ExternalKeys::Jwks("https://auth.example.com/api/auth/jwks".parse().unwrap())
        );
        let secret = Config::from_vars(&vars(&[
            ("EXTERNAL_JWT_ISSUER", "https://auth.example.com"),
            ("EXTERNAL_JWT_AUDIENCE", "taskline"),
            ("EXTERNAL_JWT_SECRET", BETTER_AUTH_SECRET),
        ]))
        .unwrap();
        let external = secret.external_jwt.unwrap();
        assert_eq!(external.audience, "taskline");
        assert_eq!(
            external.keys,
            ExternalKeys::Secret(Secret::new(BETTER_AUTH_SECRET.as_bytes().to_vec()))
        );
        assert!(!format!("{external:?}").contains(BETTER_AUTH_SECRET));
    }

    fn external_error(pairs: &[(&str, &str)]) -> (&'static str, String) {
        match Config::from_vars(&vars(pairs)) {
            Err(ConfigError::Invalid { name, reason }) => (name, reason),
            other => panic!("expected an invalid EXTERNAL_* variable, got {other:?}"),
        }
    }

    #[test]
    fn incomplete_or_ambiguous_external_provider_is_refused_naming_the_variables() {
        let issuer = ("EXTERNAL_JWT_ISSUER", "https://auth.example.com");
        let audience = ("EXTERNAL_JWT_AUDIENCE", "taskline");
        let jwks = (
            "EXTERNAL_JWKS_URL",
            "https://auth.example.com/api/auth/jwks",
        );
        let secret = ("EXTERNAL_JWT_SECRET", BETTER_AUTH_SECRET);

        let (name, reason) = external_error(&[issuer, jwks]);
        assert_eq!(name, "EXTERNAL_JWT_AUDIENCE", "{reason}");
        let (name, reason) = external_error(&[audience, secret]);
        assert_eq!(name, "EXTERNAL_JWT_ISSUER", "{reason}");
        let (name, reason) = external_error(&[issuer, audience, jwks, secret]);
        assert_eq!(name, "EXTERNAL_JWKS_URL");
        assert!(reason.contains("EXTERNAL_JWT_SECRET"), "{reason}");
        let (name, reason) = external_error(&[issuer, audience]);
        assert_eq!(name, "EXTERNAL_JWKS_URL");
        assert!(reason.contains("EXTERNAL_JWT_SECRET"), "{reason}");
        let (name, _) = external_error(&[issuer, audience, ("EXTERNAL_JWT_SECRET", "short")]);
        assert_eq!(name, "EXTERNAL_JWT_SECRET");
        let (name, _) = external_error(&[
            issuer,
            audience,
            ("EXTERNAL_JWKS_URL", "http://auth.example.com/jwks"),
        ]);
        assert_eq!(name, "EXTERNAL_JWKS_URL");
        let (name, _) = external_error(&[("EXTERNAL_JWT_ISSUER", "taskline"), audience, secret]);
        assert_eq!(name, "EXTERNAL_JWT_ISSUER");
        // Plain http is for a provider on this machine (local development and tests).
        assert!(
            Config::from_vars(&vars(&[
                issuer,
                audience,
                ("EXTERNAL_JWKS_URL", "http://127.0.0.1:3000/api/auth/jwks"),
            ]))
            .is_ok()
        );
    }
}
