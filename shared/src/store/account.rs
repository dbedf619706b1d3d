//! What a user manages of their own account: their name, their password, and their sessions
//! (the refresh families of `sessions`, one per login).
//!
//! A password change keeps the session it was made from but gives it a new root token
//! ([`Store::restart_family`]): every older token of that family is deleted (not spent), so
//! presenting one afterwards is an unknown token (401) rather than reuse, and the session goes
//! on. Every other family is revoked.

use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use serde::Serialize;
use time::OffsetDateTime;

use super::items::{PasswordItem, SessionItem, StandingItem};
use super::keys::{attr, family_sk, family_tokens_prefix, key, n, s, token_sk, user_key, user_pk};
use super::users::{USER_ACTIVE, user_condition_names, user_exists_check};
use super::writes::{condition_failed, conditional};
use super::{PK, SK, Store, StoreError};
use crate::auth::{
    Email, FamilyId, NO_PASSWORD_HASH, REFRESH_ABSOLUTE_TTL_SECS, REFRESH_IDLE_TTL_SECS,
    RefreshToken, UserId, UserName,
};

const FAMILY_PREFIX: &str = "REFRESH#";

/// A live session as `GET /v1/sessions` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionInfo {
    pub id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_used_at: OffsetDateTime,
    pub user_agent: Option<String>,
    pub current: bool,
}

/// A user's password as stored, for a change of it.
#[derive(Debug, Clone)]
pub enum StoredPassword {
    /// The account has a password: its email (the throttle counts by it) and its hash.
    Set { email: Email, hash: String },
    /// An external identity's account: it has no password to change.
    None,
}

/// The outcome of a conditional password write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordWrite {
    Changed,
    /// The stored hash is no longer the one verified (a concurrent change won), or the
    /// account is gone or being deleted.
    Stale,
}

fn timestamp(secs: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp(secs)
        .map_err(|_| StoreError::Corrupt("stored session time"))
}

/// The family a family item's sort key names.
fn family_of(item: &SessionItem) -> Option<FamilyId> {
    item.sk
        .strip_prefix(FAMILY_PREFIX)
        .and_then(FamilyId::parse)
}

/// A family item as a session, if it is live at `now`: not past its absolute expiry, and
/// refreshed (or created) within the idle expiry. For items that lack them (see
/// [`SessionItem`]), creation comes from the family id (a UUIDv7) or the absolute expiry
/// (30 days after the login), last use from the latest spend, if any, and a family without an
/// absolute expiry counts as live, as authentication counts it.
fn session_of(
    item: SessionItem,
    current: Option<FamilyId>,
    now: i64,
) -> Result<Option<SessionInfo>, StoreError> {
    let Some(id) = family_of(&item) else {
        return Ok(None);
    };
    let absolute = item.absolute_expires_at;
    let Some(created) = item
        .created_at
        .or_else(|| id.generated_at())
        .or_else(|| absolute.map(|absolute| absolute.saturating_sub(REFRESH_ABSOLUTE_TTL_SECS)))
    else {
        return Ok(None);
    };
    let last_used = item
        .last_used_at
        .or(item.last_spent_at)
        .unwrap_or(created)
        .max(created);
    if absolute.is_some_and(|absolute| now >= absolute)
        || now >= last_used.saturating_add(REFRESH_IDLE_TTL_SECS)
    {
        return Ok(None);
    }
    Ok(Some(SessionInfo {
        id: id.to_string(),
        created_at: timestamp(created)?,
        last_used_at: timestamp(last_used)?,
        user_agent: item.user_agent,
        current: current == Some(id),
    }))
}

