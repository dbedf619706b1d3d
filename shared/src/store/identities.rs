//! Links of external identities to taskline users: `user_id = EXT#<base64url(iss)>#<sub>`,
//! `sk = IDENTITY`, `owner = <uuid>`. A link and its new user are written in one conditional
//! transaction, so concurrent first uses of one identity create exactly one user.
//!
//! Users created this way reserve their email like registered ones when the provider verified
//! it (emails stay unique across all users; an address already registered with a password is
//! never merged with the external identity: its first use is refused with 409). An unverified
//! address is kept on the user item, shown but not reserved (`email_unverified`): it takes
//! no address from anyone, and registering it later is not refused. They have no password
//! (their hash is of a password nobody knows), so password login never succeeds for them.
//! Deleting the
//! account leaves the link: later tokens of the identity are refused rather than silently
//! given a new, empty account.

use super::error::StoreError;
use super::items::{IdentityItem, UserItem};
use super::keys::{IDENTITY_SK, key};
use super::users::{Accounts, email_item, owner};
use super::writes::conditional;
use crate::auth::{ExternalIdentity, NO_PASSWORD_HASH, User, identity_key};
use crate::domain::UserId;

/// What [`Accounts::link_identity`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExternalLink {
    /// The link and the new user were stored.
    Created,
    /// The identity was already linked (a concurrent first use won); nothing was written.
    AlreadyLinked,
    /// The user's email belongs to another account; nothing was written.
    EmailTaken,
}

impl Accounts<'_> {
    /// The user an external identity is linked to, if any (consistent read).
    pub async fn identity_owner(
        self,
        identity: &ExternalIdentity,
    ) -> Result<Option<UserId>, StoreError> {
        let output = self
            .store
            .get_item()
            .set_key(Some(key(identity_key(identity), IDENTITY_SK)))
            .consistent_read(true)
            .send()
            .await?;
        let Some(item) = output.item else {
            return Ok(None);
        };
        let link: IdentityItem = serde_dynamo::from_item(item)?;
        owner(&link.owner, "identity link with a bad owner").map(Some)
    }

    /// Links `identity` to `user`, a new user stored (with its email reservation if the
    /// provider verified the email) in the same transaction, unless the identity is linked
    /// already or the (verified) email is taken.
    pub async fn link_identity(
        self,
        identity: &ExternalIdentity,
        user: &User,
    ) -> Result<ExternalLink, StoreError> {
        let link = serde_dynamo::to_item(IdentityItem::new(
            identity_key(identity),
            identity.issuer.clone(),
            identity.subject.clone(),
            user.id,
        ))?;
        let reserved = identity.email_verified && identity.email.is_some();
        let user_item = UserItem {
            email_unverified: !reserved,
            ..UserItem::new(user, NO_PASSWORD_HASH.to_string())
        };
        let mut items = vec![
            conditional(ExternalLink::AlreadyLinked, self.store.put_new(link)?),
            conditional(
                ExternalLink::EmailTaken,
                self.store.put_new(serde_dynamo::to_item(user_item)?)?,
            ),
        ];
        if reserved {
            items.push(conditional(
                ExternalLink::EmailTaken,
                self.store.put_new(email_item(user)?)?,
            ));
        }
        self.store.transact(ExternalLink::Created, items).await
    }
}
