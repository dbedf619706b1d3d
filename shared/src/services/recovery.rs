//! Recovery by email: password resets, email verification and the security notices, over the
//! accounts of the store and an [`Outbox`].
//!
//! A token is stored only once its mail was accepted by the mail server, so a mail that could
//! not be sent (503) leaves no usable token behind; registration, whose token is written with
//! the account, removes it instead. A reset request answers the same whether or not the email
//! has an account with a password: with no mail to send it makes a round trip to the mail
//! server all the same ([`Outbox::probe`]), so it takes about as long and fails the same way
//! when the server is down. Notices are best effort: a failure is logged (never the mail) and
//! the change stands.

use crate::auth::{
    Email, LinkKind, LinkToken, NO_PASSWORD_HASH, Password, User, hash_password, unix_now,
};
use crate::config::MailSettings;
use crate::error::ApiError;
use crate::mail::{Mail, MailError, Outbox};
use crate::store::{Registration, Store, TokenUse};

/// The recovery service of one request, in a function that sends mail.
#[derive(Clone, Copy)]
pub struct RecoveryService<'a> {
    pub store: &'a Store,
    pub outbox: &'a dyn Outbox,
    pub settings: &'a MailSettings,
}

impl RecoveryService<'_> {
    /// A reset link to `email` if an account with a password has it (budgets counted by the
    /// caller already). `MailUnavailable` if the mail server did not answer, whoever asked.
    pub async fn request_reset(self, email: Email) -> Result<(), ApiError> {
        let account = self.store.accounts().credentials_by_email(&email).await?;
        let Some((user, _)) = account.filter(|(_, hash)| hash != NO_PASSWORD_HASH) else {
            self.outbox.probe().await?;
            return Ok(());
        };
        let token = LinkToken::generate(user)?;
        let mail = Mail::link(email, LinkKind::Reset, &token, &self.settings.app_url);
        match self.outbox.send(&mail).await {
            Ok(()) => {}
            // The address takes no mail: the same 202 as for any address (a 422 would say
            // that an account has it), and no token, as no link went out.
            Err(refused @ MailError::Refused(_)) => {
                tracing::warn!(user = %user, error = %refused, "reset mail refused");
                return Ok(());
            }
            Err(unavailable) => return Err(unavailable.into()),
        }
        // An account deleted meanwhile stores nothing; the link it was sent is unusable.
        self.store
            .accounts()
            .store_link_token(&token, LinkKind::Reset, unix_now())
            .await?;
        Ok(())
    }

    /// Resets the password of the token's account: every session ends, the email counts as
    /// verified, the token is spent; then the notice. `InvalidToken` unless the token is the
    /// account's live reset token.
    pub async fn confirm_reset(self, token: &str, new_password: Password) -> Result<(), ApiError> {
        let token = LinkToken::parse(token).ok_or(ApiError::InvalidToken)?;
        let new_hash = hash_password(new_password).await?;
        match self
            .store
            .sessions()
            .reset_password(&token, &new_hash, unix_now())
            .await?
        {
            TokenUse::Invalid => return Err(ApiError::InvalidToken),
            TokenUse::Done => {}
        }
        if let Some(user) = self.store.accounts().user(token.user()).await? {
            self.notify_password_changed(user.email).await;
        }
        Ok(())
    }

    /// Marks the email of the token's account verified, spending the token.
    pub async fn verify_email(self, token: &str) -> Result<(), ApiError> {
        let token = LinkToken::parse(token).ok_or(ApiError::InvalidToken)?;
        match self
            .store
            .accounts()
            .verify_email(&token, unix_now())
            .await?
        {
            TokenUse::Done => Ok(()),
            TokenUse::Invalid => Err(ApiError::InvalidToken),
        }
    }

    /// A new verification link to a signed-in `user` whose email is not verified (replacing
    /// the older link; budget counted by the caller).
    pub async fn send_verification(self, user: &User) -> Result<(), ApiError> {
        let token = LinkToken::generate(user.id)?;
        self.outbox
            .send(&Mail::link(
                user.email.clone(),
                LinkKind::Verify,
                &token,
                &self.settings.app_url,
            ))
            .await?;
        if self
            .store
            .accounts()
            .store_link_token(&token, LinkKind::Verify, unix_now())
            .await?
        {
            Ok(())
        } else {
            Err(ApiError::unauthorized_bearer(
                "the account no longer exists",
            ))
        }
    }

    /// Creates the account with its first verification token, then mails the link. The
    /// account stands if the mail cannot be sent (the user can ask again); its token is then
    /// removed.
    pub async fn register(self, user: &User, password_hash: String) -> Result<(), ApiError> {
        let token = LinkToken::generate(user.id)?;
        match self
            .store
            .accounts()
            .create_with_token(user, password_hash, &token, unix_now())
            .await?
        {
            Registration::EmailTaken => {
                return Err(ApiError::Conflict(
                    "an account with this email already exists",
                ));
            }
            Registration::Created => {}
        }
        let mail = Mail::link(
            user.email.clone(),
            LinkKind::Verify,
            &token,
            &self.settings.app_url,
        );
        if let Err(error) = self.outbox.send(&mail).await {
            tracing::warn!(user = %user.id, error = %error, "verification mail not sent");
            if let Err(error) = self
                .store
                .accounts()
                .remove_link_token(&token, LinkKind::Verify)
                .await
            {
                tracing::warn!(user = %user.id, error = %error, "unsent verification token kept");
            }
        }
        Ok(())
    }

    /// The notice of a changed password, best effort.
    pub async fn notify_password_changed(self, to: Email) {
        let mail = Mail::password_changed(to, &self.settings.app_url);
        if let Err(error) = self.outbox.send(&mail).await {
            tracing::warn!(error = %error, "password-change notice not sent");
        }
    }
}
