//! THE table of the environment variables the functions read: each one's name, type, default,
//! the functions that read it and whether `scripts/dev.sh` sets it, declared once here.
//! [`Config`](super::Config) is read from it (one integer parser, one secret rule, the
//! defaults and bounds below), and `devtools/tests/api/configuration.rs` holds README.md's
//! Configuration table, `template.yaml` and `scripts/dev.sh` to it.

/// A function of the API (a Lambda of `template.yaml`, a crate of `functions/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Function {
    Register,
    Login,
    Refresh,
    Tasks,
    Account,
    Recovery,
}

impl Function {
    pub const ALL: &[Function] = &[
        Function::Register,
        Function::Login,
        Function::Refresh,
        Function::Tasks,
        Function::Account,
        Function::Recovery,
    ];

    /// The name of its crate and binary (`functions/<name>`).
    pub fn name(self) -> &'static str {
        match self {
            Function::Register => "register",
            Function::Login => "login",
            Function::Refresh => "refresh",
            Function::Tasks => "tasks",
            Function::Account => "account",
            Function::Recovery => "recovery",
        }
    }
}

/// What a variable holds, and so how it is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text, taken as it is (trimmed).
    Text,
    /// A whole number in `min..=max`.
    Integer { min: u64, max: u64 },
    /// A key of at least [`MIN_SECRET_BYTES`]. Deployed it stays in Secrets Manager and the
    /// function is given `arn`, the ARN of the secret holding it (see `config::secrets`).
    Secret { arn: &'static str },
    /// Comma-separated values.
    List,
    /// One of `values` (case-insensitive).
    Enumeration(&'static [&'static str]),
}

/// What an unset variable means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultValue {
    /// It must be set (a secret: in the functions that read it, directly or by its ARN).
    Required,
    /// Unset, what it configures is off.
    Off,
    Text(&'static str),
    Integer(u64),
}

/// Who reads a variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// [`Config`](super::Config), once at cold start; deployed, `template.yaml` sets it for
    /// every function that reads it (a secret as its ARN).
    Config,
    /// The logger (`telemetry::init`), which falls back to the default on a value it does not
    /// know; set by `template.yaml` as well.
    Logging,
    /// The AWS SDK, set only locally (DynamoDB Local's endpoint); deployed, AWS's own.
    LocalSdk,
}

/// Whether `scripts/dev.sh` (`make dev`) sets a variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dev {
    /// Always, to the caller's value or its own default.
    Sets,
    /// Only when the caller sets it (passed through).
    PassesThrough,
    /// Never: the default holds locally too.
    Unset,
}

/// One environment variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variable {
    pub name: &'static str,
    pub kind: Kind,
    pub default: DefaultValue,
    /// The functions that use it.
    pub functions: &'static [Function],
    pub reader: Reader,
    pub dev: Dev,
}

/// Minimum length of the keys (JWT, cursor, origin secret, external provider's secret): HS256
/// wants at least 256 bits.
pub const MIN_SECRET_BYTES: usize = 32;

use Function::{Account, Login, Recovery, Refresh, Register, Tasks};

const ALL: &[Function] = Function::ALL;
/// The functions that sign or verify taskline's access tokens.
const TOKENS: &[Function] = &[Login, Refresh, Tasks, Account];
/// The functions that check passwords against the failed-login budgets.
const PASSWORDS: &[Function] = &[Login, Account];
/// The functions that accept the external provider's tokens (Bearer routes).
const EXTERNAL: &[Function] = &[Tasks, Account];
/// The functions that send mail (and so hold the SMTP settings).
const MAIL: &[Function] = &[Register, Account, Recovery];
/// A budget of failed password checks or registrations per window.
const BUDGET: Kind = Kind::Integer {
    min: 1,
    max: 1_000_000,
};
/// A throttle window: a minute to a day.
const WINDOW: Kind = Kind::Integer {
    min: 60,
    max: 86_400,
};

/// A variable read by [`Config`](super::Config).
const fn config(
    name: &'static str,
    kind: Kind,
    default: DefaultValue,
    functions: &'static [Function],
    dev: Dev,
) -> Variable {
    Variable {
        name,
        kind,
        default,
        functions,
        reader: Reader::Config,
        dev,
    }
}

