//! Reading the variables of one configuration, and the error that names a refused one.

use std::collections::HashMap;

use super::variables::{DefaultValue, Kind, Variable};

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

/// The variables of one configuration read: values trimmed, empty ones treated as unset.
pub(super) struct Vars<'a>(pub(super) &'a HashMap<String, String>);

impl<'a> Vars<'a> {
    pub(super) fn get(&self, name: &'static str) -> Option<&'a str> {
        self.0.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    /// The value of `var`, else its default; a required one unset is an error naming it.
    pub(super) fn value(&self, var: &Variable) -> Result<Option<&'a str>, ConfigError> {
        match (self.get(var.name), var.default) {
            (Some(value), _) => Ok(Some(value)),
            (None, DefaultValue::Text(default)) => Ok(Some(default)),
            (None, DefaultValue::Required) => Err(ConfigError::Missing(var.name)),
            (None, DefaultValue::Off | DefaultValue::Integer(_)) => Ok(None),
        }
    }

    /// A text variable, or its default.
    pub(super) fn text(&self, var: &Variable) -> Result<String, ConfigError> {
        Ok(self.value(var)?.unwrap_or_default().to_string())
    }

    /// One of the values of an enumeration (or its default), as `parse` reads it.
    pub(super) fn choice<T>(
        &self,
        var: &Variable,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<T, ConfigError> {
        let value = self.value(var)?.unwrap_or_default();
        parse(value).ok_or_else(|| {
            let values = match var.kind {
                Kind::Enumeration(values) => values.join(", "),
                _ => String::new(),
            };
            ConfigError::Invalid {
                name: var.name,
                reason: format!("{value:?} is not one of {values}"),
            }
        })
    }

    /// THE integer parser: a whole number within the bounds of `var`, or its default.
    pub(super) fn integer<T: TryFrom<u64>>(&self, var: &Variable) -> Result<T, ConfigError> {
        let (min, max) = match var.kind {
            Kind::Integer { min, max } => (min, max),
            _ => (0, u64::MAX),
        };
        let invalid = |reason: String| ConfigError::Invalid {
            name: var.name,
            reason,
        };
        let n = match (self.get(var.name), var.default) {
            (Some(value), _) => match value.parse::<u64>() {
                Ok(n) if (min..=max).contains(&n) => n,
                _ if max == u64::MAX => {
                    return Err(invalid(format!(
                        "{value:?} is not a whole number of at least {min}"
                    )));
                }
                _ => {
                    return Err(invalid(format!(
                        "{value:?} is not a whole number in {min}..={max}"
                    )));
                }
            },
            (None, DefaultValue::Integer(n)) => n,
            (None, _) => return Err(ConfigError::Missing(var.name)),
        };
        T::try_from(n).map_err(|_| invalid(format!("{n} is out of range")))
    }

    /// A comma-separated list (required, or empty when unset), its items trimmed.
    pub(super) fn list(&self, var: &Variable) -> Result<Vec<&'a str>, ConfigError> {
        Ok(self
            .value(var)?
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .collect())
    }
}
