//! Configuration, read once from the environment at cold start. A missing or invalid variable
//! stops the function before it serves anything, with an error naming the variable.
//!
//! The two HMAC keys come either from AWS Secrets Manager (deployed: `JWT_SECRET_ARN`,
//! `CURSOR_SECRET_ARN`, read once at cold start by [`resolve_secrets`] and kept for the life of
//! the process) or straight from the environment (locally and in tests: `JWT_SECRET`,
//! `CURSOR_SECRET`). Setting both forms of one key is refused, so it is always clear which
//! key signs tokens.

use std::collections::HashMap;
use std::future::Future;

/// Minimum length of the HMAC keys (JWT and cursor): HS256 wants at least 256 bits.
pub const MIN_SECRET_BYTES: usize = 32;

#[derive(thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
    #[error("neither {arn} (the Secrets Manager secret holding it) nor {value} is set")]
    MissingSecret {
        value: &'static str,
        arn: &'static str,
    },
    #[error("secret {arn} could not be read from Secrets Manager: {reason}")]
    SecretUnavailable { arn: &'static str, reason: String },
}

/// The message itself: a function's `main` returns this error and Rust prints it with `Debug`,
/// so the start-up failure in the logs reads as a sentence naming the variable.
impl std::fmt::Debug for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// The keys that may come from Secrets Manager: (variable holding the value, variable holding
/// the ARN of a secret whose `SecretString` is the value).
pub const SECRET_VARS: [(&str, &str); 2] = [
    ("JWT_SECRET", "JWT_SECRET_ARN"),
    ("CURSOR_SECRET", "CURSOR_SECRET_ARN"),
];

/// Replaces every `*_SECRET_ARN` variable of `vars` by the value of its secret, fetched by
/// `fetch(arn)` (Secrets Manager in production, a map in tests); the two reads overlap.
/// Keys given directly as `JWT_SECRET`/`CURSOR_SECRET` are left as they are. Errors name the
/// variable.
pub async fn resolve_secrets<F, Fut>(
    vars: &mut HashMap<String, String>,
    fetch: F,
) -> Result<(), ConfigError>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<String, String>>,
{
    let [jwt, cursor] = SECRET_VARS;
    let (jwt_value, cursor_value) = tokio::join!(
        resolve_secret(vars, jwt, &fetch),
        resolve_secret(vars, cursor, &fetch)
    );
    for ((value_var, arn_var), value) in [(jwt, jwt_value?), (cursor, cursor_value?)] {
        if let Some(value) = value {
            vars.remove(arn_var);
            vars.insert(value_var.to_string(), value);
        }
    }
    Ok(())
}

