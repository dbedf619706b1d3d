//! What a user manages of their own account: their name, their password, and their sessions
//! (the refresh families of `sessions`, one per login).
//!
//! Ending every other session ([`Store::end_other_sessions`]; [`Store::change_password`]
//! too) is one transaction whatever their number: it moves the user's session generation on
//! (see `sessions`), so every family of the generation before is dead at once, and re-stamps
//! the one session that goes on, if any. A password change also gives that session a new
//! first token: its older tokens are of an ended generation of the family (`tokens_from`),
//! so presenting one afterwards is an unknown token (401) rather than reuse, and the session
//! goes on.

use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use serde::Serialize;
use time::OffsetDateTime;

use super::items::{PasswordItem, SessionItem};
use super::keys::{attr, family_sk, key, n, s, user_key, user_pk};
use super::users::{USER_ACTIVE, generation_is, user_condition_names};
use super::writes::{condition_failed, conditional};
use super::{PK, SK, Store, StoreError};
use crate::auth::{
    Email, FamilyId, NO_PASSWORD_HASH, REFRESH_ABSOLUTE_TTL_SECS, REFRESH_IDLE_TTL_SECS,
    RefreshToken, UserId, UserName,
};

pub(super) const FAMILY_PREFIX: &str = "REFRESH#";

/// Rounds of an end of the other sessions that finds the user item changed under it (a
/// login, another end) before it gives up.
const END_ATTEMPTS: usize = 5;

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
    /// Changed; `kept`: the session it was made from goes on (under its new first token).
    Changed { kept: bool },
    /// The stored hash is no longer the one verified (a concurrent change won), or the
    /// account is gone or being deleted.
    Stale,
}

/// The session that goes on when every other one ends.
#[derive(Debug, Clone, Copy)]
pub enum Keep<'a> {
    /// None: every session ends (a token of an external provider has no taskline session).
    Nothing,
    /// This session, as it is (its tokens stay valid).
    Session(FamilyId),
    /// The session of `root`, under `root` as its new first token: every older token of it
    /// ends (a password change).
    Restarted(&'a RefreshToken),
}

impl Keep<'_> {
    fn family(&self) -> Option<FamilyId> {
        match self {
            Keep::Nothing => None,
            Keep::Session(family) => Some(*family),
            Keep::Restarted(root) => Some(root.family()),
        }
    }
}

/// How one attempt at moving the session generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Move {
    Done,
    /// The user item is not as read (a login, another move, a password change, a deletion).
    UserChanged,
    /// The session to keep has ended (or expired) meanwhile.
    KeptGone,
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

