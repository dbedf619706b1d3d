//! Configuration, read once from the environment at cold start. A missing or invalid variable
//! stops the function before it serves anything, with an error naming the variable.
//!
//! Every variable is declared once, in [`variables`] (THE table: name, type, default, the
//! functions that read it, whether `make dev` sets it); [`Config`] is read from that table.
//! The keys come either from Secrets Manager or from the environment, and each function loads
//! only those it declares ([`secrets`]); an external identity provider is optional
//! ([`external`]).

pub mod external;
pub mod secrets;
pub mod variables;
mod vars;

use std::collections::HashMap;
use std::future::Future;

use crate::cookie::SameSite;

pub use external::{ExternalJwt, ExternalKeys};
pub use secrets::{Secret, SecretName, SecretValues, resolve_secrets};
pub use variables::MIN_SECRET_BYTES;
pub use vars::ConfigError;
use vars::Vars;

/// Budgets of failed password checks within one window (see `store::throttle`). A client that
/// never logged in is counted per (email, client address), per client address across all
/// emails, and per email across all sources; a browser presenting a valid device cookie of the
/// account only against that device's own budget, and a password change against its session's.
/// Defaults and bounds: [`variables`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginThrottle {
    /// `LOGIN_FAILURES_PER_EMAIL_IP`.
    pub per_email_ip: u32,
    /// `LOGIN_FAILURES_PER_IP`.
    pub per_ip: u32,
    /// `LOGIN_FAILURES_PER_EMAIL`.
    pub per_email: u32,
    /// `LOGIN_FAILURES_PER_DEVICE`: per device cookie, and per session for the wrong current
    /// passwords of password changes.
    pub per_device: u32,
    /// `LOGIN_WINDOW_SECS`.
    pub window_secs: i64,
}

/// Budget of registrations per client address (an IPv6 client: per /64) within one window:
/// each one costs a password hash and an account in the table, whether it succeeds or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegisterThrottle {
    /// `REGISTRATIONS_PER_IP`.
    pub per_ip: u32,
    /// `REGISTRATION_WINDOW_SECS`.
    pub window_secs: i64,
}

/// Budgets of the mails a stranger can have sent: password resets per email (known or not)
/// and per client address within one window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResetThrottle {
    /// `PASSWORD_RESETS_PER_EMAIL`.
    pub per_email: u32,
    /// `PASSWORD_RESETS_PER_IP`.
    pub per_ip: u32,
    /// `PASSWORD_RESET_WINDOW_SECS`.
    pub window_secs: i64,
}

/// Budget of verification mails a signed-in user asks for within one window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerificationThrottle {
    /// `VERIFICATION_EMAILS_PER_USER`.
    pub per_user: u32,
    /// `VERIFICATION_EMAIL_WINDOW_SECS`.
    pub window_secs: i64,
}

/// How the SMTP connection is secured (`SMTP_TLS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain connection upgraded by STARTTLS (required, never optional).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No TLS: a local mail catcher only.
    None,
}

impl SmtpTls {
    fn parse(value: &str) -> Option<Self> {
        match value.to_ascii_lowercase().as_str() {
            "starttls" => Some(Self::StartTls),
            "tls" => Some(Self::Tls),
            "none" => Some(Self::None),
            _ => None,
        }
    }
}

/// What a function that sends mail needs: where the links point, the sender and the SMTP
/// server (read only by the functions declaring [`SecretName::Smtp`]).
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// `APP_URL`, without a trailing `/`.
    pub app_url: String,
    /// `MAIL_FROM`.
    pub from: String,
    /// `SMTP_HOST`.
    pub host: String,
    /// `SMTP_PORT`.
    pub port: u16,
    /// `SMTP_TLS`.
    pub tls: SmtpTls,
    /// `SMTP_USERNAME` and `SMTP_PASSWORD`, if the server asks for them.
    pub credentials: Option<(String, Secret)>,
}