impl Store {
    /// Sets the user's name. `false` if the account is gone or being deleted.
    pub async fn rename_user(&self, user: UserId, name: &UserName) -> Result<bool, StoreError> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(user_key(user)))
            .update_expression("SET #name = :name")
            .condition_expression(USER_ACTIVE)
            .set_expression_attribute_names(Some(user_condition_names()))
            .expression_attribute_names("#name", attr::NAME)
            .expression_attribute_values(":name", s(name.as_str()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err) if condition_failed::<UpdateItemError, _>(&err) => Ok(false),
            Err(err) => Err(err.into()),
        }
    }

    /// The user's email and password hash (consistent read); `Ok(None)` if no such user.
    pub async fn stored_password(
        &self,
        user: UserId,
    ) -> Result<Option<StoredPassword>, StoreError> {
        let output = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(user_key(user)))
            .projection_expression("#email, #password_hash")
            .expression_attribute_names("#email", attr::EMAIL)
            .expression_attribute_names("#password_hash", attr::PASSWORD_HASH)
            .consistent_read(true)
            .send()
            .await?;
        let Some(item) = output.item else {
            return Ok(None);
        };
        let item: PasswordItem = serde_dynamo::from_item(item)?;
        Ok(Some(match (item.email, item.password_hash) {
            (Some(email), Some(hash)) if hash != NO_PASSWORD_HASH => StoredPassword::Set {
                email: Email::from_stored(email),
                hash,
            },
            _ => StoredPassword::None,
        }))
    }

    /// Replaces the password hash, only if it is still `previous` (the one just verified), so
    /// of two concurrent changes exactly one takes effect and the other learns it lost.
    pub async fn set_password(
        &self,
        user: UserId,
        previous: &str,
        new: &str,
    ) -> Result<PasswordWrite, StoreError> {
        let result = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(user_key(user)))
            .update_expression("SET #password_hash = :new")
            .condition_expression(format!("{USER_ACTIVE} AND #password_hash = :previous"))
            // After the condition's names: `set_` replaces the whole map.
            .set_expression_attribute_names(Some(user_condition_names()))
            .expression_attribute_names("#password_hash", attr::PASSWORD_HASH)
            .expression_attribute_values(":new", s(new))
            .expression_attribute_values(":previous", s(previous))
            .send()
            .await;
        match result {
            Ok(_) => Ok(PasswordWrite::Changed),
            Err(err) if condition_failed::<UpdateItemError, _>(&err) => Ok(PasswordWrite::Stale),
            Err(err) => Err(err.into()),
        }
    }

    /// The family items of the user's partition (consistent; token items are filtered out by
    /// the store, not returned).
    async fn family_items(&self, user: UserId) -> Result<Vec<SessionItem>, StoreError> {
        let query = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            // Token items carry `issued_at`, family items never do.
            .filter_expression("attribute_not_exists(#issued_at)")
            .expression_attribute_names("#issued_at", attr::ISSUED_AT)
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":pk", s(user_pk(user)))
            .expression_attribute_values(":prefix", s(FAMILY_PREFIX))
            .consistent_read(true);
        let mut items = Vec::new();
        let mut pages = query.into_paginator().send();
        while let Some(page) = pages.next().await {
            for item in page?.items.unwrap_or_default() {
                items.push(serde_dynamo::from_item(item)?);
            }
        }
        Ok(items)
    }

    /// The user's live sessions, oldest first; `current` marks the one of `current`.
    pub async fn sessions(
        &self,
        user: UserId,
        current: Option<FamilyId>,
        now: i64,
    ) -> Result<Vec<SessionInfo>, StoreError> {
        let mut sessions = Vec::new();
        for item in self.family_items(user).await? {
            sessions.extend(session_of(item, current, now)?);
        }
        sessions.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        Ok(sessions)
    }

    /// Ends one live session of the user (its refresh tokens and access tokens). `false` if
    /// the user has no such live session.
    pub async fn end_session(
        &self,
        user: UserId,
        family: FamilyId,
        now: i64,
    ) -> Result<bool, StoreError> {
        let output = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(key(user_pk(user), family_sk(family))))
            .consistent_read(true)
            .send()
            .await?;
        let live = match output.item {
            Some(item) => session_of(serde_dynamo::from_item(item)?, None, now)?.is_some(),
            None => false,
        };
        if live {
            self.revoke_family(user, family).await?;
        }
        Ok(live)
    }

    /// Ends every session of the user but `keep` (expired ones too: their items go).
    pub async fn end_other_sessions(
        &self,
        user: UserId,
        keep: Option<FamilyId>,
    ) -> Result<(), StoreError> {
        for item in self.family_items(user).await? {
            if let Some(family) = family_of(&item).filter(|family| Some(*family) != keep) {
                self.revoke_family(user, family).await?;
            }
        }
        Ok(())
    }

    /// Gives the live family of `root` a new first token, `root`, and deletes every other
    /// token of the family; the family item (and so the session and its access tokens) stays.
    /// `false` if the family is not alive (or the user is gone).
    ///
    /// A refresh racing this cannot keep an old token alive: each round first clears the
    /// family's `last_spent` (no grace issuance can follow an earlier spend) and then deletes
    /// every token but `root` it finds; a rotation needs its parent item to exist when it
    /// commits, so one committing before a deletion leaves a child the next round finds, and
    /// one committing after fails. The rounds end when one finds nothing to delete.
    pub async fn restart_family(&self, root: &RefreshToken, now: i64) -> Result<bool, StoreError> {
        let user = root.user();
        let family = family_sk(root.family());
        let output = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(key(user_pk(user), family.clone())))
            .consistent_read(true)
            .send()
            .await?;
        let standing: Option<StandingItem> =
            output.item.map(serde_dynamo::from_item).transpose()?;
        let Some(absolute) = standing
            .and_then(|family| family.absolute_expires_at)
            .filter(|absolute| now < *absolute)
        else {
            return Ok(false);
        };
        let items = vec![
            conditional(false, user_exists_check(self, user)?),
            conditional(
                false,
                self.clear_last_spent(root.family(), user, Some(now))?,
            ),
            self.put_token(false, root, None, now, absolute)?,
        ];
        if !self.transact(true, items).await? {
            return Ok(false);
        }
        let root_key = key(user_pk(user), token_sk(root.family(), &root.hash()));
        let prefix = family_tokens_prefix(root.family());
        loop {
            let stale: Vec<_> = self
                .keys_of(&user_pk(user), Some(&prefix))
                .await?
                .into_iter()
                .filter(|k| *k != root_key)
                .collect();
            if stale.is_empty() {
                return Ok(true);
            }
            self.delete_all(stale).await?;
            let clear = self.clear_last_spent(root.family(), user, None)?;
            // The family was revoked meanwhile: nothing of it is left to keep alive.
            if !self.transact(true, vec![conditional(false, clear)]).await? {
                return Ok(false);
            }
        }
    }

    /// The update forgetting a live family's most recently spent token (and recording a use).
    fn clear_last_spent(
        &self,
        family: FamilyId,
        user: UserId,
        used_at: Option<i64>,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut update = Update::builder()
            .table_name(self.table())
            .set_key(Some(key(user_pk(user), family_sk(family))))
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", PK);
        update = match used_at {
            Some(now) => update
                .update_expression("SET #last_used_at = :now REMOVE #last_spent")
                .expression_attribute_names("#last_used_at", attr::LAST_USED_AT)
                .expression_attribute_values(":now", n(now)),
            None => update.update_expression("REMOVE #last_spent"),
        };
        let update = update
            .expression_attribute_names("#last_spent", attr::LAST_SPENT)
            .build()?;
        Ok(TransactWriteItem::builder().update(update).build())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use aws_sdk_dynamodb::types::AttributeValue;

    use super::*;

    fn family_item(pairs: &[(&str, AttributeValue)]) -> SessionItem {
        let item: HashMap<String, AttributeValue> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), v.clone()))
            .collect();
        serde_dynamo::from_item(item).unwrap()
    }

    #[test]
    fn a_family_is_listed_only_while_live() {
        let id = FamilyId::generate();
        let sk = AttributeValue::S(format!("REFRESH#{id}"));
        let item = family_item(&[
            ("sk", sk.clone()),
            ("created_at", n(1_000)),
            ("absolute_expires_at", n(1_000 + REFRESH_ABSOLUTE_TTL_SECS)),
            ("last_used_at", n(5_000)),
        ]);
        let listed = session_of(item.clone(), Some(id), 6_000).unwrap().unwrap();
        assert!(listed.current);
        assert_eq!(listed.last_used_at.unix_timestamp(), 5_000);
        assert_eq!(listed.user_agent, None);
        // Idle for the idle expiry since its last refresh: no refresh can revive it.
        assert_eq!(
            session_of(item.clone(), None, 5_000 + REFRESH_IDLE_TTL_SECS).unwrap(),
            None
        );
        assert_eq!(
            session_of(item, None, 1_000 + REFRESH_ABSOLUTE_TTL_SECS).unwrap(),
            None
        );
    }
}
