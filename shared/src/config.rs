//! Configuration, read once from the environment at cold start. A missing or invalid variable
//! stops the function before it serves anything, with an error naming the variable.

use std::collections::HashMap;

/// Minimum length of the HMAC keys (JWT and cursor): HS256 wants at least 256 bits.
pub const MIN_SECRET_BYTES: usize = 32;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// `SameSite` attribute of the refresh cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    Strict,
    Lax,
    None,
}

impl SameSite {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Strict => "Strict",
            Self::Lax => "Lax",
            Self::None => "None",
        }
    }
}

/// A secret key, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    /// DynamoDB table holding every item (`TABLE_NAME`).
    pub table_name: String,
    /// Origins allowed for CORS and for cookie-authenticated requests (`ALLOWED_ORIGINS`).
    pub allowed_origins: Vec<String>,
    /// HS256 key of access tokens (`JWT_SECRET`, >= 32 bytes).
    pub jwt_secret: Secret,
    /// `iss` of access tokens (`JWT_ISSUER`, default `taskline`).
    pub jwt_issuer: String,
    /// `aud` of access tokens (`JWT_AUDIENCE`, default `taskline-api`).
    pub jwt_audience: String,
    /// HMAC key authenticating list cursors (`CURSOR_SECRET`, >= 32 bytes).
    pub cursor_secret: Secret,
    /// `SameSite` of the refresh cookie (`COOKIE_SAMESITE`, default `Strict`).
    pub cookie_same_site: SameSite,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(&std::env::vars().collect())
    }

    /// Reads a given set of variables (the process environment in production, a map in tests).
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let get = |name: &'static str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let required = |name: &'static str| get(name).ok_or(ConfigError::Missing(name));
        let secret = |name: &'static str| -> Result<Secret, ConfigError> {
            let value = required(name)?;
            if value.len() < MIN_SECRET_BYTES {
                return Err(ConfigError::Invalid {
                    name,
                    reason: format!(
                        "must be at least {MIN_SECRET_BYTES} bytes, got {}",
                        value.len()
                    ),
                });
            }
            Ok(Secret(value.as_bytes().to_vec()))
        };

        let allowed_origins: Vec<String> = required("ALLOWED_ORIGINS")?
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_string())
            .filter(|o| !o.is_empty())
            .collect();
        if let Some(bad) = allowed_origins
            .iter()
            .find(|o| *o == "*" || !(o.starts_with("https://") || o.starts_with("http://")))
        {
            return Err(ConfigError::Invalid {
                name: "ALLOWED_ORIGINS",
                reason: format!(
                    "{bad:?} is not an http(s) origin (wildcards are not allowed with credentials)"
                ),
            });
        }

        let cookie_same_site = match get("COOKIE_SAMESITE").unwrap_or("Strict") {
            s if s.eq_ignore_ascii_case("strict") => SameSite::Strict,
            s if s.eq_ignore_ascii_case("lax") => SameSite::Lax,
            s if s.eq_ignore_ascii_case("none") => SameSite::None,
            other => {
                return Err(ConfigError::Invalid {
                    name: "COOKIE_SAMESITE",
                    reason: format!("{other:?} is not one of Strict, Lax, None"),
                });
            }
        };

        Ok(Self {
            table_name: required("TABLE_NAME")?.to_string(),
            allowed_origins,
            jwt_secret: secret("JWT_SECRET")?,
            jwt_issuer: get("JWT_ISSUER").unwrap_or("taskline").to_string(),
            jwt_audience: get("JWT_AUDIENCE").unwrap_or("taskline-api").to_string(),
            cursor_secret: secret("CURSOR_SECRET")?,
            cookie_same_site,
        })
    }

    pub fn is_allowed_origin(&self, origin: &str) -> bool {
        self.allowed_origins.iter().any(|o| o == origin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        let mut map: HashMap<String, String> = [
            ("TABLE_NAME", "taskline"),
            (
                "ALLOWED_ORIGINS",
                "http://localhost:5173, https://app.example.com/",
            ),
            ("JWT_SECRET", "0123456789abcdef0123456789abcdef"),
            ("CURSOR_SECRET", "fedcba9876543210fedcba9876543210"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, v) in pairs {
            if v.is_empty() {
                map.remove(*k);
            } else {
                map.insert(k.to_string(), v.to_string());
            }
        }
        map
    }

    #[test]
    fn reads_all_settings_with_defaults() {
        let config = Config::from_vars(&vars(&[])).unwrap();
        assert_eq!(config.table_name, "taskline");
        assert_eq!(
            config.allowed_origins,
            ["http://localhost:5173", "https://app.example.com"]
        );
        assert_eq!(config.cookie_same_site, SameSite::Strict);
        assert_eq!(config.jwt_issuer, "taskline");
        assert!(config.is_allowed_origin("http://localhost:5173"));
        assert!(!config.is_allowed_origin("http://localhost:5174"));
    }

    #[test]
    fn a_missing_variable_is_named() {
        let err = Config::from_vars(&vars(&[("TABLE_NAME", "")])).unwrap_err();
        assert_eq!(err, ConfigError::Missing("TABLE_NAME"));
        assert!(err.to_string().contains("TABLE_NAME"));
    }

    #[test]
    fn short_jwt_secret_is_refused_at_start_up() {
        let err = Config::from_vars(&vars(&[("JWT_SECRET", "too-short")])).unwrap_err();
        assert!(matches!(
            err,
            ConfigError::Invalid {
                name: "JWT_SECRET",
                ..
            }
        ));
    }

    #[test]
    fn wildcard_origin_and_unknown_same_site_are_refused() {
        assert!(Config::from_vars(&vars(&[("ALLOWED_ORIGINS", "*")])).is_err());
        assert!(Config::from_vars(&vars(&[("COOKIE_SAMESITE", "sometimes")])).is_err());
        let lax = Config::from_vars(&vars(&[("COOKIE_SAMESITE", "lax")])).unwrap();
        assert_eq!(lax.cookie_same_site, SameSite::Lax);
    }

    #[test]
    fn secrets_do_not_print() {
        let config = Config::from_vars(&vars(&[])).unwrap();
        assert!(!format!("{config:?}").contains("0123456789abcdef"));
    }
}
