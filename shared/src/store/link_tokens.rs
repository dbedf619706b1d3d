//! The tokens of mailed links, in the user's partition (`sk = TOKEN#RESET`, `TOKEN#VERIFY`):
//! one per kind, so a newer token replaces the older; only the token's SHA-256 is stored;
//! `expires_at` is the TTL and is checked on use too. A token is consumed by the conditional
//! delete of its item in the transaction that does what it allows, so of two concurrent uses
//! exactly one succeeds (a password reset: with the new hash and the end of every session,
//! see `session_ends`). Account deletion sweeps them with the rest of the partition.

use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem, Update};

use super::core::Store;
use super::error::StoreError;
use super::expr::{Changes, Cond, Expressed, Updating};
use super::items::LinkTokenItem;
use super::keys::{LINK_TOKEN_SK_PREFIX, PK, TTL, attr, link_token_key, n, s, user_key, user_pk};
use super::session_ends::END_ATTEMPTS;
use super::sessions::Sessions;
use super::standing::{user_active, user_exists_check};
use super::users::{Accounts, email_item, user_item};
use super::writes::conditional;
use crate::auth::{LinkKind, LinkToken, User};

/// How the use of a link token ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenUse {
    /// Consumed, and what it allows done.
    Done,
    /// Unknown, replaced, used or expired (or its account is gone): nothing was written.
    Invalid,
}

/// How a registration with its verification token ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    Created,
    EmailTaken,
}

/// How one attempt at a password reset ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reset {
    Done,
    /// The token is not the live one (unknown, replaced, spent, expired).
    Spent,
    /// The user item is not as read (a login, a move, a password change).
    UserChanged,
}

/// The stored form of `token` of `kind`, expiring `ttl` after `now`.
fn token_item(token: &LinkToken, kind: LinkKind, now: i64) -> Result<super::keys::Key, StoreError> {
    Ok(serde_dynamo::to_item(LinkTokenItem {
        user_id: user_pk(token.user()),
        sk: format!("{LINK_TOKEN_SK_PREFIX}{}", kind.name()),
        token_hash: token.hash(),
        expires_at: now + kind.ttl_secs(),
    })?)
}

impl Accounts<'_> {
    /// Stores `token` of `kind` as the user's one token of that kind (replacing an older one),
    /// if the account is active. `false` if it is not.
    pub async fn store_link_token(
        self,
        token: &LinkToken,
        kind: LinkKind,
        now: i64,
    ) -> Result<bool, StoreError> {
        let put = Put::builder()
            .table_name(self.store.table())
            .set_item(Some(token_item(token, kind, now)?))
            .build()?;
        let items = vec![
            conditional(false, user_exists_check(self.store, token.user())?),
            conditional(false, TransactWriteItem::builder().put(put).build()),
        ];
        self.store.transact(true, items).await
    }

    /// Removes `token` of `kind` if it is still the stored one (a mail that could not be sent).
    pub async fn remove_link_token(
        self,
        token: &LinkToken,
        kind: LinkKind,
    ) -> Result<(), StoreError> {
        let result = self
            .store
            .delete_item()
            .set_key(Some(link_token_key(token.user(), kind.name())))
            .only_if(&Cond::Eq(attr::TOKEN_HASH, s(token.hash())))
            .send()
            .await;
        super::writes::written(result).map(|_| ())
    }

    /// A registration: the user, its email reservation and its first verification token, in
    /// one transaction (see [`Accounts::create`]).
    pub async fn create_with_token(
        self,
        user: &User,
        password_hash: String,
        token: &LinkToken,
        now: i64,
    ) -> Result<Registration, StoreError> {
        let put = Put::builder()
            .table_name(self.store.table())
            .set_item(Some(token_item(token, LinkKind::Verify, now)?))
            .build()?;
        let items = vec![
            conditional(
                Registration::EmailTaken,
                self.store.put_new(email_item(user)?)?,
            ),
            conditional(
                Registration::EmailTaken,
                self.store.put_new(user_item(user, password_hash)?)?,
            ),
            conditional(
                Registration::EmailTaken,
                TransactWriteItem::builder().put(put).build(),
            ),
        ];
        self.store.transact(Registration::Created, items).await
    }

    /// Verifies the email of `token`'s user, consuming the token (one transaction).
    pub async fn verify_email(self, token: &LinkToken, now: i64) -> Result<TokenUse, StoreError> {
        let user = token.user();
        let mark = Update::builder()
            .table_name(self.store.table())
            .set_key(Some(user_key(user)))
            .changing(
                &Changes::default().set(
                    attr::EMAIL_VERIFIED,
                    aws_sdk_dynamodb::types::AttributeValue::Bool(true),
                ),
                Some(&user_active()),
            )
            .build()?;
        let items = vec![
            conditional(
                TokenUse::Invalid,
                consume(self.store, token, LinkKind::Verify, now)?,
            ),
            conditional(
                TokenUse::Invalid,
                TransactWriteItem::builder().update(mark).build(),
            ),
        ];
        self.store.transact(TokenUse::Done, items).await
    }
}

/// The transaction item that consumes `token` of `kind`: its item deleted, only if it holds
/// this token's hash and has not expired.
pub(super) fn consume(
    store: &Store,
    token: &LinkToken,
    kind: LinkKind,
    now: i64,
) -> Result<TransactWriteItem, StoreError> {
    let delete = Delete::builder()
        .table_name(store.table())
        .set_key(Some(link_token_key(token.user(), kind.name())))
        .only_if(
            &Cond::Exists(PK)
                .and(Cond::Eq(attr::TOKEN_HASH, s(token.hash())))
                .and(Cond::Gt(TTL, n(now))),
        )
        .build()?;
    Ok(TransactWriteItem::builder().delete(delete).build())
}

impl Sessions<'_> {
    /// A password reset by `token`: the new hash, every session ended (the generation moved
    /// on, nothing kept), the email marked verified and the token consumed, in one
    /// transaction; [`TokenUse::Invalid`] if the token is not the live one (also when a
    /// concurrent reset spent it first) or the account is gone.
    pub async fn reset_password(
        self,
        token: &LinkToken,
        new_hash: &str,
        now: i64,
    ) -> Result<TokenUse, StoreError> {
        let user = token.user();
        for _ in 0..END_ATTEMPTS {
            let Some(state) = self
                .user_sessions(user)
                .await?
                .filter(|state| state.deleting.is_none())
            else {
                return Ok(TokenUse::Invalid);
            };
            let Some(previous) = state.password_hash.as_deref() else {
                return Ok(TokenUse::Invalid);
            };
            let generation = state.session_gen.unwrap_or(0);
            // The token first: a loser of two concurrent resets learns that it was spent.
            let items = vec![
                conditional(
                    Reset::Spent,
                    consume(self.store, token, LinkKind::Reset, now)?,
                ),
                conditional(
                    Reset::UserChanged,
                    self.move_user(user, generation, Some((previous, new_hash)), None, true)?,
                ),
            ];
            match self.store.transact(Reset::Done, items).await? {
                Reset::Done => return Ok(TokenUse::Done),
                Reset::Spent => return Ok(TokenUse::Invalid),
                Reset::UserChanged => {}
            }
        }
        Err(StoreError::unavailable(
            "the user item kept changing while its password was reset",
        ))
    }
}