/// The value of one key if it comes from Secrets Manager, `None` if it is set directly.
async fn resolve_secret<F, Fut>(
    vars: &HashMap<String, String>,
    (value_var, arn_var): (&'static str, &'static str),
    fetch: &F,
) -> Result<Option<String>, ConfigError>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<String, String>>,
{
    let set = |name: &str| {
        vars.get(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let arn = match (set(value_var), set(arn_var)) {
        (Some(_), Some(_)) => {
            return Err(ConfigError::Invalid {
                name: arn_var,
                reason: format!("set either {arn_var} or {value_var}, not both"),
            });
        }
        (None, None) => {
            return Err(ConfigError::MissingSecret {
                value: value_var,
                arn: arn_var,
            });
        }
        (Some(_), None) => return Ok(None),
        (None, Some(arn)) => arn,
    };
    let value = fetch(arn)
        .await
        .map_err(|reason| ConfigError::SecretUnavailable {
            arn: arn_var,
            reason,
        })?;
    let value = value.trim().to_string();
    if value.len() < MIN_SECRET_BYTES {
        return Err(ConfigError::Invalid {
            name: arn_var,
            reason: format!(
                "the secret must be at least {MIN_SECRET_BYTES} bytes, got {}",
                value.len()
            ),
        });
    }
    Ok(Some(value))
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

/// Budgets of failed logins within one window (see `store::throttle`): per (email, source IP),
/// per source IP across all emails, and per email across all sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginThrottle {
    /// `LOGIN_FAILURES_PER_EMAIL_IP` (default 5).
    pub per_email_ip: u32,
    /// `LOGIN_FAILURES_PER_IP` (default 100).
    pub per_ip: u32,
    /// `LOGIN_FAILURES_PER_EMAIL` (default 50).
    pub per_email: u32,
    /// `LOGIN_WINDOW_SECS` (default 900).
    pub window_secs: i64,
}

impl LoginThrottle {
    /// The contract's defaults: 5 per (email, IP), 100 per IP, 50 per email, per 15 minutes.
    pub const DEFAULT: Self = Self {
        per_email_ip: 5,
        per_ip: 100,
        per_email: 50,
        window_secs: 15 * 60,
    };
    /// Accepted range of each budget.
    pub const FAILURES_RANGE: std::ops::RangeInclusive<i64> = 1..=1_000_000;
    /// Accepted window: a minute to a day.
    pub const WINDOW_RANGE: std::ops::RangeInclusive<i64> = 60..=86_400;
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
    /// Failed-login budgets (`LOGIN_FAILURES_PER_EMAIL_IP`, `LOGIN_FAILURES_PER_IP`,
    /// `LOGIN_FAILURES_PER_EMAIL`, `LOGIN_WINDOW_SECS`).
    pub login_throttle: LoginThrottle,
}

impl Config {
    /// Reads the process environment, fetching keys given as `*_SECRET_ARN` with `fetch`
    /// (see [`resolve_secrets`]).
    pub async fn from_env<F, Fut>(fetch: F) -> Result<Self, ConfigError>
    where
        F: Fn(String) -> Fut,
        Fut: Future<Output = Result<String, String>>,
    {
        let mut vars = std::env::vars().collect();
        resolve_secrets(&mut vars, fetch).await?;
        Self::from_vars(&vars)
    }

    /// Reads a given set of variables (the process environment in production, a map in tests).
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let get = |name: &'static str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let required = |name: &'static str| get(name).ok_or(ConfigError::Missing(name));
        let secret = |(name, arn): (&'static str, &'static str)| -> Result<Secret, ConfigError> {
            let value = get(name).ok_or(ConfigError::MissingSecret { value: name, arn })?;
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

        let integer = |name: &'static str,
                       default: i64,
                       range: std::ops::RangeInclusive<i64>|
         -> Result<i64, ConfigError> {
            let Some(value) = get(name) else {
                return Ok(default);
            };
            match value.parse::<i64>() {
                Ok(n) if range.contains(&n) => Ok(n),
                _ => Err(ConfigError::Invalid {
                    name,
                    reason: format!(
                        "{value:?} is not an integer in {}..={}",
                        range.start(),
                        range.end()
                    ),
                }),
            }
        };
        let failures = |name: &'static str, default: u32| -> Result<u32, ConfigError> {
            let n = integer(name, i64::from(default), LoginThrottle::FAILURES_RANGE)?;
            u32::try_from(n).map_err(|_| ConfigError::Invalid {
                name,
                reason: format!("{n} is out of range"),
            })
        };
        let defaults = LoginThrottle::DEFAULT;
        let login_throttle = LoginThrottle {
            per_email_ip: failures("LOGIN_FAILURES_PER_EMAIL_IP", defaults.per_email_ip)?,
            per_ip: failures("LOGIN_FAILURES_PER_IP", defaults.per_ip)?,
            per_email: failures("LOGIN_FAILURES_PER_EMAIL", defaults.per_email)?,
            window_secs: integer(
                "LOGIN_WINDOW_SECS",
                defaults.window_secs,
                LoginThrottle::WINDOW_RANGE,
            )?,
        };

        Ok(Self {
            table_name: required("TABLE_NAME")?.to_string(),
            allowed_origins,
            jwt_secret: secret(SECRET_VARS[0])?,
            jwt_issuer: get("JWT_ISSUER").unwrap_or("taskline").to_string(),
            jwt_audience: get("JWT_AUDIENCE").unwrap_or("taskline-api").to_string(),
            cursor_secret: secret(SECRET_VARS[1])?,
            cookie_same_site,
            login_throttle,
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
    fn login_budgets_default_to_the_contract() {
        let config = Config::from_vars(&vars(&[])).unwrap();
        assert_eq!(
            config.login_throttle,
            LoginThrottle {
                per_email_ip: 5,
                per_ip: 100,
                per_email: 50,
                window_secs: 900,
            }
        );
        let config = Config::from_vars(&vars(&[
            ("LOGIN_FAILURES_PER_EMAIL_IP", "7"),
            ("LOGIN_FAILURES_PER_IP", " 1000 "),
            ("LOGIN_FAILURES_PER_EMAIL", "500"),
            ("LOGIN_WINDOW_SECS", "60"),
        ]))
        .unwrap();
        assert_eq!(
            config.login_throttle,
            LoginThrottle {
                per_email_ip: 7,
                per_ip: 1000,
                per_email: 500,
                window_secs: 60,
            }
        );
    }

    #[test]
    fn invalid_login_budgets_are_refused_naming_the_variable() {
        for (name, value) in [
            ("LOGIN_FAILURES_PER_EMAIL_IP", "0"),
            ("LOGIN_FAILURES_PER_IP", "-1"),
            ("LOGIN_FAILURES_PER_EMAIL", "many"),
            ("LOGIN_FAILURES_PER_EMAIL", "1000001"),
            ("LOGIN_WINDOW_SECS", "59"),
            ("LOGIN_WINDOW_SECS", "86401"),
            ("LOGIN_WINDOW_SECS", "1.5"),
        ] {
            let err = Config::from_vars(&vars(&[(name, value)])).unwrap_err();
            assert!(
                matches!(&err, ConfigError::Invalid { name: n, .. } if *n == name),
                "{name}={value}: {err}"
            );
            assert!(err.to_string().contains(name), "{err}");
        }
    }

    #[test]
    fn secrets_do_not_print() {
        let config = Config::from_vars(&vars(&[])).unwrap();
        assert!(!format!("{config:?}").contains("0123456789abcdef"));
    }

    /// A stand-in for Secrets Manager: secrets by ARN; an unknown ARN fails as AWS would.
    fn secrets_manager(
        secrets: &[(&str, &str)],
    ) -> impl Fn(String) -> std::future::Ready<Result<String, String>> {
        let secrets: HashMap<String, String> = secrets
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |arn| {
            std::future::ready(
                secrets
                    .get(&arn)
                    .cloned()
                    .ok_or_else(|| format!("ResourceNotFoundException: {arn}")),
            )
        }
    }

    const JWT_ARN: &str = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:jwt-AbCdEf";
    const CURSOR_ARN: &str = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cursor-AbCdEf";
    const JWT_KEY: &str = "jwt-key-from-secrets-manager-0123456789abcdef";
    const CURSOR_KEY: &str = "cursor-key-from-secrets-manager-0123456789abcdef";

    fn deployed_vars() -> HashMap<String, String> {
        vars(&[
            ("JWT_SECRET", ""),
            ("CURSOR_SECRET", ""),
            ("JWT_SECRET_ARN", JWT_ARN),
            ("CURSOR_SECRET_ARN", CURSOR_ARN),
        ])
    }

    async fn resolve(
        mut vars: HashMap<String, String>,
        secrets: &[(&str, &str)],
    ) -> Result<Config, ConfigError> {
        resolve_secrets(&mut vars, secrets_manager(secrets)).await?;
        Config::from_vars(&vars)
    }

    #[tokio::test]
    async fn keys_named_by_arn_are_read_from_secrets_manager() {
        let config = resolve(
            deployed_vars(),
            &[(JWT_ARN, JWT_KEY), (CURSOR_ARN, CURSOR_KEY)],
        )
        .await
        .unwrap();
        assert_eq!(config.jwt_secret.expose(), JWT_KEY.as_bytes());
        assert_eq!(config.cursor_secret.expose(), CURSOR_KEY.as_bytes());
    }

    #[tokio::test]
    async fn keys_given_directly_are_used_without_secrets_manager() {
        let fetch = |arn: String| async move { panic!("nothing should be fetched, got {arn}") };
        let mut vars = vars(&[]);
        resolve_secrets(&mut vars, fetch).await.unwrap();
        let config = Config::from_vars(&vars).unwrap();
        assert_eq!(
            config.jwt_secret.expose(),
            b"0123456789abcdef0123456789abcdef"
        );
    }

    #[tokio::test]
    async fn one_key_may_come_from_each_source() {
        let vars = vars(&[("CURSOR_SECRET", ""), ("CURSOR_SECRET_ARN", CURSOR_ARN)]);
        let config = resolve(vars, &[(CURSOR_ARN, CURSOR_KEY)]).await.unwrap();
        assert_eq!(
            config.jwt_secret.expose(),
            b"0123456789abcdef0123456789abcdef"
        );
        assert_eq!(config.cursor_secret.expose(), CURSOR_KEY.as_bytes());
    }

    #[tokio::test]
    async fn neither_key_nor_arn_refuses_to_start_naming_both_variables() {
        let err = resolve(vars(&[("JWT_SECRET", "")]), &[]).await.unwrap_err();
        assert_eq!(
            err,
            ConfigError::MissingSecret {
                value: "JWT_SECRET",
                arn: "JWT_SECRET_ARN"
            }
        );
        let message = err.to_string();
        assert!(message.contains("JWT_SECRET_ARN") && message.contains("JWT_SECRET "));

        // The same error when the configuration is read without Secrets Manager at all.
        let err = Config::from_vars(&vars(&[("CURSOR_SECRET", "")])).unwrap_err();
        assert_eq!(
            err,
            ConfigError::MissingSecret {
                value: "CURSOR_SECRET",
                arn: "CURSOR_SECRET_ARN"
            }
        );
    }

    #[tokio::test]
    async fn a_short_secret_is_refused_naming_its_arn_variable() {
        let err = resolve(
            deployed_vars(),
            &[
                (JWT_ARN, JWT_KEY),
                (CURSOR_ARN, "31-bytes-is-one-byte-too-short"),
            ],
        )
        .await
        .unwrap_err();
        assert!(
            matches!(
                &err,
                ConfigError::Invalid { name: "CURSOR_SECRET_ARN", reason } if reason.contains("32")
            ),
            "{err}"
        );
    }

    #[tokio::test]
    async fn an_unreadable_secret_is_refused_naming_its_arn_variable() {
        let err = resolve(deployed_vars(), &[(CURSOR_ARN, CURSOR_KEY)])
            .await
            .unwrap_err();
        assert!(
            matches!(&err, ConfigError::SecretUnavailable { arn: "JWT_SECRET_ARN", reason } if reason.contains("ResourceNotFound")),
            "{err}"
        );
        assert!(err.to_string().contains("JWT_SECRET_ARN"));
    }

    #[tokio::test]
    async fn both_a_key_and_its_arn_is_ambiguous_and_refused() {
        let vars = vars(&[("JWT_SECRET_ARN", JWT_ARN)]);
        let err = resolve(vars, &[(JWT_ARN, JWT_KEY)]).await.unwrap_err();
        assert!(matches!(
            err,
            ConfigError::Invalid {
                name: "JWT_SECRET_ARN",
                ..
            }
        ));
    }
}