/// Each field names its variable; defaults and bounds are those of [`variables`].
#[derive(Debug, Clone)]
pub struct Config {
    /// DynamoDB table holding every item (`TABLE_NAME`).
    pub table_name: String,
    /// Origins allowed for CORS and for cookie-authenticated requests (`ALLOWED_ORIGINS`).
    pub allowed_origins: Vec<String>,
    /// HS256 key of access tokens (`JWT_SECRET`; a stand-in unless the function declares
    /// [`SecretName::Jwt`]).
    pub jwt_secret: Secret,
    /// `iss` of access tokens (`JWT_ISSUER`).
    pub jwt_issuer: String,
    /// `aud` of access tokens (`JWT_AUDIENCE`).
    pub jwt_audience: String,
    /// HMAC key authenticating list cursors (`CURSOR_SECRET`; a stand-in unless the function
    /// declares [`SecretName::Cursor`]).
    pub cursor_secret: Secret,
    /// `SameSite` of the refresh cookie (`COOKIE_SAMESITE`).
    pub cookie_same_site: SameSite,
    /// Seconds after its rotation during which the most recently spent refresh token of a
    /// family may be presented again (`REFRESH_REUSE_GRACE_SECS`, 0 disables): two tabs
    /// refreshing at once, or a retry after a lost response.
    pub refresh_reuse_grace_secs: i64,
    /// An external identity provider (`EXTERNAL_*`), if configured.
    pub external_jwt: Option<ExternalJwt>,
    /// Most tasks one user may hold (`MAX_TASKS_PER_USER`): keeps a partition, and so its
    /// deletion, bounded.
    pub max_tasks_per_user: u64,
    /// Most live sessions one user may hold (`MAX_SESSIONS_PER_USER`): a login beyond it ends
    /// the least recently used one, so the session list stays one small page.
    pub max_sessions_per_user: u64,
    /// Time one `DELETE /v1/me` spends sweeping before answering 503 for the client to
    /// retry (`ACCOUNT_DELETION_BUDGET_MS`).
    pub account_deletion_budget: std::time::Duration,
    /// Failed-login budgets (`LOGIN_FAILURES_*`, `LOGIN_WINDOW_SECS`).
    pub login_throttle: LoginThrottle,
    /// Registration budget (`REGISTRATIONS_PER_IP`, `REGISTRATION_WINDOW_SECS`).
    pub register_throttle: RegisterThrottle,
    /// The value of the origin header CloudFront adds to the requests it sends to the API
    /// (`ORIGIN_VERIFY_SECRET`; only in functions declaring [`SecretName::Origin`], and
    /// optional there): `None`, and the client's address is always the connection's.
    pub origin_verify_secret: Option<Secret>,
    /// The mail settings (`APP_URL`, `MAIL_FROM`, `SMTP_*`) of a function that sends mail.
    pub mail: Option<MailSettings>,
    /// Password-reset budgets (`PASSWORD_RESETS_*`, `PASSWORD_RESET_WINDOW_SECS`).
    pub reset_throttle: ResetThrottle,
    /// Verification-mail budget (`VERIFICATION_EMAILS_PER_USER`,
    /// `VERIFICATION_EMAIL_WINDOW_SECS`).
    pub verification_throttle: VerificationThrottle,
}

impl Config {
    /// Reads the process environment with the keys a function uses, fetching those given as
    /// `*_SECRET_ARN` with `fetch` (see [`resolve_secrets`]).
    pub async fn from_env<F, Fut>(keys: &[SecretName], fetch: F) -> Result<Self, ConfigError>
    where
        F: FnOnce(Vec<String>) -> Fut,
        Fut: Future<Output = Result<SecretValues, String>>,
    {
        let mut vars = std::env::vars().collect();
        resolve_secrets(&mut vars, keys, fetch).await?;
        Self::from_vars_with_keys(&vars, keys)
    }

