//! Refresh-token families in the user's partition:
//!
//! - family `sk = REFRESH#<family>`: exists while the family is alive; deleting it is what
//!   revokes every token of the family at once (each rotation checks it in its transaction);
//! - token `sk = REFRESH#<family>#<sha256 hex>`: `parent` (hash), `issued_at`,
//!   `idle_expires_at` (7 days after issue), `absolute_expires_at` (30 days after the login),
//!   `spent_at` once rotated. Spent tokens stay until the family expires, so presenting one
//!   again is recognised as reuse.
//!
//! `expires_at` (TTL) is the family's absolute expiry; expiry is checked on read regardless.

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
    /// Already rotated: presenting it again is reuse.
    Spent,
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
    fn put_token(
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
    pub async fn start_family(&self, token: &RefreshToken, now: i64) -> Result<bool, ApiError> {
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
        let (Some(Some(item)), Some(Some(_family))) = (items.next(), items.next()) else {
            return Ok(RefreshState::Unknown);
        };
        if item.contains_key("spent_at") {
            return Ok(RefreshState::Spent);
        }
        let (Some(idle), Some(absolute)) = (
            number(&item, "idle_expires_at"),
            number(&item, "absolute_expires_at"),
        ) else {
            return Err(ApiError::Internal(
                "refresh token item without expiry".into(),
            ));
        };
        if now >= idle || now >= absolute {
            return Ok(RefreshState::Expired);
        }
        Ok(RefreshState::Live {
            absolute_expires_at: absolute,
        })
    }

    /// Spends `old` and stores its child `new` in one transaction, provided `old` is unspent,
    /// its family alive and its user existing. Of concurrent rotations of one token exactly
    /// one succeeds.
    pub async fn rotate_refresh(
        &self,
        old: &RefreshToken,
        new: &RefreshToken,
        absolute_expires_at: i64,
        now: i64,
    ) -> Result<Rotation, ApiError> {
        let user = old.user().to_string();
        let family_alive = build(
            ConditionCheck::builder()
                .table_name(self.table())
                .set_key(Some(key(user.clone(), family_sk(old.family()))))
                .condition_expression("attribute_exists(#pk)")
                .expression_attribute_names("#pk", PK)
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
            TransactWriteItem::builder()
                .condition_check(family_alive)
                .build(),
            TransactWriteItem::builder().update(spend).build(),
            self.put_token(new, Some(old), now, absolute_expires_at)?,
        ];
        Ok(match self.transact(items).await? {
            Ok(()) => Rotation::Rotated,
            Err(failed) if failed.failed(0) || failed.failed(1) => Rotation::Revoked,
            Err(_) => Rotation::AlreadySpent,
        })
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