pub const TABLE_NAME: Variable = config(
    "TABLE_NAME",
    Kind::Text,
    DefaultValue::Required,
    ALL,
    Dev::Sets,
);
pub const ALLOWED_ORIGINS: Variable = config(
    "ALLOWED_ORIGINS",
    Kind::List,
    DefaultValue::Required,
    ALL,
    Dev::Sets,
);
pub const JWT_SECRET: Variable = config(
    "JWT_SECRET",
    Kind::Secret {
        arn: "JWT_SECRET_ARN",
    },
    DefaultValue::Required,
    TOKENS,
    Dev::Sets,
);
pub const CURSOR_SECRET: Variable = config(
    "CURSOR_SECRET",
    Kind::Secret {
        arn: "CURSOR_SECRET_ARN",
    },
    DefaultValue::Required,
    &[Tasks],
    Dev::Sets,
);
pub const JWT_ISSUER: Variable = config(
    "JWT_ISSUER",
    Kind::Text,
    DefaultValue::Text("taskline"),
    TOKENS,
    Dev::Unset,
);
pub const JWT_AUDIENCE: Variable = config(
    "JWT_AUDIENCE",
    Kind::Text,
    DefaultValue::Text("taskline-api"),
    TOKENS,
    Dev::Unset,
);
pub const COOKIE_SAMESITE: Variable = config(
    "COOKIE_SAMESITE",
    Kind::Enumeration(&["Strict", "Lax", "None"]),
    DefaultValue::Text("Strict"),
    &[Login, Refresh, Account],
    Dev::Sets,
);
pub const LOG_LEVEL: Variable = Variable {
    name: "LOG_LEVEL",
    kind: Kind::Enumeration(&["error", "warn", "info", "debug", "trace"]),
    default: DefaultValue::Text("info"),
    functions: ALL,
    reader: Reader::Logging,
    dev: Dev::Sets,
};
/// Cognito allows 0..=60 as well.
pub const REFRESH_REUSE_GRACE_SECS: Variable = config(
    "REFRESH_REUSE_GRACE_SECS",
    Kind::Integer { min: 0, max: 60 },
    DefaultValue::Integer(10),
    &[Refresh],
    Dev::Unset,
);
pub const LOGIN_FAILURES_PER_EMAIL_IP: Variable = config(
    "LOGIN_FAILURES_PER_EMAIL_IP",
    BUDGET,
    DefaultValue::Integer(5),
    PASSWORDS,
    Dev::Sets,
);
pub const LOGIN_FAILURES_PER_IP: Variable = config(
    "LOGIN_FAILURES_PER_IP",
    BUDGET,
    DefaultValue::Integer(100),
    PASSWORDS,
    Dev::Sets,
);
pub const LOGIN_FAILURES_PER_EMAIL: Variable = config(
    "LOGIN_FAILURES_PER_EMAIL",
    BUDGET,
    DefaultValue::Integer(50),
    PASSWORDS,
    Dev::Sets,
);
pub const LOGIN_FAILURES_PER_DEVICE: Variable = config(
    "LOGIN_FAILURES_PER_DEVICE",
    BUDGET,
    DefaultValue::Integer(5),
    PASSWORDS,
    Dev::Sets,
);
pub const LOGIN_WINDOW_SECS: Variable = config(
    "LOGIN_WINDOW_SECS",
    WINDOW,
    DefaultValue::Integer(15 * 60),
    PASSWORDS,
    Dev::Sets,
);
pub const REGISTRATIONS_PER_IP: Variable = config(
    "REGISTRATIONS_PER_IP",
    BUDGET,
    DefaultValue::Integer(20),
    &[Register],
    Dev::Sets,
);
pub const REGISTRATION_WINDOW_SECS: Variable = config(
    "REGISTRATION_WINDOW_SECS",
    WINDOW,
    DefaultValue::Integer(60 * 60),
    &[Register],
    Dev::Sets,
);
/// The SPA's address: the links of the mails point at its pages.
pub const APP_URL: Variable = config(
    "APP_URL",
    Kind::Text,
    DefaultValue::Required,
    MAIL,
    Dev::Sets,
);
/// The sender of the mails (`Name <address>` or an address), an identity the SMTP server may
/// send from (deployed: a verified SES identity).
pub const MAIL_FROM: Variable = config(
    "MAIL_FROM",
    Kind::Text,
    DefaultValue::Required,
    MAIL,
    Dev::Sets,
);
pub const SMTP_HOST: Variable = config(
    "SMTP_HOST",
    Kind::Text,
    DefaultValue::Text("127.0.0.1"),
    MAIL,
    Dev::Sets,
);
/// 587 is SES's (and most providers') submission port with STARTTLS.
pub const SMTP_PORT: Variable = config(
    "SMTP_PORT",
    Kind::Integer {
        min: 1,
        max: 65_535,
    },
    DefaultValue::Integer(587),
    MAIL,
    Dev::Sets,
);
/// `none` only for a local mail catcher: credentials never cross a connection without TLS
/// unless asked to.
pub const SMTP_TLS: Variable = config(
    "SMTP_TLS",
    Kind::Enumeration(&["starttls", "tls", "none"]),
    DefaultValue::Text("starttls"),
    MAIL,
    Dev::Sets,
);
pub const SMTP_USERNAME: Variable = config(
    "SMTP_USERNAME",
    Kind::Text,
    DefaultValue::Off,
    MAIL,
    Dev::Unset,
);
/// SES's SMTP password is 44 characters; with no username it is not used.
pub const SMTP_PASSWORD: Variable = config(
    "SMTP_PASSWORD",
    Kind::Secret {
        arn: "SMTP_PASSWORD_ARN",
    },
    DefaultValue::Off,
    MAIL,
    Dev::Unset,
);
pub const PASSWORD_RESETS_PER_EMAIL: Variable = config(
    "PASSWORD_RESETS_PER_EMAIL",
    BUDGET,
    DefaultValue::Integer(5),
    &[Recovery],
    Dev::Sets,
);
pub const PASSWORD_RESETS_PER_IP: Variable = config(
    "PASSWORD_RESETS_PER_IP",
    BUDGET,
    DefaultValue::Integer(20),
    &[Recovery],
    Dev::Sets,
);
pub const PASSWORD_RESET_WINDOW_SECS: Variable = config(
    "PASSWORD_RESET_WINDOW_SECS",
    WINDOW,
    DefaultValue::Integer(60 * 60),
    &[Recovery],
    Dev::Sets,
);
pub const VERIFICATION_EMAILS_PER_USER: Variable = config(
    "VERIFICATION_EMAILS_PER_USER",
    BUDGET,
    DefaultValue::Integer(5),
    &[Account],
    Dev::Sets,
);
pub const VERIFICATION_EMAIL_WINDOW_SECS: Variable = config(
    "VERIFICATION_EMAIL_WINDOW_SECS",
    WINDOW,
    DefaultValue::Integer(60 * 60),
    &[Account],
    Dev::Sets,
);
pub const ORIGIN_VERIFY_SECRET: Variable = config(
    "ORIGIN_VERIFY_SECRET",
    Kind::Secret {
        arn: "ORIGIN_VERIFY_SECRET_ARN",
    },
    DefaultValue::Off,
    &[Register, Login, Recovery],
    Dev::Unset,
);
pub const MAX_TASKS_PER_USER: Variable = config(
    "MAX_TASKS_PER_USER",
    Kind::Integer {
        min: 1,
        max: u64::MAX,
    },
    DefaultValue::Integer(10_000),
    &[Tasks],
    Dev::Unset,
);
pub const MAX_SESSIONS_PER_USER: Variable = config(
    "MAX_SESSIONS_PER_USER",
    Kind::Integer {
        min: 1,
        max: u64::MAX,
    },
    DefaultValue::Integer(100),
    &[Login],
    Dev::Unset,
);
/// Well within the account function's 29 s timeout, with room for the last page and the
/// final write.
pub const ACCOUNT_DELETION_BUDGET_MS: Variable = config(
    "ACCOUNT_DELETION_BUDGET_MS",
    Kind::Integer {
        min: 0,
        max: u64::MAX,
    },
    DefaultValue::Integer(20_000),
    &[Account],
    Dev::Unset,
);
pub const EXTERNAL_JWT_ISSUER: Variable = config(
    "EXTERNAL_JWT_ISSUER",
    Kind::Text,
    DefaultValue::Off,
    EXTERNAL,
    Dev::PassesThrough,
);
pub const EXTERNAL_JWT_AUDIENCE: Variable = config(
    "EXTERNAL_JWT_AUDIENCE",
    Kind::Text,
    DefaultValue::Off,
    EXTERNAL,
    Dev::PassesThrough,
);
pub const EXTERNAL_JWKS_URL: Variable = config(
    "EXTERNAL_JWKS_URL",
    Kind::Text,
    DefaultValue::Off,
    EXTERNAL,
    Dev::PassesThrough,
);
pub const EXTERNAL_JWT_SECRET: Variable = config(
    "EXTERNAL_JWT_SECRET",
    Kind::Secret {
        arn: "EXTERNAL_JWT_SECRET_ARN",
    },
    DefaultValue::Off,
    EXTERNAL,
    Dev::PassesThrough,
);
pub const AWS_ENDPOINT_URL: Variable = Variable {
    name: "AWS_ENDPOINT_URL",
    kind: Kind::Text,
    default: DefaultValue::Off,
    functions: ALL,
    reader: Reader::LocalSdk,
    dev: Dev::Sets,
};