    /// Reads a given set of variables with every key (tests, local tools).
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        Self::from_vars_with_keys(vars, SecretName::ALL)
    }

    /// Reads a given set of variables (the process environment in production, a map in tests)
    /// with the keys of `keys`; the others are neither required nor read.
    pub fn from_vars_with_keys(
        vars: &HashMap<String, String>,
        keys: &[SecretName],
    ) -> Result<Self, ConfigError> {
        use variables as v;
        let vars = Vars(vars);
        let jwt_issuer = vars.text(&v::JWT_ISSUER)?;
        Ok(Self {
            table_name: vars.text(&v::TABLE_NAME)?,
            allowed_origins: allowed_origins(&vars)?,
            jwt_secret: secrets::secret(&vars, keys, SecretName::Jwt)?,
            jwt_audience: vars.text(&v::JWT_AUDIENCE)?,
            cursor_secret: secrets::secret(&vars, keys, SecretName::Cursor)?,
            cookie_same_site: vars.choice(&v::COOKIE_SAMESITE, SameSite::parse)?,
            refresh_reuse_grace_secs: vars.integer(&v::REFRESH_REUSE_GRACE_SECS)?,
            external_jwt: external::external_jwt(&vars, &jwt_issuer)?,
            jwt_issuer,
            max_tasks_per_user: vars.integer(&v::MAX_TASKS_PER_USER)?,
            max_sessions_per_user: vars.integer(&v::MAX_SESSIONS_PER_USER)?,
            account_deletion_budget: std::time::Duration::from_millis(
                vars.integer(&v::ACCOUNT_DELETION_BUDGET_MS)?,
            ),
            login_throttle: LoginThrottle {
                per_email_ip: vars.integer(&v::LOGIN_FAILURES_PER_EMAIL_IP)?,
                per_ip: vars.integer(&v::LOGIN_FAILURES_PER_IP)?,
                per_email: vars.integer(&v::LOGIN_FAILURES_PER_EMAIL)?,
                per_device: vars.integer(&v::LOGIN_FAILURES_PER_DEVICE)?,
                window_secs: vars.integer(&v::LOGIN_WINDOW_SECS)?,
            },
            register_throttle: RegisterThrottle {
                per_ip: vars.integer(&v::REGISTRATIONS_PER_IP)?,
                window_secs: vars.integer(&v::REGISTRATION_WINDOW_SECS)?,
            },
            origin_verify_secret: secrets::optional_secret(&vars, keys, SecretName::Origin)?,
            mail: if keys.contains(&SecretName::Smtp) {
                Some(mail_settings(&vars, keys)?)
            } else {
                None
            },
            reset_throttle: ResetThrottle {
                per_email: vars.integer(&v::PASSWORD_RESETS_PER_EMAIL)?,
                per_ip: vars.integer(&v::PASSWORD_RESETS_PER_IP)?,
                window_secs: vars.integer(&v::PASSWORD_RESET_WINDOW_SECS)?,
            },
            verification_throttle: VerificationThrottle {
                per_user: vars.integer(&v::VERIFICATION_EMAILS_PER_USER)?,
                window_secs: vars.integer(&v::VERIFICATION_EMAIL_WINDOW_SECS)?,
            },
        })
    }

    pub fn is_allowed_origin(&self, origin: &str) -> bool {
        self.allowed_origins.iter().any(|o| o == origin)
    }
}

/// The mail settings: `APP_URL` an http(s) address, credentials only as a pair.
fn mail_settings(vars: &Vars, keys: &[SecretName]) -> Result<MailSettings, ConfigError> {
    use variables as v;
    let app_url = vars.text(&v::APP_URL)?.trim_end_matches('/').to_string();
    if !(app_url.starts_with("https://") || app_url.starts_with("http://")) {
        return Err(ConfigError::Invalid {
            name: v::APP_URL.name,
            reason: format!("{app_url:?} is not an http(s) address"),
        });
    }
    let username = vars.get(v::SMTP_USERNAME.name).map(str::to_string);
    let password = secrets::optional_secret(vars, keys, SecretName::Smtp)?;
    let credentials = match (username, password) {
        (Some(username), Some(password)) => Some((username, password)),
        (None, None) => None,
        (Some(_), None) => return Err(ConfigError::Missing(v::SMTP_PASSWORD.name)),
        (None, Some(_)) => return Err(ConfigError::Missing(v::SMTP_USERNAME.name)),
    };
    Ok(MailSettings {
        app_url,
        from: vars.text(&v::MAIL_FROM)?,
        host: vars.text(&v::SMTP_HOST)?,
        port: vars.integer(&v::SMTP_PORT)?,
        tls: vars.choice(&v::SMTP_TLS, SmtpTls::parse)?,
        credentials,
    })
}

/// `ALLOWED_ORIGINS`: http(s) origins; never a wildcard (credentials).
fn allowed_origins(vars: &Vars) -> Result<Vec<String>, ConfigError> {
    let origins: Vec<String> = vars
        .list(&variables::ALLOWED_ORIGINS)?
        .into_iter()
        .map(|o| o.trim_end_matches('/').to_string())
        .filter(|o| !o.is_empty())
        .collect();
    if let Some(bad) = origins
        .iter()
        .find(|o| *o == "*" || !(o.starts_with("https://") || o.starts_with("http://")))
    {
        return Err(ConfigError::Invalid {
            name: variables::ALLOWED_ORIGINS.name,
            reason: format!(
                "{bad:?} is not an http(s) origin (wildcards are not allowed with credentials)"
            ),
        });
    }
    Ok(origins)
}

