//! The [`Outbox`] of the functions that send mail: SMTP through `lettre`, the same code path
//! locally (maildev, no TLS, no credentials) and deployed (Amazon SES's SMTP interface, or any
//! provider: STARTTLS or TLS, credentials from Secrets Manager). A crate of its own so that
//! only those functions link an SMTP client.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use taskline::config::{Config, ConfigError, MailSettings, SmtpTls, variables};
use taskline::mail::{Mail, MailError, Outbox, Sending};

/// How long one SMTP exchange may take before the mail counts as not sent (503): well within
/// the functions' timeout, and a healthy server answers in milliseconds.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(5);

/// Mails over SMTP.
pub struct SmtpOutbox {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

/// The outbox of `config`'s mail settings (the function's [`taskline::app::OutboxBuilder`]).
pub fn outbox(config: &Config) -> Result<Arc<dyn Outbox>, ConfigError> {
    let settings = config
        .mail
        .as_ref()
        .ok_or(ConfigError::Missing(variables::MAIL_FROM.name))?;
    Ok(Arc::new(SmtpOutbox::new(settings)?))
}

impl SmtpOutbox {
    pub fn new(settings: &MailSettings) -> Result<Self, ConfigError> {
        let invalid = |name: &'static str, reason: String| ConfigError::Invalid { name, reason };
        let from: Mailbox = settings
            .from
            .parse()
            .map_err(|e| invalid(variables::MAIL_FROM.name, format!("not a mailbox: {e}")))?;
        let host = settings.host.as_str();
        let builder = match settings.tls {
            SmtpTls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host),
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host),
            SmtpTls::None => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
                host,
            )),
        }
        .map_err(|e| invalid(variables::SMTP_HOST.name, e.to_string()))?;
        let mut builder = builder.port(settings.port).timeout(Some(SMTP_TIMEOUT));
        if let Some((username, password)) = &settings.credentials {
            let password = String::from_utf8_lossy(password.expose()).into_owned();
            builder = builder.credentials(Credentials::new(username.clone(), password));
        }
        Ok(Self {
            transport: builder.build(),
            from,
        })
    }

    fn message(&self, mail: &Mail) -> Result<Message, MailError> {
        // An address ours accepts but the SMTP library does not is one no server delivers to.
        let to: Mailbox = mail
            .to
            .as_str()
            .parse()
            .map_err(|e| MailError::Refused(Box::new(e)))?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(mail.text.clone())
            .map_err(|e| MailError::Refused(Box::new(e)))
    }
}

impl Outbox for SmtpOutbox {
    fn send<'a>(&'a self, mail: &'a Mail) -> Sending<'a> {
        Box::pin(async move {
            let message = self.message(mail)?;
            self.transport
                .send(message)
                .await
                .map(|_| ())
                .map_err(failed)
        })
    }

    fn probe(&self) -> Sending<'_> {
        Box::pin(async move {
            match self.transport.test_connection().await {
                Ok(true) => Ok(()),
                Ok(false) => Err(MailError::Unavailable(
                    "the mail server refused the connection".into(),
                )),
                Err(e) => Err(failed(e)),
            }
        })
    }
}

/// An SMTP failure: refused for good (a 5xx answer) or not (unreachable, timed out, 4xx).
fn failed(error: lettre::transport::smtp::Error) -> MailError {
    if error.is_permanent() {
        MailError::Refused(Box::new(error))
    } else {
        MailError::Unavailable(Box::new(error))
    }
}
