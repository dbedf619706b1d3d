//! Configuration, read once from the environment at cold start. A missing or invalid variable
//! stops the function before it serves anything, with an error naming the variable.
//!
//! The keys (the two HMAC keys, and the CloudFront origin secret) come either from AWS Secrets
//! Manager (deployed: `JWT_SECRET_ARN`, `CURSOR_SECRET_ARN`, `ORIGIN_VERIFY_SECRET_ARN`, read
//! once at cold start by [`resolve_secrets`] and kept for the life of the process) or straight
//! from the environment (locally and in tests: `JWT_SECRET`, `CURSOR_SECRET`,
//! `ORIGIN_VERIFY_SECRET`). Setting both forms of one key is refused, so it is always clear
//! which key signs tokens.
//!
//! Each function loads only the keys it declares ([`Key`]: register the origin secret, login
//! the JWT key and the origin secret, tasks both HMAC keys, the others the JWT key), so a
//! function holds no key it does not use and needs neither the variable nor the permission to
//! read the others. In place of an undeclared HMAC key the configuration holds a random key of
//! this process: whatever it signed or checked by mistake would match nothing another function
//! signs. The origin secret is optional (see [`Key::Origin`]).
//!
//! An external identity provider's HS256 secret (`EXTERNAL_JWT_SECRET`, for a provider that
//! signs with a shared secret rather than publishing a JWKS) is a key like these: deployed it
//! comes from Secrets Manager (`EXTERNAL_JWT_SECRET_ARN`) in the same one call, never through
//! the function's environment; it is optional too (tasks and account declare it).

use std::collections::HashMap;
use std::future::Future;

use crate::cookie::SameSite;

/// Minimum length of the keys (JWT, cursor, origin secret): HS256 wants at least 256 bits.
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
    #[error("no randomness for the stand-in of {0}, a key this function does not use")]
    NoRandomness(&'static str),
}

/// The message itself: a function's `main` returns this error and Rust prints it with `Debug`,
/// so the start-up failure in the logs reads as a sentence naming the variable.
impl std::fmt::Debug for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// A key a function may use; each function declares the ones it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// Signs and verifies access tokens.
    Jwt,
    /// Authenticates list cursors.
    Cursor,
    /// The value CloudFront adds to every request it sends to the API (a custom origin
    /// header): a request carrying it came through the distribution, so the viewer address
    /// CloudFront reports is the client's (see `http::client_address`). Optional: without it
    /// (local development, a stack without the distribution) the connection's address is used.
    Origin,
    /// Verifies an external identity provider's HS256 tokens (optional: only with a provider
    /// configured by a shared secret, see [`ExternalKeys::Secret`]).
    External,
}

impl Key {
    pub const ALL: &[Key] = &[Key::Jwt, Key::Cursor, Key::Origin, Key::External];

    /// (variable holding the value, variable holding the ARN of a secret whose
    /// `SecretString` is the value).
    pub fn vars(self) -> (&'static str, &'static str) {
        match self {
            Key::Jwt => ("JWT_SECRET", "JWT_SECRET_ARN"),
            Key::Cursor => ("CURSOR_SECRET", "CURSOR_SECRET_ARN"),
            Key::Origin => ("ORIGIN_VERIFY_SECRET", "ORIGIN_VERIFY_SECRET_ARN"),
            Key::External => ("EXTERNAL_JWT_SECRET", "EXTERNAL_JWT_SECRET_ARN"),
        }
    }

    /// Whether a function declaring this key may run without it.
    pub fn is_optional(self) -> bool {
        matches!(self, Key::Origin | Key::External)
    }
}

/// What one read of several secrets returned: by the id asked for (the ARN variable's value),
/// the secret's `SecretString`, or why that one secret could not be read.
pub type SecretValues = HashMap<String, Result<String, String>>;