/// A valid configuration for unit tests, with `overrides` (an empty value removes a variable).
#[cfg(test)]
pub(crate) fn test_config(overrides: &[(&str, &str)]) -> Config {
    match Config::from_vars(&tests::vars(overrides)) {
        Ok(config) => config,
        Err(e) => unreachable!("test configuration refused: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        let mut map: HashMap<String, String> = [
            ("TABLE_NAME", "taskline"),
            (
                "ALLOWED_ORIGINS",
                "http://localhost:5173, https://app.example.com/",
            ),
            ("JWT_SECRET", "0123456789abcdef0123456789abcdef"),
            ("CURSOR_SECRET", "fedcba9876543210fedcba9876543210"),
            ("APP_URL", "http://localhost:5173"),
            ("MAIL_FROM", "taskline <no-reply@example.com>"),
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
    fn refresh_reuse_grace_defaults_to_10_and_is_bounded_by_0_and_60() {
        let grace = |value: &str| {
            Config::from_vars(&vars(&[("REFRESH_REUSE_GRACE_SECS", value)]))
                .map(|c| c.refresh_reuse_grace_secs)
        };
        assert_eq!(grace(""), Ok(10));
        assert_eq!(grace("0"), Ok(0));
        assert_eq!(grace("60"), Ok(60));
        for bad in ["61", "-1", "ten", "1.5"] {
            let err = grace(bad).unwrap_err();
            assert!(
                matches!(
                    err,
                    ConfigError::Invalid {
                        name: "REFRESH_REUSE_GRACE_SECS",
                        ..
                    }
                ),
                "{bad}: {err}"
            );
        }
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
                per_device: 5,
                window_secs: 900,
            }
        );
        let config = Config::from_vars(&vars(&[
            ("LOGIN_FAILURES_PER_EMAIL_IP", "7"),
            ("LOGIN_FAILURES_PER_IP", " 1000 "),
            ("LOGIN_FAILURES_PER_EMAIL", "500"),
            ("LOGIN_FAILURES_PER_DEVICE", "3"),
            ("LOGIN_WINDOW_SECS", "60"),
        ]))
        .unwrap();
        assert_eq!(
            config.login_throttle,
            LoginThrottle {
                per_email_ip: 7,
                per_ip: 1000,
                per_email: 500,
                per_device: 3,
                window_secs: 60,
            }
        );
    }

    #[test]
    fn the_registration_budget_defaults_to_20_an_hour_and_is_checked() {
        let config = Config::from_vars(&vars(&[])).unwrap();
        assert_eq!(
            config.register_throttle,
            RegisterThrottle {
                per_ip: 20,
                window_secs: 3600,
            }
        );
        let config = Config::from_vars(&vars(&[
            ("REGISTRATIONS_PER_IP", "10000"),
            ("REGISTRATION_WINDOW_SECS", "60"),
        ]))
        .unwrap();
        assert_eq!(
            config.register_throttle,
            RegisterThrottle {
                per_ip: 10_000,
                window_secs: 60,
            }
        );
        for (name, value) in [
            ("REGISTRATIONS_PER_IP", "0"),
            ("REGISTRATIONS_PER_IP", "twenty"),
            ("REGISTRATION_WINDOW_SECS", "59"),
            ("REGISTRATION_WINDOW_SECS", "86401"),
        ] {
            let err = Config::from_vars(&vars(&[(name, value)])).unwrap_err();
            assert!(
                matches!(&err, ConfigError::Invalid { name: n, .. } if *n == name),
                "{name}={value}: {err}"
            );
        }
    }

    #[test]
    fn invalid_login_budgets_are_refused_naming_the_variable() {
        for (name, value) in [
            ("LOGIN_FAILURES_PER_EMAIL_IP", "0"),
            ("LOGIN_FAILURES_PER_IP", "-1"),
            ("LOGIN_FAILURES_PER_EMAIL", "many"),
            ("LOGIN_FAILURES_PER_EMAIL", "1000001"),
            ("LOGIN_FAILURES_PER_DEVICE", "0"),
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

    #[test]
    fn task_quota_and_deletion_budget_default_and_are_checked() {
        let config = Config::from_vars(&vars(&[])).unwrap();
        assert_eq!(config.max_tasks_per_user, 10_000);
        assert_eq!(config.account_deletion_budget.as_millis(), 20_000);
        let set = Config::from_vars(&vars(&[
            ("MAX_TASKS_PER_USER", "3"),
            ("ACCOUNT_DELETION_BUDGET_MS", "0"),
        ]))
        .unwrap();
        assert_eq!(set.max_tasks_per_user, 3);
        assert!(set.account_deletion_budget.is_zero());
        for (name, bad) in [
            ("MAX_TASKS_PER_USER", "0"),
            ("MAX_TASKS_PER_USER", "-1"),
            ("MAX_TASKS_PER_USER", "lots"),
            ("ACCOUNT_DELETION_BUDGET_MS", "1.5"),
        ] {
            let err = Config::from_vars(&vars(&[(name, bad)])).unwrap_err();
            assert!(
                matches!(&err, ConfigError::Invalid { name: n, .. } if *n == name),
                "{err}"
            );
        }
    }
}