/// Every variable, in the order of README.md's Configuration table.
pub const VARIABLES: &[Variable] = &[
    TABLE_NAME,
    ALLOWED_ORIGINS,
    JWT_SECRET,
    CURSOR_SECRET,
    JWT_ISSUER,
    JWT_AUDIENCE,
    COOKIE_SAMESITE,
    LOG_LEVEL,
    REFRESH_REUSE_GRACE_SECS,
    LOGIN_FAILURES_PER_EMAIL_IP,
    LOGIN_FAILURES_PER_IP,
    LOGIN_FAILURES_PER_EMAIL,
    LOGIN_FAILURES_PER_DEVICE,
    LOGIN_WINDOW_SECS,
    REGISTRATIONS_PER_IP,
    REGISTRATION_WINDOW_SECS,
    APP_URL,
    MAIL_FROM,
    SMTP_HOST,
    SMTP_PORT,
    SMTP_TLS,
    SMTP_USERNAME,
    SMTP_PASSWORD,
    PASSWORD_RESETS_PER_EMAIL,
    PASSWORD_RESETS_PER_IP,
    PASSWORD_RESET_WINDOW_SECS,
    VERIFICATION_EMAILS_PER_USER,
    VERIFICATION_EMAIL_WINDOW_SECS,
    ORIGIN_VERIFY_SECRET,
    MAX_TASKS_PER_USER,
    MAX_SESSIONS_PER_USER,
    ACCOUNT_DELETION_BUDGET_MS,
    EXTERNAL_JWT_ISSUER,
    EXTERNAL_JWT_AUDIENCE,
    EXTERNAL_JWKS_URL,
    EXTERNAL_JWT_SECRET,
    AWS_ENDPOINT_URL,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_default_fits_its_kind() {
        for var in VARIABLES {
            match (var.kind, var.default) {
                (Kind::Integer { min, max }, DefaultValue::Integer(n)) => {
                    assert!((min..=max).contains(&n), "{}", var.name)
                }
                (Kind::Enumeration(values), DefaultValue::Text(value)) => {
                    assert!(values.contains(&value), "{}", var.name)
                }
                (Kind::Secret { arn }, DefaultValue::Required | DefaultValue::Off) => {
                    assert_eq!(arn, format!("{}_ARN", var.name))
                }
                (
                    Kind::Text | Kind::List,
                    DefaultValue::Required | DefaultValue::Off | DefaultValue::Text(_),
                ) => {}
                other => panic!("{}: {other:?}", var.name),
            }
            assert!(!var.functions.is_empty(), "{}", var.name);
        }
    }

    #[test]
    fn each_variable_is_declared_once() {
        let mut names: Vec<&str> = VARIABLES.iter().map(|v| v.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), VARIABLES.len());
    }
}