/// Replaces the `*_SECRET_ARN` variable of each key in `keys` by the value of its secret,
/// fetched by ONE call of `fetch(ids)` for all of them (Secrets Manager's `GetSecretValue` or
/// `BatchGetSecretValue` in production, a map in tests): a cold start makes at most one
/// Secrets Manager call (issue 15). Keys given directly as `JWT_SECRET`/`CURSOR_SECRET` are
/// left as they are; keys not in `keys` are not read; nothing to read, no call. Errors name
/// the variable.
pub async fn resolve_secrets<F, Fut>(
    vars: &mut HashMap<String, String>,
    keys: &[Key],
    fetch: F,
) -> Result<(), ConfigError>
where
    F: FnOnce(Vec<String>) -> Fut,
    Fut: Future<Output = Result<SecretValues, String>>,
{
    let mut wanted = Vec::new();
    for key in Key::ALL.iter().copied().filter(|key| keys.contains(key)) {
        if let Some(arn) = secret_arn(vars, key)? {
            wanted.push((key, arn));
        }
    }
    let Some((first, _)) = wanted.first() else {
        return Ok(());
    };
    let first_arn_var = first.vars().1;
    let fetched = fetch(wanted.iter().map(|(_, arn)| arn.clone()).collect())
        .await
        .map_err(|reason| ConfigError::SecretUnavailable {
            arn: first_arn_var,
            reason,
        })?;
    for (key, arn) in wanted {
        let (value_var, arn_var) = key.vars();
        let value = match fetched.get(&arn) {
            Some(Ok(value)) => value.trim().to_string(),
            Some(Err(reason)) => {
                return Err(ConfigError::SecretUnavailable {
                    arn: arn_var,
                    reason: reason.clone(),
                });
            }
            None => {
                return Err(ConfigError::SecretUnavailable {
                    arn: arn_var,
                    reason: "Secrets Manager did not return it".into(),
                });
            }
        };
        if value.len() < MIN_SECRET_BYTES {
            return Err(ConfigError::Invalid {
                name: arn_var,
                reason: format!(
                    "the secret must be at least {MIN_SECRET_BYTES} bytes, got {}",
                    value.len()
                ),
            });
        }
        vars.remove(arn_var);
        vars.insert(value_var.to_string(), value);
    }
    Ok(())
}

