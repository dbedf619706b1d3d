//! Refresh-token families in the user's partition:
//!
//! - family `sk = REFRESH#<family>`: exists while the family is alive; deleting it is what
//!   revokes every token of the family at once (each rotation checks it in its transaction).
//!   It also records the family's most recently spent token: `last_spent` (its hash) and
//!   `last_spent_at`, written by the same transaction that spends the token. A family is
//!   what the API calls a session: `created_at` (the login), `last_used_at` (its latest
//!   refresh) and `user_agent` (a summary of the login's `User-Agent`, NULL if none); items
//!   written before those existed lack them (see `account::SessionInfo`);
//! - token `sk = REFRESH#<family>#<sha256 hex>`: `parent` (hash), `issued_at`,
//!   `idle_expires_at` (7 days after issue), `absolute_expires_at` (30 days after the login),
//!   `spent_at` once rotated. Spent tokens stay until the family expires, so presenting one
//!   again is recognised as reuse.
//!
//! `expires_at` (TTL) is the family's absolute expiry; expiry is checked on read regardless.
//!
//! Reuse grace: a rotation has exactly one winner per token (the spend is conditional on
//! `spent_at` being absent). A request that finds its token spent may still get a session if
//! the token is the family's `last_spent` and the caller's grace interval has not passed
//! ([`Store::issue_in_grace`]): it gets a *second child of the spent token* (a sibling of the
//! winner's token), written only if the family still names that token and that spend as its
//! latest. Nothing is spent by it, so every token handed out stays live and rotates as usual;
//! once any of them is rotated, the family's latest spent token changes and the older token
//! is plain reuse again. A grace issuance racing a newer rotation is serialised by the
//! family item: either it commits first (and its token is live), or it sees the newer spend
//! and fails (the caller treats that as reuse).

use aws_sdk_dynamodb::types::{ConditionCheck, Get, TransactGetItem, TransactWriteItem, Update};

use super::items::{FamilyItem, TokenItem};
use super::keys::{PK, attr, family_sk, family_tokens_prefix, key, n, s, token_sk, user_pk};
use super::users::user_exists_check;
use super::writes::{Conditional, conditional};
use super::{Store, StoreError};
use crate::auth::{REFRESH_ABSOLUTE_TTL_SECS, REFRESH_IDLE_TTL_SECS, RefreshToken};
use crate::domain::{FamilyId, UserId};

fn token_key(token: &RefreshToken) -> super::keys::Key {
    key(
        user_pk(token.user()),
        token_sk(token.family(), &token.hash()),
    )
}

fn family_key(user: UserId, family: FamilyId) -> super::keys::Key {
    key(user_pk(user), family_sk(family))
}

/// What the store knows about a presented refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshState {
    /// No such token, or its family was revoked.
    Unknown,
    /// Already rotated: presenting it again is reuse, unless within the grace interval of
    /// the family's most recent rotation. `latest_spent_at` is when it was spent if it is
    /// the family's most recently spent token (and the family is not past its expiry).
    Spent {
        latest_spent_at: Option<i64>,
        absolute_expires_at: i64,
    },
    /// Past its idle or absolute expiry.
    Expired,
    /// Usable; children inherit the family's absolute expiry.
    Live { absolute_expires_at: i64 },
}

/// Outcome of a rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    Rotated,
    /// Another request spent the token first.
    AlreadySpent,
    /// The family was revoked or the user deleted meanwhile.
    Revoked,
}

/// How starting a family (a login) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FamilyStart {
    Started,
    /// The user no longer exists (or is being deleted); nothing was written.
    UserGone,
}

/// How issuing a token within the reuse grace ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraceIssue {
    Issued,
    /// The family moved on (a newer rotation), was revoked, or the user is gone.
    Refused,
}

impl Store {
    /// The new token item (only where none exists), refused as `if_refused`.
    pub(super) fn put_token<O>(
        &self,
        if_refused: O,
        token: &RefreshToken,
        parent: Option<&RefreshToken>,
        now: i64,
        absolute_expires_at: i64,
    ) -> Result<Conditional<O>, StoreError> {
        let item = serde_dynamo::to_item(TokenItem {
            user_id: user_pk(token.user()),
            sk: token_sk(token.family(), &token.hash()),
            issued_at: now,
            idle_expires_at: (now + REFRESH_IDLE_TTL_SECS).min(absolute_expires_at),
            absolute_expires_at,
            expires_at: absolute_expires_at,
            parent: parent.map(RefreshToken::hash),
            spent_at: None,
        })?;
        Ok(conditional(if_refused, self.put_new(item)?))
    }

    /// Starts a family (a login) with its first token, if the user still exists.
    /// `user_agent`: the summary the session list shows (see `crate::text::user_agent_summary`).
    pub async fn start_family(
        &self,
        token: &RefreshToken,
        now: i64,
        user_agent: Option<&str>,
    ) -> Result<FamilyStart, StoreError> {
        let absolute_expires_at = now + REFRESH_ABSOLUTE_TTL_SECS;
        let family = serde_dynamo::to_item(FamilyItem {
            user_id: user_pk(token.user()),
            sk: family_sk(token.family()),
            created_at: now,
            absolute_expires_at,
            expires_at: absolute_expires_at,
            last_spent: None,
            last_spent_at: None,
            last_used_at: None,
            user_agent: user_agent.map(str::to_owned),
        })?;
        let items = vec![
            conditional(
                FamilyStart::UserGone,
                user_exists_check(self, token.user())?,
            ),
            // A fresh family and token id never exist already: nothing was written then.
            conditional(FamilyStart::UserGone, self.put_new(family)?),
            self.put_token(FamilyStart::UserGone, token, None, now, absolute_expires_at)?,
        ];
        self.transact(FamilyStart::Started, items).await
    }

