//! The keys, and where they come from: AWS Secrets Manager (deployed: `<NAME>_ARN`, read once
//! at cold start by [`resolve_secrets`] and kept for the life of the process) or straight from
//! the environment (locally and in tests: `<NAME>`). Setting both forms of one key is refused,
//! so it is always clear which key signs tokens.
//!
//! Each function loads only the keys it declares ([`SecretName`]: register the origin secret,
//! login the JWT key and the origin secret, tasks both HMAC keys, the others the JWT key), so
//! a function holds no key it does not use and needs neither the variable nor the permission
//! to read the others. In place of an undeclared HMAC key the configuration holds a random key
//! of this process: whatever it signed or checked by mistake would match nothing another
//! function signs. The origin secret and the external provider's are optional.

use std::collections::HashMap;
use std::future::Future;

use super::variables::{self, DefaultValue, Kind, MIN_SECRET_BYTES, Variable};
use super::vars::{ConfigError, Vars};

/// A key a function may use; each function declares the ones it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretName {
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
    /// configured by a shared secret, see [`ExternalKeys::Secret`](super::ExternalKeys)).
    External,
    /// The SMTP server's password (optional: a local mail catcher asks for none). Declaring
    /// it is what makes a function one that sends mail: it reads the mail settings too.
    Smtp,
}

impl SecretName {
    pub const ALL: &[SecretName] = &[
        SecretName::Jwt,
        SecretName::Cursor,
        SecretName::Origin,
        SecretName::External,
        SecretName::Smtp,
    ];

    /// Its row of the table of variables.
    pub fn variable(self) -> &'static Variable {
        match self {
            SecretName::Jwt => &variables::JWT_SECRET,
            SecretName::Cursor => &variables::CURSOR_SECRET,
            SecretName::Origin => &variables::ORIGIN_VERIFY_SECRET,
            SecretName::External => &variables::EXTERNAL_JWT_SECRET,
            SecretName::Smtp => &variables::SMTP_PASSWORD,
        }
    }

    /// (variable holding the value, variable holding the ARN of a secret whose
    /// `SecretString` is the value).
    pub fn vars(self) -> (&'static str, &'static str) {
        let variable = self.variable();
        match variable.kind {
            Kind::Secret { arn } => (variable.name, arn),
            _ => (variable.name, ""),
        }
    }

    /// Whether a function declaring this key may run without it.
    pub fn is_optional(self) -> bool {
        self.variable().default != DefaultValue::Required
    }
}

/// What one read of several secrets returned: by the id asked for (the ARN variable's value),
/// the secret's `SecretString`, or why that one secret could not be read.
pub type SecretValues = HashMap<String, Result<String, String>>;

/// Replaces the `*_SECRET_ARN` variable of each key in `keys` by the value of its secret,
/// fetched by ONE call of `fetch(ids)` for all of them (Secrets Manager's `GetSecretValue` or
/// `BatchGetSecretValue` in production, a map in tests): a cold start makes at most one
/// Secrets Manager call. Keys given directly as `JWT_SECRET`/`CURSOR_SECRET` are left as they
/// are; keys not in `keys` are not read; nothing to read, no call. Errors name the variable.
pub async fn resolve_secrets<F, Fut>(
    vars: &mut HashMap<String, String>,
    keys: &[SecretName],
    fetch: F,
) -> Result<(), ConfigError>
where
    F: FnOnce(Vec<String>) -> Fut,
    Fut: Future<Output = Result<SecretValues, String>>,
{
    let mut wanted = Vec::new();
    for key in SecretName::ALL
        .iter()
        .copied()
        .filter(|key| keys.contains(key))
    {
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
        secret_value(arn_var, &value)?;
        vars.remove(arn_var);
        vars.insert(value_var.to_string(), value);
    }
    Ok(())
}

/// The ARN of one key if it comes from Secrets Manager, `None` if it is set directly (or, for
/// an optional key, not at all).
fn secret_arn(
    vars: &HashMap<String, String>,
    key: SecretName,
) -> Result<Option<String>, ConfigError> {
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

/// A key the function uses; a stand-in for one it does not.
pub(super) fn secret(
    vars: &Vars,
    keys: &[SecretName],
    key: SecretName,
) -> Result<Secret, ConfigError> {
    let (name, arn) = key.vars();
    if !keys.contains(&key) {
        return Secret::stand_in(name);
    }
    let value = vars
        .get(name)
        .ok_or(ConfigError::MissingSecret { value: name, arn })?;
    secret_value(name, value)
}

/// An optional key: its value if the function uses it and it is set, else `None`.
pub(super) fn optional_secret(
    vars: &Vars,
    keys: &[SecretName],
    key: SecretName,
) -> Result<Option<Secret>, ConfigError> {
    let (name, _) = key.vars();
    match vars.get(name) {
        Some(value) if keys.contains(&key) => secret_value(name, value).map(Some),
        _ => Ok(None),
    }
}

/// THE rule of every key, wherever it comes from: at least [`MIN_SECRET_BYTES`]. An error
/// names `name`, the variable that gave it.
pub(super) fn secret_value(name: &'static str, value: &str) -> Result<Secret, ConfigError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::vars;
    use crate::config::{Config, ExternalKeys};

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
        let config = Config::from_vars_with_keys(&set, &[SecretName::Jwt]).unwrap();
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
        let keys = [SecretName::Jwt, SecretName::Origin];
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
        resolve_secrets(&mut vars, SecretName::ALL, fetch)
            .await
            .unwrap();
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
        resolve_secrets(&mut vars, &[SecretName::Jwt, SecretName::External], fetch)
            .await
            .unwrap();
        assert_eq!(
            calls.into_inner(),
            [vec![JWT_ARN.to_string(), EXTERNAL_ARN.to_string()]]
        );
        let config =
            Config::from_vars_with_keys(&vars, &[SecretName::Jwt, SecretName::External]).unwrap();
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
        resolve_secrets(&mut vars, &[SecretName::Jwt, SecretName::External], fetch)
            .await
            .unwrap();
        assert_eq!(calls.into_inner(), [vec![JWT_ARN.to_string()]]);
    }

    #[tokio::test]
    async fn a_failed_secrets_manager_call_is_refused_naming_a_variable() {
        let mut vars = deployed_vars();
        let fetch = |_| std::future::ready(Err("dispatch failure: connection refused".into()));
        let err = resolve_secrets(&mut vars, SecretName::ALL, fetch)
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
        resolve_secrets(&mut vars, SecretName::ALL, secrets_manager(secrets)).await?;
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
        resolve_secrets(&mut vars, SecretName::ALL, fetch)
            .await
            .unwrap();
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
            &[SecretName::Jwt],
            secrets_manager(&[(JWT_ARN, JWT_KEY)]),
        )
        .await
        .unwrap();
        let config = Config::from_vars_with_keys(&vars, &[SecretName::Jwt]).unwrap();
        assert_eq!(config.jwt_secret.expose(), JWT_KEY.as_bytes());
        assert_ne!(config.cursor_secret.expose(), CURSOR_KEY.as_bytes());
    }

    #[tokio::test]
    async fn a_function_using_cursors_refuses_to_start_without_the_cursor_secret() {
        let both = [SecretName::Jwt, SecretName::Cursor];
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
}