/// The ARN of one key if it comes from Secrets Manager, `None` if it is set directly (or, for
/// an optional key, not at all).
fn secret_arn(vars: &HashMap<String, String>, key: Key) -> Result<Option<String>, ConfigError> {
    let (value_var, arn_var) = key.vars();
    let set = |name: &str| {
        vars.get(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    match (set(value_var), set(arn_var)) {
        (Some(_), Some(_)) => Err(ConfigError::Invalid {
            name: arn_var,
            reason: format!("set either {arn_var} or {value_var}, not both"),
        }),
        (None, None) if key.is_optional() => Ok(None),
        (None, None) => Err(ConfigError::MissingSecret {
            value: value_var,
            arn: arn_var,
        }),
        (Some(_), None) => Ok(None),
        (None, Some(arn)) => Ok(Some(arn)),
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

    /// The stand-in for a key this function does not use: 256 random bits of this process.
    fn stand_in(value_var: &'static str) -> Result<Self, ConfigError> {
        let mut bytes = vec![0u8; MIN_SECRET_BYTES];
        aws_lc_rs::rand::fill(&mut bytes).map_err(|_| ConfigError::NoRandomness(value_var))?;
        Ok(Self(bytes))
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

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

/// An external identity provider whose tokens Bearer routes accept as well (optional; off
/// when none of the `EXTERNAL_*` variables is set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalJwt {
    /// Required `iss` of its tokens (`EXTERNAL_JWT_ISSUER`).
    pub issuer: String,
    /// Required `aud` of its tokens (`EXTERNAL_JWT_AUDIENCE`).
    pub audience: String,
    pub keys: ExternalKeys,
}

/// Budgets of failed password checks within one window (see `store::throttle`). A client that
/// never logged in is counted per (email, client address), per client address across all
/// emails, and per email across all sources; a browser presenting a valid device cookie of the
/// account only against that device's own budget, and a password change against its session's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginThrottle {
    /// `LOGIN_FAILURES_PER_EMAIL_IP` (default 5).
    pub per_email_ip: u32,
    /// `LOGIN_FAILURES_PER_IP` (default 100).
    pub per_ip: u32,
    /// `LOGIN_FAILURES_PER_EMAIL` (default 50).
    pub per_email: u32,
    /// `LOGIN_FAILURES_PER_DEVICE` (default 5): per device cookie, and per session for the
    /// wrong current passwords of password changes.
    pub per_device: u32,
    /// `LOGIN_WINDOW_SECS` (default 900).
    pub window_secs: i64,
}

impl LoginThrottle {
    /// The contract's defaults: 5 per (email, IP), 100 per IP, 50 per email, 5 per device or
    /// session, per 15 minutes.
    pub const DEFAULT: Self = Self {
        per_email_ip: 5,
        per_ip: 100,
        per_email: 50,
        per_device: 5,
        window_secs: 15 * 60,
    };
    /// Accepted range of each budget.
    pub const FAILURES_RANGE: std::ops::RangeInclusive<i64> = 1..=1_000_000;
    /// Accepted window: a minute to a day.
    pub const WINDOW_RANGE: std::ops::RangeInclusive<i64> = 60..=86_400;
}

/// Budget of registrations per client address (an IPv6 client: per /64) within one window:
/// each one costs a password hash and an account in the table, whether it succeeds or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegisterThrottle {
    /// `REGISTRATIONS_PER_IP` (default 20).
    pub per_ip: u32,
    /// `REGISTRATION_WINDOW_SECS` (default 3600).
    pub window_secs: i64,
}

impl RegisterThrottle {
    /// The contract's defaults: 20 registrations per client address an hour.
    pub const DEFAULT: Self = Self {
        per_ip: 20,
        window_secs: 60 * 60,
    };
}

#[derive(Debug, Clone)]
pub struct Config {
    /// DynamoDB table holding every item (`TABLE_NAME`).
    pub table_name: String,
    /// Origins allowed for CORS and for cookie-authenticated requests (`ALLOWED_ORIGINS`).
    pub allowed_origins: Vec<String>,
    /// HS256 key of access tokens (`JWT_SECRET`, >= 32 bytes; a stand-in unless the function
    /// declares [`Key::Jwt`]).
    pub jwt_secret: Secret,
    /// `iss` of access tokens (`JWT_ISSUER`, default `taskline`).
    pub jwt_issuer: String,
    /// `aud` of access tokens (`JWT_AUDIENCE`, default `taskline-api`).
    pub jwt_audience: String,
    /// HMAC key authenticating list cursors (`CURSOR_SECRET`, >= 32 bytes; a stand-in unless
    /// the function declares [`Key::Cursor`]).
    pub cursor_secret: Secret,
    /// `SameSite` of the refresh cookie (`COOKIE_SAMESITE`, default `Strict`).
    pub cookie_same_site: SameSite,
    /// Seconds after its rotation during which the most recently spent refresh token of a
    /// family may be presented again (`REFRESH_REUSE_GRACE_SECS`, default 10, 0 disables,
    /// at most 60): two tabs refreshing at once, or a retry after a lost response.
    pub refresh_reuse_grace_secs: i64,
    /// An external identity provider (`EXTERNAL_*`), if configured.
    pub external_jwt: Option<ExternalJwt>,
    /// Most tasks one user may hold (`MAX_TASKS_PER_USER`, default 10,000): keeps a
    /// partition, and so its deletion, bounded.
    pub max_tasks_per_user: u64,
    /// Most live sessions one user may hold (`MAX_SESSIONS_PER_USER`, default 100): a login
    /// beyond it ends the least recently used one, so the session list stays one small page.
    pub max_sessions_per_user: u64,
    /// Time one `DELETE /v1/me` spends sweeping before answering 503 for the client to
    /// retry (`ACCOUNT_DELETION_BUDGET_MS`, default 20,000: well within the account
    /// function's 29 s timeout, with room for the last page and the final write).
    pub account_deletion_budget: std::time::Duration,
    /// Failed-login budgets (`LOGIN_FAILURES_PER_EMAIL_IP`, `LOGIN_FAILURES_PER_IP`,
    /// `LOGIN_FAILURES_PER_EMAIL`, `LOGIN_FAILURES_PER_DEVICE`, `LOGIN_WINDOW_SECS`).
    pub login_throttle: LoginThrottle,
    /// Registration budget (`REGISTRATIONS_PER_IP`, `REGISTRATION_WINDOW_SECS`).
    pub register_throttle: RegisterThrottle,
    /// The value of the origin header CloudFront adds to the requests it sends to the API
    /// (`ORIGIN_VERIFY_SECRET`, >= 32 bytes; only in functions declaring [`Key::Origin`], and
    /// optional there): `None`, and the client's address is always the connection's.
    pub origin_verify_secret: Option<Secret>,
}

/// Default of [`Config::max_tasks_per_user`].
pub const DEFAULT_MAX_TASKS_PER_USER: u64 = 10_000;
/// Default of [`Config::max_sessions_per_user`].
pub const DEFAULT_MAX_SESSIONS_PER_USER: u64 = 100;
/// Default of [`Config::account_deletion_budget`], in milliseconds.
pub const DEFAULT_ACCOUNT_DELETION_BUDGET_MS: u64 = 20_000;

/// A whole number variable of at least `min`, or `default` when unset.
fn whole_number(
    value: Option<&str>,
    name: &'static str,
    min: u64,
    default: u64,
) -> Result<u64, ConfigError> {
    let Some(value) = value else {
        return Ok(default);
    };
    match value.parse::<u64>() {
        Ok(n) if n >= min => Ok(n),
        _ => Err(ConfigError::Invalid {
            name,
            reason: format!("{value:?} is not a whole number of at least {min}"),
        }),
    }
}

/// Default and maximum of `REFRESH_REUSE_GRACE_SECS` (Cognito allows 0..=60 as well).
pub const DEFAULT_REFRESH_REUSE_GRACE_SECS: i64 = 10;
pub const MAX_REFRESH_REUSE_GRACE_SECS: i64 = 60;

impl Config {
    /// Reads the process environment with the keys a function uses, fetching those given as
    /// `*_SECRET_ARN` with `fetch` (see [`resolve_secrets`]).
    pub async fn from_env<F, Fut>(keys: &[Key], fetch: F) -> Result<Self, ConfigError>
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
        Self::from_vars_with_keys(vars, Key::ALL)
    }

    /// Reads a given set of variables (the process environment in production, a map in tests)
    /// with the keys of `keys`; the others are neither required nor read.
    pub fn from_vars_with_keys(
        vars: &HashMap<String, String>,
        keys: &[Key],
    ) -> Result<Self, ConfigError> {
        let vars = Vars(vars);
        let get = |name: &'static str| vars.get(name);
        let jwt_issuer = get("JWT_ISSUER").unwrap_or("taskline").to_string();
        Ok(Self {
            table_name: vars.required("TABLE_NAME")?.to_string(),
            allowed_origins: allowed_origins(&vars)?,
            jwt_secret: secret(&vars, keys, Key::Jwt)?,
            jwt_audience: get("JWT_AUDIENCE").unwrap_or("taskline-api").to_string(),
            cursor_secret: secret(&vars, keys, Key::Cursor)?,
            cookie_same_site: cookie_same_site(&vars)?,
            refresh_reuse_grace_secs: refresh_reuse_grace_secs(&vars)?,
            external_jwt: external_jwt(&get, &jwt_issuer)?,
            jwt_issuer,
            max_tasks_per_user: whole_number(
                get("MAX_TASKS_PER_USER"),
                "MAX_TASKS_PER_USER",
                1,
                DEFAULT_MAX_TASKS_PER_USER,
            )?,
            max_sessions_per_user: whole_number(
                get("MAX_SESSIONS_PER_USER"),
                "MAX_SESSIONS_PER_USER",
                1,
                DEFAULT_MAX_SESSIONS_PER_USER,
            )?,
            account_deletion_budget: std::time::Duration::from_millis(whole_number(
                get("ACCOUNT_DELETION_BUDGET_MS"),
                "ACCOUNT_DELETION_BUDGET_MS",
                0,
                DEFAULT_ACCOUNT_DELETION_BUDGET_MS,
            )?),
            login_throttle: login_throttle(&vars)?,
            register_throttle: register_throttle(&vars)?,
            origin_verify_secret: optional_secret(&vars, keys, Key::Origin)?,
        })
    }

    pub fn is_allowed_origin(&self, origin: &str) -> bool {
        self.allowed_origins.iter().any(|o| o == origin)
    }
}

/// The variables of one configuration read: values trimmed, empty ones treated as unset.
struct Vars<'a>(&'a HashMap<String, String>);

