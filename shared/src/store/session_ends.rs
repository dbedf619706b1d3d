//! What a user manages of their own account: their name, their password, and their sessions
//! (the refresh families of `sessions`, one per login).
//!
//! Ending every other session ([`Sessions::end_others`]; [`Accounts::change_password`]
//! too) is one transaction whatever their number: it moves the user's session generation on
//! (see `sessions`), so every family of the generation before is dead at once, and re-stamps
//! the one session that goes on, if any. A password change also gives that session a new
//! first token: its older tokens are of an ended generation of the family (`tokens_from`),
//! so presenting one afterwards is an unknown token (401) rather than reuse, and the session
//! goes on.

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};

use super::error::StoreError;
use super::expr::{Changes, Cond, Projecting, SortKeys, Updating, keyed_query};
use super::items::SessionItem;
use super::keys::{PK, SK};
use super::keys::{attr, family_sk, key, n, s, user_key, user_pk};
use super::session_info::{FAMILY_PREFIX, SessionInfo, session_of};
use super::sessions::Sessions;
use super::standing::{of_generation, user_active};
use super::writes::conditional;
use crate::auth::{FamilyId, RefreshToken, UserId};

/// Rounds of an end of the other sessions that finds the user item changed under it (a
/// login, another end) before it gives up.
pub(super) const END_ATTEMPTS: usize = 5;

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

impl Sessions<'_> {
    /// The family items of the user's partition (consistent; token items are filtered out by
    /// the store, not returned).
    async fn family_items(self, user: UserId) -> Result<Vec<SessionItem>, StoreError> {
        let query = self.store.query();
        let families = SortKeys::BeginsWith(s(FAMILY_PREFIX));
        // Token items carry `issued_at`, family items never do.
        let not_tokens = Cond::NotExists(attr::ISSUED_AT);
        let query = keyed_query(
            query,
            (PK, s(user_pk(user))),
            (SK, families),
            Some(&not_tokens),
            &[],
        )
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
    pub async fn list(
        self,
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
    pub async fn end(self, user: UserId, family: FamilyId, now: i64) -> Result<bool, StoreError> {
        let read = self
            .store
            .get_item()
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
            self.revoke(user, family).await?;
        }
        Ok(live)
    }

    /// Ends every session of the user but `keep`, in a constant number of round trips
    /// whatever their number: a read of the user item (with the kept family's, concurrently,
    /// for a restart) and one transaction that moves the user's session generation on and
    /// re-stamps the kept session (see `sessions`). The ended sessions' items stay until
    /// their TTL. `Ok(false)` if the account is gone or being deleted; `keep`'s session, if
    /// it ended meanwhile, stays ended (and everything else ends all the same).
    pub async fn end_others(
        self,
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
    pub(super) async fn move_generation(
        self,
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
                self.move_user(user, generation, password, keep.family(), false)?,
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
            match self.store.transact(Move::Done, items).await? {
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
    async fn family_expiry(self, root: &RefreshToken) -> Result<Option<i64>, StoreError> {
        let output = self
            .store
            .get_item()
            .set_key(Some(key(user_pk(root.user()), family_sk(root.family()))))
            .projecting(&[attr::ABSOLUTE_EXPIRES_AT])
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
    pub(super) fn move_user(
        self,
        user: UserId,
        generation: u64,
        password: Option<(&str, &str)>,
        kept: Option<FamilyId>,
        verify_email: bool,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut changes =
            Changes::default().set(attr::SESSION_GEN, n(generation.saturating_add(1)));
        if verify_email {
            changes = changes.set(attr::EMAIL_VERIFIED, AttributeValue::Bool(true));
        }
        let mut condition = user_active().and(of_generation(generation));
        if let Some((previous, new)) = password {
            changes = changes.set(attr::PASSWORD_HASH, s(new));
            condition = condition.and(Cond::Eq(attr::PASSWORD_HASH, s(previous)));
        }
        changes = match kept {
            Some(family) => changes
                .set(attr::KEPT_SESSION, s(family.to_string()))
                .set(attr::SESSIONS, AttributeValue::Ss(vec![family.to_string()])),
            None => changes.remove(attr::KEPT_SESSION).remove(attr::SESSIONS),
        };
        let update = Update::builder()
            .table_name(self.store.table())
            .set_key(Some(user_key(user)))
            .changing(&changes, Some(&condition))
            .build()?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// The kept family's update into the generation after `generation`, if it is alive and
    /// of `generation`; `restart`: its tokens of older generations end, and it forgets its
    /// latest spend (no grace follows a spend of an ended token).
    fn restamp(
        self,
        user: UserId,
        family: FamilyId,
        generation: u64,
        restart: bool,
        now: i64,
    ) -> Result<TransactWriteItem, StoreError> {
        let alive = Cond::Exists(PK).and(of_generation(generation)).and(
            Cond::NotExists(attr::ABSOLUTE_EXPIRES_AT)
                .or(Cond::Gt(attr::ABSOLUTE_EXPIRES_AT, n(now))),
        );
        let next = n(generation.saturating_add(1));
        let changes = Changes::default().set(attr::SESSION_GEN, next.clone());
        let changes = if restart {
            changes
                .set(attr::TOKENS_FROM, next)
                .set(attr::LAST_USED_AT, n(now))
                .remove(attr::LAST_SPENT)
        } else {
            changes
        };
        let update = Update::builder()
            .table_name(self.store.table())
            .set_key(Some(key(user_pk(user), family_sk(family))))
            .changing(&changes, Some(&alive))
            .build()?;
        Ok(TransactWriteItem::builder().update(update).build())
    }
}