    /// Looks a presented token up (consistent, token and family together).
    pub async fn refresh_state(
        &self,
        token: &RefreshToken,
        now: i64,
    ) -> Result<RefreshState, StoreError> {
        let get = |key| {
            Get::builder()
                .table_name(self.table())
                .set_key(Some(key))
                .build()
                .map(|get| TransactGetItem::builder().get(get).build())
        };
        let output = self
            .client()
            .transact_get_items()
            .transact_items(get(token_key(token))?)
            .transact_items(get(family_key(token.user(), token.family()))?)
            .send()
            .await?;
        let mut items = output
            .responses
            .unwrap_or_default()
            .into_iter()
            .map(|response| response.item);
        let (Some(Some(item)), Some(Some(family))) = (items.next(), items.next()) else {
            return Ok(RefreshState::Unknown);
        };
        let item: TokenItem = serde_dynamo::from_item(item)?;
        let family: FamilyItem = serde_dynamo::from_item(family)?;
        let absolute = item.absolute_expires_at;
        if item.spent_at.is_some() {
            let is_latest = family.last_spent == Some(token.hash());
            let latest_spent_at = family.last_spent_at.filter(|_| is_latest && now < absolute);
            return Ok(RefreshState::Spent {
                latest_spent_at,
                absolute_expires_at: absolute,
            });
        }
        if now >= item.idle_expires_at || now >= absolute {
            return Ok(RefreshState::Expired);
        }
        Ok(RefreshState::Live {
            absolute_expires_at: absolute,
        })
    }

    /// Spends `old` and stores its child `new` in one transaction, provided `old` is unspent,
    /// its family alive and its user existing, and records `old` as the family's most
    /// recently spent token. Of concurrent rotations of one token exactly one succeeds.
    pub async fn rotate_refresh(
        &self,
        old: &RefreshToken,
        new: &RefreshToken,
        absolute_expires_at: i64,
        now: i64,
    ) -> Result<Rotation, StoreError> {
        let family_alive = Update::builder()
            .table_name(self.table())
            .set_key(Some(family_key(old.user(), old.family())))
            .update_expression(
                "SET #last_spent = :hash, #last_spent_at = :now, #last_used_at = :now",
            )
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#last_spent", attr::LAST_SPENT)
            .expression_attribute_names("#last_spent_at", attr::LAST_SPENT_AT)
            .expression_attribute_names("#last_used_at", attr::LAST_USED_AT)
            .expression_attribute_values(":hash", s(old.hash()))
            .expression_attribute_values(":now", n(now))
            .build()?;
        let spend = Update::builder()
            .table_name(self.table())
            .set_key(Some(token_key(old)))
            .update_expression("SET #spent_at = :now")
            .condition_expression("attribute_exists(#pk) AND attribute_not_exists(#spent_at)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#spent_at", attr::SPENT_AT)
            .expression_attribute_values(":now", n(now))
            .build()?;
        let items = vec![
            conditional(Rotation::Revoked, user_exists_check(self, old.user())?),
            conditional(
                Rotation::Revoked,
                TransactWriteItem::builder().update(family_alive).build(),
            ),
            conditional(
                Rotation::AlreadySpent,
                TransactWriteItem::builder().update(spend).build(),
            ),
            self.put_token(
                Rotation::AlreadySpent,
                new,
                Some(old),
                now,
                absolute_expires_at,
            )?,
        ];
        self.transact(Rotation::Rotated, items).await
    }

    /// Issues `new` as another child of the spent token `spent` (see the module comment),
    /// provided the family still names `spent`, spent at `spent_at`, as its most recently
    /// spent token, and the user exists.
    pub async fn issue_in_grace(
        &self,
        spent: &RefreshToken,
        new: &RefreshToken,
        absolute_expires_at: i64,
        spent_at: i64,
        now: i64,
    ) -> Result<GraceIssue, StoreError> {
        let still_latest = ConditionCheck::builder()
            .table_name(self.table())
            .set_key(Some(family_key(spent.user(), spent.family())))
            .condition_expression(
                "attribute_exists(#pk) AND #last_spent = :hash AND #last_spent_at = :spent_at",
            )
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#last_spent", attr::LAST_SPENT)
            .expression_attribute_names("#last_spent_at", attr::LAST_SPENT_AT)
            .expression_attribute_values(":hash", s(spent.hash()))
            .expression_attribute_values(":spent_at", n(spent_at))
            .build()?;
        let items = vec![
            conditional(GraceIssue::Refused, user_exists_check(self, spent.user())?),
            conditional(
                GraceIssue::Refused,
                TransactWriteItem::builder()
                    .condition_check(still_latest)
                    .build(),
            ),
            self.put_token(
                GraceIssue::Refused,
                new,
                Some(spent),
                now,
                absolute_expires_at,
            )?,
        ];
        self.transact(GraceIssue::Issued, items).await
    }

    /// Revokes a family: its family item goes first (from then on no token of it can rotate),
    /// then every token item.
    pub async fn revoke_family(&self, user: UserId, family: FamilyId) -> Result<(), StoreError> {
        self.client()
            .delete_item()
            .table_name(self.table())
            .set_key(Some(family_key(user, family)))
            .send()
            .await?;
        let tokens = self
            .keys_of(&user_pk(user), Some(&family_tokens_prefix(family)))
            .await?;
        self.delete_all(tokens).await
    }
}