/// A family item as a session, if it is live at `now` in the user's session generation
/// `generation`: of that generation, not past its absolute expiry, and refreshed (or created)
/// within the idle expiry. For items that lack them (see
/// [`SessionItem`]), creation comes from the family id (a UUIDv7) or the absolute expiry
/// (30 days after the login), last use from the latest spend, if any, and a family without an
/// absolute expiry counts as live, as authentication counts it.
pub(super) fn session_of(
    item: SessionItem,
    current: Option<FamilyId>,
    now: i64,
    generation: u64,
) -> Result<Option<SessionInfo>, StoreError> {
    let Some(id) = family_of(&item) else {
        return Ok(None);
    };
    if item.session_gen.unwrap_or(0) != generation {
        return Ok(None);
    }
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
    /// of two concurrent changes exactly one takes effect and the other learns it lost; and,
    /// in the same transaction, ends every session but `keep` (see
    /// [`Store::end_other_sessions`]).
    pub async fn change_password(
        &self,
        user: UserId,
        previous: &str,
        new: &str,
        keep: Keep<'_>,
        now: i64,
    ) -> Result<PasswordWrite, StoreError> {
        Ok(
            match self
                .move_generation(user, Some((previous, new)), keep, now)
                .await?
            {
                Some(kept) => PasswordWrite::Changed { kept },
                None => PasswordWrite::Stale,
            },
        )
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
        let (items, state) = tokio::try_join!(self.family_items(user), self.user_sessions(user))?;
        let generation = state.and_then(|state| state.session_gen).unwrap_or(0);
        let mut sessions = Vec::new();
        for item in items {
            sessions.extend(session_of(item, current, now, generation)?);
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
        let read = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(key(user_pk(user), family_sk(family))))
            .consistent_read(true)
            .send();
        let (output, state) = tokio::join!(read, self.user_sessions(user));
        let generation = state?.and_then(|state| state.session_gen).unwrap_or(0);
        let live = match output?.item {
            Some(item) => {
                session_of(serde_dynamo::from_item(item)?, None, now, generation)?.is_some()
            }
            None => false,
        };
        if live {
            self.revoke_family(user, family).await?;
        }
        Ok(live)
    }

    /// Ends every session of the user but `keep`, in a constant number of round trips
    /// whatever their number: a read of the user item (with the kept family's, concurrently,
    /// for a restart) and one transaction that moves the user's session generation on and
    /// re-stamps the kept session (see `sessions`). The ended sessions' items stay until
    /// their TTL. `Ok(false)` if the account is gone or being deleted; `keep`'s session, if
    /// it ended meanwhile, stays ended (and everything else ends all the same).
    pub async fn end_other_sessions(
        &self,
        user: UserId,
        keep: Keep<'_>,
        now: i64,
    ) -> Result<bool, StoreError> {
        Ok(self.move_generation(user, None, keep, now).await?.is_some())
    }

    /// Moves the user's session generation on, keeping `keep`'s session and, with
    /// `password = (previous, new)`, replacing the password hash if it is still `previous`.
    /// `Some(kept)` once done (`kept`: whether the kept session goes on); `None` if the
    /// account is gone or being deleted, or its password is no longer `previous`.
    async fn move_generation(
        &self,
        user: UserId,
        password: Option<(&str, &str)>,
        mut keep: Keep<'_>,
        now: i64,
    ) -> Result<Option<bool>, StoreError> {
        for _ in 0..END_ATTEMPTS {
            let (state, absolute) = match keep {
                Keep::Restarted(root) => {
                    tokio::try_join!(self.user_sessions(user), self.family_expiry(root))?
                }
                _ => (self.user_sessions(user).await?, None),
            };
            let Some(state) = state.filter(|state| state.deleting.is_none()) else {
                return Ok(None);
            };
            if password
                .is_some_and(|(previous, _)| state.password_hash.as_deref() != Some(previous))
            {
                return Ok(None);
            }
            let generation = state.session_gen.unwrap_or(0);
            let next = generation.saturating_add(1);
            let mut items = vec![conditional(
                Move::UserChanged,
                self.move_user(user, generation, password, keep.family())?,
            )];
            match keep {
                Keep::Nothing => {}
                Keep::Session(family) => items.push(conditional(
                    Move::KeptGone,
                    self.restamp(user, family, generation, false, now)?,
                )),
                Keep::Restarted(root) => {
                    let Some(absolute) = absolute.filter(|absolute| now < *absolute) else {
                        keep = Keep::Nothing;
                        continue;
                    };
                    items.push(conditional(
                        Move::KeptGone,
                        self.restamp(user, root.family(), generation, true, now)?,
                    ));
                    items.push(self.put_token(Move::KeptGone, root, None, now, absolute, next)?);
                }
            }
            match self.transact(Move::Done, items).await? {
                Move::Done => return Ok(Some(keep.family().is_some())),
                Move::KeptGone => keep = Keep::Nothing,
                Move::UserChanged => {}
            }
        }
        Err(StoreError::unavailable(
            "the user item kept changing while its other sessions were ended",
        ))
    }

    /// The absolute expiry of `root`'s family, if its item exists (consistent).
    async fn family_expiry(&self, root: &RefreshToken) -> Result<Option<i64>, StoreError> {
        let output = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(key(user_pk(root.user()), family_sk(root.family()))))
            .projection_expression("#expires")
            .expression_attribute_names("#expires", attr::ABSOLUTE_EXPIRES_AT)
            .consistent_read(true)
            .send()
            .await?;
        Ok(output
            .item
            .and_then(|item| super::keys::number(&item, attr::ABSOLUTE_EXPIRES_AT)))
    }

    /// The user item's update moving its session generation on from `generation`: the
    /// sessions of the new one are `kept`'s alone; with `password`, the hash is replaced if
    /// it is still the previous one.
    fn move_user(
        &self,
        user: UserId,
        generation: u64,
        password: Option<(&str, &str)>,
        kept: Option<FamilyId>,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut set = vec!["#session_gen = :next"];
        let mut condition = format!("{USER_ACTIVE} AND {}", generation_is(generation));
        let mut update = Update::builder()
            .table_name(self.table())
            .set_key(Some(user_key(user)))
            .set_expression_attribute_names(Some(user_condition_names()))
            .expression_attribute_names("#session_gen", attr::SESSION_GEN)
            .expression_attribute_names("#kept", attr::KEPT_SESSION)
            .expression_attribute_names("#sessions", attr::SESSIONS)
            .expression_attribute_values(":gen", n(generation))
            .expression_attribute_values(":next", n(generation.saturating_add(1)));
        if let Some((previous, new)) = password {
            set.push("#password_hash = :new_hash");
            condition.push_str(" AND #password_hash = :previous");
            update = update
                .expression_attribute_names("#password_hash", attr::PASSWORD_HASH)
                .expression_attribute_values(":new_hash", s(new))
                .expression_attribute_values(":previous", s(previous));
        }
        let expression = match kept {
            Some(family) => {
                set.push("#kept = :kept");
                set.push("#sessions = :sessions");
                update = update
                    .expression_attribute_values(":kept", s(family.to_string()))
                    .expression_attribute_values(
                        ":sessions",
                        AttributeValue::Ss(vec![family.to_string()]),
                    );
                format!("SET {}", set.join(", "))
            }
            None => format!("SET {} REMOVE #kept, #sessions", set.join(", ")),
        };
        let update = update
            .update_expression(expression)
            .condition_expression(condition)
            .build()?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// The kept family's update into the generation after `generation`, if it is alive and
    /// of `generation`; `restart`: its tokens of older generations end, and it forgets its
    /// latest spend (no grace follows a spend of an ended token).
    fn restamp(
        &self,
        user: UserId,
        family: FamilyId,
        generation: u64,
        restart: bool,
        now: i64,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut update = Update::builder()
            .table_name(self.table())
            .set_key(Some(key(user_pk(user), family_sk(family))))
            .condition_expression(format!(
                "attribute_exists(#pk) AND {} AND (attribute_not_exists(#expires) OR #expires > :now)",
                generation_is(generation)
            ))
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#session_gen", attr::SESSION_GEN)
            .expression_attribute_names("#expires", attr::ABSOLUTE_EXPIRES_AT)
            .expression_attribute_values(":gen", n(generation))
            .expression_attribute_values(":next", n(generation.saturating_add(1)))
            .expression_attribute_values(":now", n(now));
        update = if restart {
            update
                .update_expression(
                    "SET #session_gen = :next, #tokens_from = :next, #last_used_at = :now \
                     REMOVE #last_spent",
                )
                .expression_attribute_names("#tokens_from", attr::TOKENS_FROM)
                .expression_attribute_names("#last_used_at", attr::LAST_USED_AT)
                .expression_attribute_names("#last_spent", attr::LAST_SPENT)
        } else {
            update.update_expression("SET #session_gen = :next")
        };
        Ok(TransactWriteItem::builder().update(update.build()?).build())
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
        let listed = session_of(item.clone(), Some(id), 6_000, 0)
            .unwrap()
            .unwrap();
        assert!(listed.current);
        assert_eq!(listed.last_used_at.unix_timestamp(), 5_000);
        assert_eq!(listed.user_agent, None);
        // Idle for the idle expiry since its last refresh: no refresh can revive it.
        assert_eq!(
            session_of(item.clone(), None, 5_000 + REFRESH_IDLE_TTL_SECS, 0).unwrap(),
            None
        );
        assert_eq!(
            session_of(item.clone(), None, 1_000 + REFRESH_ABSOLUTE_TTL_SECS, 0).unwrap(),
            None
        );
        // Of another session generation than its user's: dead, whatever else it says.
        assert_eq!(session_of(item, None, 6_000, 1).unwrap(), None);
    }
}
