//! The mails the API sends (a link to reset the password, a link to verify the email, a
//! notice of a changed password) and the [`Outbox`] they go through. The outbox is a trait so
//! that only the functions that send mail link an SMTP client (the crate `taskline-mail`);
//! the others keep their binary and cold start. Nothing here logs a mail's body: it holds a
//! link with a token.

use std::future::Future;
use std::pin::Pin;

use crate::auth::{Email, LinkKind, LinkToken};
use crate::error::{ApiError, Source};

/// Subject of the password-reset mail (the SPA's browser tests find the mail by it).
pub const RESET_SUBJECT: &str = "Reset your taskline password";
/// Subject of the verification mail.
pub const VERIFY_SUBJECT: &str = "Verify your email for taskline";
/// Subject of the notice after a password change or reset.
pub const NOTICE_SUBJECT: &str = "Your taskline password was changed";

/// One mail to one recipient, plain text. Never printed (its body holds a link's token).
pub struct Mail {
    pub to: Email,
    pub subject: &'static str,
    pub text: String,
}

impl std::fmt::Debug for Mail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mail({:?})", self.subject)
    }
}

impl Mail {
    /// The mail carrying `token`'s link of `kind`, on a line of its own.
    pub fn link(to: Email, kind: LinkKind, token: &LinkToken, app_url: &str) -> Self {
        let link = token.link(app_url, kind);
        let (subject, text) = match kind {
            LinkKind::Reset => (
                RESET_SUBJECT,
                format!(
                    "Someone asked to reset the password of your taskline account.\n\n\
                     To choose a new password, open this link within 30 minutes:\n\n{link}\n\n\
                     If this was not you, ignore this mail: your password stays as it is.\n"
                ),
            ),
            LinkKind::Verify => (
                VERIFY_SUBJECT,
                format!(
                    "Please confirm that this address belongs to your taskline account.\n\n\
                     Open this link within 24 hours:\n\n{link}\n\n\
                     If you did not create a taskline account, ignore this mail.\n"
                ),
            ),
        };
        Self { to, subject, text }
    }

    /// The notice that the password of `to`'s account was changed (or reset).
    pub fn password_changed(to: Email, app_url: &str) -> Self {
        Self {
            to,
            subject: NOTICE_SUBJECT,
            text: format!(
                "The password of your taskline account was just changed, and every session \
                 of the account other than the one that changed it was ended.\n\n\
                 If this was not you, reset your password now at {app_url}/reset-password \
                 and check the account's sessions.\n"
            ),
        }
    }
}

/// Why a mail was not accepted by the mail server.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// Unreachable, timed out, or refused for now (SMTP 4xx): worth another try later (503).
    #[error("the mail server did not accept the mail: {0}")]
    Unavailable(#[source] Source),
    /// Refused for good (SMTP 5xx: an address the server will not deliver to): another try
    /// would fail alike.
    #[error("the mail server refused the mail: {0}")]
    Refused(#[source] Source),
}

impl From<MailError> for ApiError {
    fn from(error: MailError) -> Self {
        match error {
            MailError::Unavailable(_) => ApiError::MailUnavailable {
                source: Box::new(error),
            },
            MailError::Refused(_) => ApiError::validation(
                "email",
                "the mail server refuses to deliver to this address",
            ),
        }
    }
}

/// The future an [`Outbox`] answers with.
pub type Sending<'a> = Pin<Box<dyn Future<Output = Result<(), MailError>> + Send + 'a>>;

/// Where mails go: `Ok` once the mail server accepted the mail.
pub trait Outbox: Send + Sync {
    fn send<'a>(&'a self, mail: &'a Mail) -> Sending<'a>;

    /// A round trip to the mail server that sends nothing (connect, greet, quit): what a
    /// request that has no mail to send does instead, so that it takes about as long and
    /// fails the same way when the server is down (no account enumeration by timing or
    /// status).
    fn probe(&self) -> Sending<'_>;
}
