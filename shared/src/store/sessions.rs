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

use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Get, Put, TransactGetItem, TransactWriteItem, Update,
};

use super::users::user_exists_check;
use super::writes::{build, key, n, number};
use super::{PK, Store, TTL};
use crate::auth::{
    FamilyId, REFRESH_ABSOLUTE_TTL_SECS, REFRESH_IDLE_TTL_SECS, RefreshToken, UserId,
};
use crate::error::ApiError;

pub(super) fn family_sk(family: FamilyId) -> String {
    format!("REFRESH#{family}")
}

fn token_sk(token: &RefreshToken) -> String {
    format!("REFRESH#{}#{}", token.family(), token.hash())
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

impl Store {
    pub(super) fn put_token(
        &self,
        token: &RefreshToken,
        parent: Option<&RefreshToken>,
        now: i64,
        absolute_expires_at: i64,
    ) -> Result<TransactWriteItem, ApiError> {
        let mut put = Put::builder()
            .table_name(self.table())
            .set_item(Some(key(token.user().to_string(), token_sk(token))))
            .item("issued_at", n(now))
            .item(
                "idle_expires_at",
                n((now + REFRESH_IDLE_TTL_SECS).min(absolute_expires_at)),
            )
            .item("absolute_expires_at", n(absolute_expires_at))
            .item(TTL, n(absolute_expires_at))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK);
        if let Some(parent) = parent {
            put = put.item("parent", AttributeValue::S(parent.hash()));
        }
        Ok(TransactWriteItem::builder()
            .put(build(put.build())?)
            .build())
    }

    /// Starts a family (a login) with its first token. `false` if the user no longer exists.
    /// `user_agent`: the summary the session list shows (see `crate::text::user_agent_summary`).
    pub async fn start_family(
        &self,
        token: &RefreshToken,
        now: i64,
        user_agent: Option<&str>,
    ) -> Result<bool, ApiError> {
        let absolute_expires_at = now + REFRESH_ABSOLUTE_TTL_SECS;
        let family = build(
            Put::builder()
                .table_name(self.table())
                .set_item(Some(key(
                    token.user().to_string(),
                    family_sk(token.family()),
                )))
                .item("created_at", n(now))
                .item("absolute_expires_at", n(absolute_expires_at))
                .item(TTL, n(absolute_expires_at))
                .item(
                    "user_agent",
                    user_agent.map_or(AttributeValue::Null(true), |ua| {
                        AttributeValue::S(ua.into())
                    }),
                )
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", PK)
                .build(),
        )?;
        let items = vec![
            user_exists_check(self, token.user())?,
            TransactWriteItem::builder().put(family).build(),
            self.put_token(token, None, now, absolute_expires_at)?,
        ];
        Ok(self.transact(items).await?.is_ok())
    }

    /// Looks a presented token up (consistent, token and family together).
    pub async fn refresh_state(
        &self,
        token: &RefreshToken,
        now: i64,
    ) -> Result<RefreshState, ApiError> {
        let user = token.user().to_string();
        let get = |sk: String| {
            build(
                Get::builder()
                    .table_name(self.table())
                    .set_key(Some(key(user.clone(), sk)))
                    .build(),
            )
            .map(|get| TransactGetItem::builder().get(get).build())
        };
        let output = self
            .client()
            .transact_get_items()
            .transact_items(get(token_sk(token))?)
            .transact_items(get(family_sk(token.family()))?)
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
        let (Some(idle), Some(absolute)) = (
            number(&item, "idle_expires_at"),
            number(&item, "absolute_expires_at"),
        ) else {
            return Err(ApiError::Internal(
                "refresh token item without expiry".into(),
            ));
        };
        if item.contains_key("spent_at") {
            let is_latest =
                family.get("last_spent").and_then(|v| v.as_s().ok()) == Some(&token.hash());
            let latest_spent_at =
                number(&family, "last_spent_at").filter(|_| is_latest && now < absolute);
            return Ok(RefreshState::Spent {
                latest_spent_at,
                absolute_expires_at: absolute,
            });
        }
        if now >= idle || now >= absolute {
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
    ) -> Result<Rotation, ApiError> {
        let user = old.user().to_string();
        let family_alive = build(
            Update::builder()
                .table_name(self.table())
                .set_key(Some(key(user.clone(), family_sk(old.family()))))
                .update_expression(
                    "SET last_spent = :hash, last_spent_at = :now, last_used_at = :now",
                )
                .condition_expression("attribute_exists(#pk)")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_values(":hash", AttributeValue::S(old.hash()))
                .expression_attribute_values(":now", n(now))
                .build(),
        )?;
        let spend = build(
            Update::builder()
                .table_name(self.table())
                .set_key(Some(key(user, token_sk(old))))
                .update_expression("SET spent_at = :now")
                .condition_expression("attribute_exists(#pk) AND attribute_not_exists(spent_at)")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_values(":now", n(now))
                .build(),
        )?;
        let items = vec![
            user_exists_check(self, old.user())?,
            TransactWriteItem::builder().update(family_alive).build(),
            TransactWriteItem::builder().update(spend).build(),
            self.put_token(new, Some(old), now, absolute_expires_at)?,
        ];
        Ok(match self.transact(items).await? {
            Ok(()) => Rotation::Rotated,
            Err(failed) if failed.failed(0) || failed.failed(1) => Rotation::Revoked,
            Err(_) => Rotation::AlreadySpent,
        })
    }

    /// Issues `new` as another child of the spent token `spent` (see the module comment),
    /// provided the family still names `spent`, spent at `spent_at`, as its most recently
    /// spent token, and the user exists. `false` if not: the family moved on (a newer
    /// rotation), was revoked, or the user is gone.
    pub async fn issue_in_grace(
        &self,
        spent: &RefreshToken,
        new: &RefreshToken,
        absolute_expires_at: i64,
        spent_at: i64,
        now: i64,
    ) -> Result<bool, ApiError> {
        let still_latest = build(
            ConditionCheck::builder()
                .table_name(self.table())
                .set_key(Some(key(
                    spent.user().to_string(),
                    family_sk(spent.family()),
                )))
                .condition_expression(
                    "attribute_exists(#pk) AND last_spent = :hash AND last_spent_at = :spent_at",
                )
                .expression_attribute_names("#pk", PK)
                .expression_attribute_values(":hash", AttributeValue::S(spent.hash()))
                .expression_attribute_values(":spent_at", n(spent_at))
                .build(),
        )?;
        let items = vec![
            user_exists_check(self, spent.user())?,
            TransactWriteItem::builder()
                .condition_check(still_latest)
                .build(),
            self.put_token(new, Some(spent), now, absolute_expires_at)?,
        ];
        Ok(self.transact(items).await?.is_ok())
    }

    /// Revokes a family: its family item goes first (from then on no token of it can rotate),
    /// then every token item.
    pub async fn revoke_family(&self, user: UserId, family: FamilyId) -> Result<(), ApiError> {
        let user = user.to_string();
        self.client()
            .delete_item()
            .table_name(self.table())
            .set_key(Some(key(user.clone(), family_sk(family))))
            .send()
            .await?;
        let tokens = self
            .keys_of(&user, Some(&format!("{}#", family_sk(family))))
            .await?;
        self.delete_all(tokens).await
    }
}