impl<'a> Vars<'a> {
    fn get(&self, name: &'static str) -> Option<&'a str> {
        self.0.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    fn required(&self, name: &'static str) -> Result<&'a str, ConfigError> {
        self.get(name).ok_or(ConfigError::Missing(name))
    }

    /// An integer in `range`, `default` when unset.
    fn integer(
        &self,
        name: &'static str,
        default: i64,
        range: std::ops::RangeInclusive<i64>,
    ) -> Result<i64, ConfigError> {
        let Some(value) = self.get(name) else {
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
    }
}

/// A key the function uses (at least [`MIN_SECRET_BYTES`]); a stand-in for one it does not.
fn secret(vars: &Vars, keys: &[Key], key: Key) -> Result<Secret, ConfigError> {
    let (name, arn) = key.vars();
    if !keys.contains(&key) {
        return Secret::stand_in(name);
    }
    let value = vars
        .get(name)
        .ok_or(ConfigError::MissingSecret { value: name, arn })?;
    secret_value(name, value)
}

/// An optional key: its value if the function uses it and it is set (at least
/// [`MIN_SECRET_BYTES`]), else `None`.
fn optional_secret(vars: &Vars, keys: &[Key], key: Key) -> Result<Option<Secret>, ConfigError> {
    let (name, _) = key.vars();
    match vars.get(name) {
        Some(value) if keys.contains(&key) => secret_value(name, value).map(Some),
        _ => Ok(None),
    }
}

fn secret_value(name: &'static str, value: &str) -> Result<Secret, ConfigError> {
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
}

/// `ALLOWED_ORIGINS`: http(s) origins, comma separated; never a wildcard (credentials).
fn allowed_origins(vars: &Vars) -> Result<Vec<String>, ConfigError> {
    let origins: Vec<String> = vars
        .required("ALLOWED_ORIGINS")?
        .split(',')
        .map(|o| o.trim().trim_end_matches('/').to_string())
        .filter(|o| !o.is_empty())
        .collect();
    if let Some(bad) = origins
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
    Ok(origins)
}

fn cookie_same_site(vars: &Vars) -> Result<SameSite, ConfigError> {
    let same_site = vars.get("COOKIE_SAMESITE").unwrap_or("Strict");
    SameSite::parse(same_site).ok_or_else(|| ConfigError::Invalid {
        name: "COOKIE_SAMESITE",
        reason: format!("{same_site:?} is not one of Strict, Lax, None"),
    })
}

fn refresh_reuse_grace_secs(vars: &Vars) -> Result<i64, ConfigError> {
    vars.integer(
        "REFRESH_REUSE_GRACE_SECS",
        DEFAULT_REFRESH_REUSE_GRACE_SECS,
        0..=MAX_REFRESH_REUSE_GRACE_SECS,
    )
}

/// The login throttle's budgets (`LOGIN_FAILURES_*`) and window (`LOGIN_WINDOW_SECS`).
fn login_throttle(vars: &Vars) -> Result<LoginThrottle, ConfigError> {
    let failures = |name: &'static str, default: u32| -> Result<u32, ConfigError> {
        let n = vars.integer(name, i64::from(default), LoginThrottle::FAILURES_RANGE)?;
        u32::try_from(n).map_err(|_| ConfigError::Invalid {
            name,
            reason: format!("{n} is out of range"),
        })
    };
    let defaults = LoginThrottle::DEFAULT;
    Ok(LoginThrottle {
        per_email_ip: failures("LOGIN_FAILURES_PER_EMAIL_IP", defaults.per_email_ip)?,
        per_ip: failures("LOGIN_FAILURES_PER_IP", defaults.per_ip)?,
        per_email: failures("LOGIN_FAILURES_PER_EMAIL", defaults.per_email)?,
        per_device: failures("LOGIN_FAILURES_PER_DEVICE", defaults.per_device)?,
        window_secs: vars.integer(
            "LOGIN_WINDOW_SECS",
            defaults.window_secs,
            LoginThrottle::WINDOW_RANGE,
        )?,
    })
}

/// The registration budget (`REGISTRATIONS_PER_IP`) and its window (`REGISTRATION_WINDOW_SECS`),
/// in the ranges of the login budgets.
fn register_throttle(vars: &Vars) -> Result<RegisterThrottle, ConfigError> {
    const PER_IP: &str = "REGISTRATIONS_PER_IP";
    let defaults = RegisterThrottle::DEFAULT;
    let per_ip = vars.integer(
        PER_IP,
        i64::from(defaults.per_ip),
        LoginThrottle::FAILURES_RANGE,
    )?;
    Ok(RegisterThrottle {
        per_ip: u32::try_from(per_ip).map_err(|_| ConfigError::Invalid {
            name: PER_IP,
            reason: format!("{per_ip} is out of range"),
        })?,
        window_secs: vars.integer(
            "REGISTRATION_WINDOW_SECS",
            defaults.window_secs,
            LoginThrottle::WINDOW_RANGE,
        )?,
    })
}

/// The external identity provider, if any `EXTERNAL_*` variable is set: then issuer and
/// audience are required, and exactly one key source.
fn external_jwt<'a>(
    get: &impl Fn(&'static str) -> Option<&'a str>,
    jwt_issuer: &str,
) -> Result<Option<ExternalJwt>, ConfigError> {
    const ISSUER: &str = "EXTERNAL_JWT_ISSUER";
    const AUDIENCE: &str = "EXTERNAL_JWT_AUDIENCE";
    const JWKS_URL: &str = "EXTERNAL_JWKS_URL";
    const SECRET: &str = "EXTERNAL_JWT_SECRET";
    let (issuer, audience, jwks_url, secret) =
        (get(ISSUER), get(AUDIENCE), get(JWKS_URL), get(SECRET));
    if [issuer, audience, jwks_url, secret]
        .iter()
        .all(Option::is_none)
    {
        return Ok(None);
    }
    let issuer = issuer.ok_or(ConfigError::Invalid {
        name: ISSUER,
        reason: format!(
            "required when any EXTERNAL_* variable is set ({AUDIENCE}, {JWKS_URL} or {SECRET})"
        ),
    })?;
    if issuer == jwt_issuer {
        // The two kinds of token must never be mistaken for each other.
        return Err(ConfigError::Invalid {
            name: ISSUER,
            reason: "must differ from JWT_ISSUER (the issuer of taskline's own tokens)".into(),
        });
    }
    let audience = audience.ok_or(ConfigError::Invalid {
        name: AUDIENCE,
        reason: format!("required with {ISSUER}"),
    })?;
    let keys = external_keys(jwks_url, secret)?;
    Ok(Some(ExternalJwt {
        issuer: issuer.to_string(),
        audience: audience.to_string(),
        keys,
    }))
}

/// The external provider's key source: exactly one of `EXTERNAL_JWKS_URL` and
/// `EXTERNAL_JWT_SECRET` (at least [`MIN_SECRET_BYTES`]).
fn external_keys(
    jwks_url: Option<&str>,
    secret: Option<&str>,
) -> Result<ExternalKeys, ConfigError> {
    const ISSUER: &str = "EXTERNAL_JWT_ISSUER";
    const JWKS_URL: &str = "EXTERNAL_JWKS_URL";
    const SECRET: &str = "EXTERNAL_JWT_SECRET";
    Ok(match (jwks_url, secret) {
        (Some(_), Some(_)) => {
            return Err(ConfigError::Invalid {
                name: JWKS_URL,
                reason: format!("set either {JWKS_URL} or {SECRET}, not both"),
            });
        }
        (None, None) => {
            return Err(ConfigError::Invalid {
                name: JWKS_URL,
                reason: format!("{ISSUER} needs a key source: set {JWKS_URL} or {SECRET}"),
            });
        }
        (Some(url), None) => ExternalKeys::Jwks(jwks_url_of(url)?),
        (None, Some(secret)) => {
            if secret.len() < MIN_SECRET_BYTES {
                return Err(ConfigError::Invalid {
                    name: SECRET,
                    reason: format!(
                        "must be at least {MIN_SECRET_BYTES} bytes, got {}",
                        secret.len()
                    ),
                });
            }
            ExternalKeys::Secret(Secret(secret.as_bytes().to_vec()))
        }
    })
}

/// The JWKS URL: https, or plain http to a provider on this machine (development, tests).
fn jwks_url_of(url: &str) -> Result<hyper::Uri, ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid {
        name: "EXTERNAL_JWKS_URL",
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

    const ORIGIN_KEY: &str = "origin-verify-secret-0123456789abcdef";

    #[test]
    fn the_origin_secret_is_optional_and_read_only_where_declared() {
        // Unset: no secret, and the client's address is the connection's.
        assert_eq!(
            Config::from_vars(&vars(&[])).unwrap().origin_verify_secret,
            None
        );
        let set = vars(&[("ORIGIN_VERIFY_SECRET", ORIGIN_KEY)]);
        let config = Config::from_vars(&set).unwrap();
        assert_eq!(
            config.origin_verify_secret.map(|s| s.expose().to_vec()),
            Some(ORIGIN_KEY.as_bytes().to_vec())
        );
        // A function that does not declare it holds none.
        let config = Config::from_vars_with_keys(&set, &[Key::Jwt]).unwrap();
        assert_eq!(config.origin_verify_secret, None);
        let err = Config::from_vars(&vars(&[("ORIGIN_VERIFY_SECRET", "short")])).unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::Invalid {
                    name: "ORIGIN_VERIFY_SECRET",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[tokio::test]
    async fn the_origin_secret_comes_from_secrets_manager_in_the_same_call_or_not_at_all() {
        const ORIGIN_ARN: &str =
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:origin-AbCdEf";
        let keys = [Key::Jwt, Key::Origin];
        let calls = std::cell::RefCell::new(Vec::new());
        let mut deployed = vars(&[
            ("JWT_SECRET", ""),
            ("JWT_SECRET_ARN", JWT_ARN),
            ("ORIGIN_VERIFY_SECRET_ARN", ORIGIN_ARN),
        ]);
        let fetch = |arns: Vec<String>| {
            calls.borrow_mut().push(arns.clone());
            secrets_manager(&[(JWT_ARN, JWT_KEY), (ORIGIN_ARN, ORIGIN_KEY)])(arns)
        };
        resolve_secrets(&mut deployed, &keys, fetch).await.unwrap();
        assert_eq!(
            calls.into_inner(),
            [vec![JWT_ARN.to_string(), ORIGIN_ARN.to_string()]]
        );
        let config = Config::from_vars_with_keys(&deployed, &keys).unwrap();
        assert_eq!(
            config.origin_verify_secret.map(|s| s.expose().to_vec()),
            Some(ORIGIN_KEY.as_bytes().to_vec())
        );
        // Neither form set: it starts without one, reading nothing for it.
        let mut local = vars(&[("JWT_SECRET", ""), ("JWT_SECRET_ARN", JWT_ARN)]);
        resolve_secrets(&mut local, &keys, secrets_manager(&[(JWT_ARN, JWT_KEY)]))
            .await
            .unwrap();
        let config = Config::from_vars_with_keys(&local, &keys).unwrap();
        assert_eq!(config.origin_verify_secret, None);
        // Both forms: ambiguous, refused.
        let mut both = vars(&[
            ("ORIGIN_VERIFY_SECRET", ORIGIN_KEY),
            ("ORIGIN_VERIFY_SECRET_ARN", ORIGIN_ARN),
        ]);
        let err = resolve_secrets(&mut both, &keys, nothing_fetched)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::Invalid {
                    name: "ORIGIN_VERIFY_SECRET_ARN",
                    ..
                }
            ),
            "{err}"
        );
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

    /// A stand-in for Secrets Manager: secrets by ARN; an unknown ARN fails as AWS would.
    fn secrets_manager(
        secrets: &[(&str, &str)],
    ) -> impl FnOnce(Vec<String>) -> std::future::Ready<Result<SecretValues, String>> {
        let secrets: HashMap<String, String> = secrets
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |arns| {
            std::future::ready(Ok(arns
                .into_iter()
                .map(|arn| {
                    let value = secrets
                        .get(&arn)
                        .cloned()
                        .ok_or_else(|| format!("ResourceNotFoundException: {arn}"));
                    (arn, value)
                })
                .collect()))
        }
    }

    #[tokio::test]
    async fn both_keys_of_a_function_come_from_one_secrets_manager_call() {
        let calls = std::cell::RefCell::new(Vec::new());
        let mut vars = deployed_vars();
        let fetch = |arns: Vec<String>| {
            calls.borrow_mut().push(arns.clone());
            secrets_manager(&[(JWT_ARN, JWT_KEY), (CURSOR_ARN, CURSOR_KEY)])(arns)
        };
        resolve_secrets(&mut vars, Key::ALL, fetch).await.unwrap();
        assert_eq!(
            calls.into_inner(),
            [vec![JWT_ARN.to_string(), CURSOR_ARN.to_string()]]
        );
        let config = Config::from_vars(&vars).unwrap();
        assert_eq!(config.cursor_secret.expose(), CURSOR_KEY.as_bytes());
    }

    #[tokio::test]
    async fn an_external_secret_named_by_arn_comes_in_the_same_one_call() {
        const EXTERNAL_ARN: &str =
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:external-AbCdEf";
        const EXTERNAL_KEY: &str = "external-provider-hs256-secret-0123456789abcdef";
        let calls = std::cell::RefCell::new(Vec::new());
        let mut vars = deployed_vars();
        vars.insert(
            "EXTERNAL_JWT_ISSUER".into(),
            "https://auth.example.com".into(),
        );
        vars.insert(
            "EXTERNAL_JWT_AUDIENCE".into(),
            "https://auth.example.com".into(),
        );
        vars.insert("EXTERNAL_JWT_SECRET_ARN".into(), EXTERNAL_ARN.into());
        let fetch = |arns: Vec<String>| {
            calls.borrow_mut().push(arns.clone());
            secrets_manager(&[(JWT_ARN, JWT_KEY), (EXTERNAL_ARN, EXTERNAL_KEY)])(arns)
        };
        resolve_secrets(&mut vars, &[Key::Jwt, Key::External], fetch)
            .await
            .unwrap();
        assert_eq!(
            calls.into_inner(),
            [vec![JWT_ARN.to_string(), EXTERNAL_ARN.to_string()]]
        );
        let config = Config::from_vars_with_keys(&vars, &[Key::Jwt, Key::External]).unwrap();
        let external = config.external_jwt.unwrap();
        assert!(
            matches!(&external.keys, ExternalKeys::Secret(secret) if secret.expose() == EXTERNAL_KEY.as_bytes())
        );
        // Without a provider secret, the optional key is neither required nor fetched.
        let calls = std::cell::RefCell::new(Vec::new());
        let mut vars = deployed_vars();
        let fetch = |arns: Vec<String>| {
            calls.borrow_mut().push(arns.clone());
            secrets_manager(&[(JWT_ARN, JWT_KEY)])(arns)
        };
        resolve_secrets(&mut vars, &[Key::Jwt, Key::External], fetch)
            .await
            .unwrap();
        assert_eq!(calls.into_inner(), [vec![JWT_ARN.to_string()]]);
    }

    #[tokio::test]
    async fn a_failed_secrets_manager_call_is_refused_naming_a_variable() {
        let mut vars = deployed_vars();
        let fetch = |_| std::future::ready(Err("dispatch failure: connection refused".into()));
        let err = resolve_secrets(&mut vars, Key::ALL, fetch)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, ConfigError::SecretUnavailable { arn: "JWT_SECRET_ARN", reason } if reason.contains("connection refused")),
            "{err}"
        );
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
        resolve_secrets(&mut vars, Key::ALL, secrets_manager(secrets)).await?;
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
        let fetch =
            |arns: Vec<String>| async move { panic!("nothing should be fetched, got {arns:?}") };
        let mut vars = vars(&[]);
        resolve_secrets(&mut vars, Key::ALL, fetch).await.unwrap();
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

    /// A fetch that fails the test if anything is read from Secrets Manager.
    fn nothing_fetched(arns: Vec<String>) -> std::future::Ready<Result<SecretValues, String>> {
        panic!("nothing should be fetched, got {arns:?}")
    }

    #[tokio::test]
    async fn a_function_without_keys_starts_with_no_secret_set_and_reads_none() {
        let mut vars = vars(&[("JWT_SECRET", ""), ("CURSOR_SECRET", "")]);
        resolve_secrets(&mut vars, &[], nothing_fetched)
            .await
            .unwrap();
        let config = Config::from_vars_with_keys(&vars, &[]).unwrap();
        // Its stand-ins are random, so nothing it could sign matches another function's key.
        let again = Config::from_vars_with_keys(&vars, &[]).unwrap();
        assert_eq!(config.jwt_secret.expose().len(), MIN_SECRET_BYTES);
        assert_ne!(config.jwt_secret, again.jwt_secret);
        assert_ne!(config.cursor_secret, again.cursor_secret);

        // Even an ARN of a key it does not use is left unread.
        let mut deployed = deployed_vars();
        resolve_secrets(&mut deployed, &[], nothing_fetched)
            .await
            .unwrap();
        assert!(Config::from_vars_with_keys(&deployed, &[]).is_ok());
    }

    #[tokio::test]
    async fn a_function_with_the_jwt_key_only_reads_only_that_secret() {
        let mut vars = vars(&[
            ("JWT_SECRET", ""),
            ("CURSOR_SECRET", ""),
            ("JWT_SECRET_ARN", JWT_ARN),
        ]);
        // Secrets Manager knows only the JWT secret: reading the cursor secret would fail.
        resolve_secrets(
            &mut vars,
            &[Key::Jwt],
            secrets_manager(&[(JWT_ARN, JWT_KEY)]),
        )
        .await
        .unwrap();
        let config = Config::from_vars_with_keys(&vars, &[Key::Jwt]).unwrap();
        assert_eq!(config.jwt_secret.expose(), JWT_KEY.as_bytes());
        assert_ne!(config.cursor_secret.expose(), CURSOR_KEY.as_bytes());
    }

    #[tokio::test]
    async fn a_function_using_cursors_refuses_to_start_without_the_cursor_secret() {
        let both = [Key::Jwt, Key::Cursor];
        let mut vars = vars(&[("CURSOR_SECRET", "")]);
        let err = resolve_secrets(&mut vars, &both, nothing_fetched)
            .await
            .unwrap_err();
        assert_eq!(
            err,
            ConfigError::MissingSecret {
                value: "CURSOR_SECRET",
                arn: "CURSOR_SECRET_ARN"
            }
        );
        assert!(err.to_string().contains("CURSOR_SECRET_ARN"));
        let err = Config::from_vars_with_keys(&vars, &both).unwrap_err();
        assert!(err.to_string().contains("CURSOR_SECRET"), "{err}");
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
            ExternalKeys::Secret(Secret(BETTER_AUTH_SECRET.as_bytes().to_vec()))
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
