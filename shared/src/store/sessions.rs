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
//! Session generations: the user item holds `session_gen` (absent: 0), each family item the
//! generation it belongs to, each token item the one it was issued in, and each access token
//! its own (`sgen`). A family of another generation than its user's is dead, whatever its
//! items say: refused by refresh, by the standing check and not listed. Ending every other
//! session is therefore one transaction whatever their number ([`Sessions::end_others`],
//! [`Accounts::change_password`] in `account`): it moves the user's generation on and re-stamps
//! only the session that goes on (recorded as the user's `kept_session`, whose access tokens
//! of the generation before stay valid); the dead items go with their TTL. A family's
//! `tokens_from` (absent: 0) ends its tokens of older generations: a password change moves
//! it, so the session goes on under a new first token only.
//!
//! Live sessions per user are bounded: the user item's `sessions` (a string set) names the
//! families started in its current generation. A login adds its own in its transaction, on
//! condition that the set is below the bound; at the bound it first reads those families (one
//! `BatchGetItem`), drops the dead ones from the set and ends the least recently used.
//!
//! Reuse grace: a rotation has exactly one winner per token (the spend is conditional on
//! `spent_at` being absent), and a token has exactly one successor: it is derived from the
//! token with a server key (`crate::auth::RefreshToken::successor`), not drawn. A request that
//! finds its token spent gets a session only if the token is the family's `last_spent` and the
//! caller's grace interval has not passed: it is handed the very successor the winner got
//! (whose item the winner's transaction wrote), and nothing is written. So one chain of tokens
//! lives on, and whichever holder of the successor uses it second presents a spent token:
//! reuse once its grace has passed, which revokes the family.

use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Get, KeysAndAttributes, TransactGetItem,
    TransactWriteItem, Update,
};

use super::core::Store;
use super::error::StoreError;
use super::expr::{Changes, Cond, Expressed, Projecting, Updating};
use super::items::{FamilyItem, SessionItem, TokenItem, UserSessionsItem};
use super::keys::{
    PK, attr, family_sk, family_tokens_prefix, key, n, s, token_sk, user_key, user_pk,
};
use super::session_info::{FAMILY_PREFIX, session_of};
use super::standing::{of_generation, user_active};
use super::writes::{Conditional, conditional};
use crate::auth::{REFRESH_ABSOLUTE_TTL_SECS, REFRESH_IDLE_TTL_SECS, RefreshToken};
use crate::domain::{FamilyId, UserId};

/// Rounds of a login that finds the user's sessions changed under it (another login, an end
/// of the others) before it gives up.
const START_ATTEMPTS: usize = 5;
/// Keys of one `BatchGetItem`.
const BATCH_GET_KEYS: usize = 100;
/// Sessions one login ends at most to make room (one transaction; normally one).
const MAX_EVICTIONS: usize = 50;

fn token_key(token: &RefreshToken) -> super::keys::Key {
    key(
        user_pk(token.user()),
        token_sk(token.family(), &token.hash()),
    )
}

fn family_key(user: UserId, family: FamilyId) -> super::keys::Key {
    key(user_pk(user), family_sk(family))
}

/// What the store knows about a presented refresh token. `issued_in` is the session
/// generation the token was issued in (its successor is derived with it), `generation` the
/// user's current one (the successor's, and its access token's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshState {
    /// No such token, its family was revoked, or it is of a dead session generation.
    Unknown,
    /// Already rotated: presenting it again is reuse, unless within the grace interval of
    /// the family's most recent rotation. `latest_spent_at` is when it was spent if it is
    /// the family's most recently spent token (and the family is not past its expiry).
    Spent {
        latest_spent_at: Option<i64>,
        issued_in: u64,
        generation: u64,
    },
    /// Past its idle or absolute expiry.
    Expired,
    /// Usable; children inherit the family's absolute expiry.
    Live {
        absolute_expires_at: i64,
        issued_in: u64,
        generation: u64,
    },
}

/// Outcome of a rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    Rotated,
    /// Another request spent the token first.
    AlreadySpent,
    /// The family was revoked, the user deleted or its session generation moved meanwhile.
    Revoked,
}

/// How starting a family (a login) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FamilyStart {
    /// Started in the user's session generation `generation` (its access tokens carry it).
    Started { generation: u64 },
    /// The user no longer exists (or is being deleted); nothing was written.
    UserGone,
    /// The password is no longer the one the login verified; nothing was written.
    PasswordChanged,
}

/// Sessions: refresh-token families and the session generation.
#[derive(Debug, Clone, Copy)]
pub struct Sessions<'a> {
    pub(super) store: &'a Store,
}

impl Store {
    pub fn sessions(&self) -> Sessions<'_> {
        Sessions { store: self }
    }
}

impl Sessions<'_> {
    /// The new token item (only where none exists), of session generation `generation`,
    /// refused as `if_refused`.
    pub(super) fn put_token<O>(
        self,
        if_refused: O,
        token: &RefreshToken,
        parent: Option<&RefreshToken>,
        now: i64,
        absolute_expires_at: i64,
        generation: u64,
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
            session_gen: generation,
        })?;
        Ok(conditional(if_refused, self.store.put_new(item)?))
    }

    /// What starting and ending sessions need of the user item (consistent): its password
    /// hash, deletion mark, session generation and the sessions started in it. `None` if no
    /// such user.
    pub(super) async fn user_sessions(
        self,
        user: UserId,
    ) -> Result<Option<UserSessionsItem>, StoreError> {
        let output = self
            .store
            .get_item()
            .set_key(Some(user_key(user)))
            .projecting(&[
                PK,
                attr::PASSWORD_HASH,
                attr::DELETING,
                attr::SESSION_GEN,
                attr::SESSIONS,
            ])
            .consistent_read(true)
            .send()
            .await?;
        Ok(output.item.map(serde_dynamo::from_item).transpose()?)
    }

    /// Starts a family (a login) with its first token, in the user's current session
    /// generation, provided the user still exists and its password hash is still
    /// `password_hash` (the one the login verified: a login racing a password change keeps no
    /// session). At `max_sessions` live sessions the least recently used one ends first
    /// (see the module comment).
    pub async fn start(
        self,
        token: &RefreshToken,
        now: i64,
        user_agent: Option<&str>,
        password_hash: &str,
        max_sessions: u64,
    ) -> Result<FamilyStart, StoreError> {
        let user = token.user();
        let max = usize::try_from(max_sessions).unwrap_or(usize::MAX).max(1);
        for _ in 0..START_ATTEMPTS {
            let Some(state) = self.user_sessions(user).await? else {
                return Ok(FamilyStart::UserGone);
            };
            if state.deleting.is_some() {
                return Ok(FamilyStart::UserGone);
            }
            if state.password_hash.as_deref() != Some(password_hash) {
                return Ok(FamilyStart::PasswordChanged);
            }
            let generation = state.session_gen.unwrap_or(0);
            let started = state.sessions.as_deref().unwrap_or_default();
            if started.len() >= max {
                self.make_room(user, generation, started, max, now).await?;
                continue;
            }
            if self
                .start_in(token, now, user_agent, password_hash, generation, max)
                .await?
            {
                return Ok(FamilyStart::Started { generation });
            }
        }
        Err(StoreError::unavailable(
            "the user's sessions kept changing while a login started one",
        ))
    }

    /// The login's one transaction: the family and its first token, added to the user's
    /// sessions if the user item is still as read. `false` if it was not.
    async fn start_in(
        self,
        token: &RefreshToken,
        now: i64,
        user_agent: Option<&str>,
        password_hash: &str,
        generation: u64,
        max: usize,
    ) -> Result<bool, StoreError> {
        let user = token.user();
        let absolute_expires_at = now + REFRESH_ABSOLUTE_TTL_SECS;
        let family = serde_dynamo::to_item(FamilyItem {
            user_id: user_pk(user),
            sk: family_sk(token.family()),
            created_at: now,
            absolute_expires_at,
            expires_at: absolute_expires_at,
            last_spent: None,
            last_spent_at: None,
            last_used_at: None,
            user_agent: user_agent.map(str::to_owned),
            session_gen: generation,
            tokens_from: None,
        })?;
        let family_set = AttributeValue::Ss(vec![token.family().to_string()]);
        let room = Cond::NotExists(attr::SESSIONS).or(Cond::SizeLt(attr::SESSIONS, n(max)));
        let still = user_active()
            .and(Cond::Eq(attr::PASSWORD_HASH, s(password_hash)))
            .and(of_generation(generation))
            .and(room);
        let add = Update::builder()
            .table_name(self.store.table())
            .set_key(Some(user_key(user)))
            .changing(
                &Changes::default().add(attr::SESSIONS, family_set),
                Some(&still),
            )
            .build()?;
        let items = vec![
            conditional(false, TransactWriteItem::builder().update(add).build()),
            // A fresh family and token id never exist already.
            conditional(false, self.store.put_new(family)?),
            self.put_token(false, token, None, now, absolute_expires_at, generation)?,
        ];
        self.store.transact(true, items).await
    }

    /// Makes room for a login among the user's `started` sessions (at least `max`): reads
    /// their family items in one `BatchGetItem`, and drops from the set every one that is
    /// dead (gone, expired, of another generation) and, while `max` or more live ones remain,
    /// the least recently used, whose family item goes too (which ends it).
    async fn make_room(
        self,
        user: UserId,
        generation: u64,
        started: &[String],
        max: usize,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut live = Vec::new();
        for chunk in started.chunks(BATCH_GET_KEYS) {
            let mut wanted = KeysAndAttributes::builder().consistent_read(true);
            for id in chunk {
                wanted = wanted.keys(key(user_pk(user), format!("{FAMILY_PREFIX}{id}")));
            }
            for item in self.store.batch_get(wanted.build()?).await? {
                let item: SessionItem = serde_dynamo::from_item(item)?;
                if let Some(session) = session_of(item, None, now, generation)? {
                    live.push(session);
                }
            }
        }
        live.sort_by(|a, b| a.last_used_at.cmp(&b.last_used_at).then(a.id.cmp(&b.id)));
        let excess = (live.len() + 1).saturating_sub(max).min(MAX_EVICTIONS);
        let evicted: Vec<String> = live.iter().take(excess).map(|s| s.id.clone()).collect();
        let kept: Vec<&str> = live.iter().skip(excess).map(|s| s.id.as_str()).collect();
        let gone: Vec<String> = started
            .iter()
            .filter(|id| !kept.contains(&id.as_str()))
            .cloned()
            .collect();
        if gone.is_empty() {
            return Ok(());
        }
        let prune = Update::builder()
            .table_name(self.store.table())
            .set_key(Some(user_key(user)))
            .changing(
                &Changes::default().delete(attr::SESSIONS, AttributeValue::Ss(gone)),
                Some(&user_active()),
            )
            .build()?;
        let mut items = vec![conditional(
            (),
            TransactWriteItem::builder().update(prune).build(),
        )];
        for id in evicted {
            let delete = Delete::builder()
                .table_name(self.store.table())
                .set_key(Some(key(user_pk(user), format!("{FAMILY_PREFIX}{id}"))))
                .build()?;
            items.push(conditional(
                (),
                TransactWriteItem::builder().delete(delete).build(),
            ));
        }
        // Refused: the user is gone or being deleted; the login's next read says so.
        self.store.transact((), items).await
    }

    /// Looks a presented token up (consistent: token, family and the user's generation
    /// together). A token of a dead generation (its family's is not the user's, or the
    /// family's tokens of its generation have ended) is unknown.
    pub async fn refresh_state(
        self,
        token: &RefreshToken,
        now: i64,
    ) -> Result<RefreshState, StoreError> {
        let Some((item, family, user)) = self.token_items(token).await? else {
            return Ok(RefreshState::Unknown);
        };
        Ok(refresh_state_of(token, &item, &family, &user, now))
    }

    /// The token's item, its family's and its user's, in one consistent read; `None` if any
    /// of them is missing.
    async fn token_items(
        self,
        token: &RefreshToken,
    ) -> Result<Option<(TokenItem, FamilyItem, UserSessionsItem)>, StoreError> {
        let get = |key| {
            Get::builder()
                .table_name(self.store.table())
                .set_key(Some(key))
                .build()
                .map(|get| TransactGetItem::builder().get(get).build())
        };
        let user = Get::builder()
            .table_name(self.store.table())
            .set_key(Some(user_key(token.user())))
            .projecting(&[PK, attr::DELETING, attr::SESSION_GEN])
            .build()?;
        let output = self
            .store
            .client()
            .transact_get_items()
            .transact_items(get(token_key(token))?)
            .transact_items(get(family_key(token.user(), token.family()))?)
            .transact_items(TransactGetItem::builder().get(user).build())
            .send()
            .await?;
        let mut items = output
            .responses
            .unwrap_or_default()
            .into_iter()
            .map(|response| response.item);
        let (Some(Some(item)), Some(Some(family)), Some(Some(user))) =
            (items.next(), items.next(), items.next())
        else {
            return Ok(None);
        };
        Ok(Some((
            serde_dynamo::from_item(item)?,
            serde_dynamo::from_item(family)?,
            serde_dynamo::from_item(user)?,
        )))
    }

    /// Spends `old` and stores its successor `new` in one transaction, provided `old` is
    /// unspent, its family alive and its user existing, both still of session generation
    /// `generation` (the child's), and records `old` as the family's most recently spent
    /// token. Of concurrent rotations of one token exactly one succeeds.
    pub async fn rotate(
        self,
        old: &RefreshToken,
        new: &RefreshToken,
        absolute_expires_at: i64,
        generation: u64,
        now: i64,
    ) -> Result<Rotation, StoreError> {
        let items = vec![
            conditional(
                Rotation::Revoked,
                self.user_current(old.user(), generation)?,
            ),
            conditional(
                Rotation::Revoked,
                self.spend_in_family(old, generation, now)?,
            ),
            conditional(Rotation::AlreadySpent, self.spend(old, now)?),
            self.put_token(
                Rotation::AlreadySpent,
                new,
                Some(old),
                now,
                absolute_expires_at,
                generation,
            )?,
        ];
        self.store.transact(Rotation::Rotated, items).await
    }

    /// The family of `old`, alive and of `generation`, records `old` as its latest spend.
    fn spend_in_family(
        self,
        old: &RefreshToken,
        generation: u64,
        now: i64,
    ) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(self.store.table())
            .set_key(Some(family_key(old.user(), old.family())))
            .changing(
                &Changes::default()
                    .set(attr::LAST_SPENT, s(old.hash()))
                    .set(attr::LAST_SPENT_AT, n(now))
                    .set(attr::LAST_USED_AT, n(now)),
                Some(&Cond::Exists(PK).and(of_generation(generation))),
            )
            .build()?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// `old` spent at `now`, unless it was spent already.
    fn spend(self, old: &RefreshToken, now: i64) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(self.store.table())
            .set_key(Some(token_key(old)))
            .changing(
                &Changes::default().set(attr::SPENT_AT, n(now)),
                Some(&Cond::Exists(PK).and(Cond::NotExists(attr::SPENT_AT))),
            )
            .build()?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// The user active and still of session generation `generation`.
    fn user_current(self, user: UserId, generation: u64) -> Result<TransactWriteItem, StoreError> {
        let check = ConditionCheck::builder()
            .table_name(self.store.table())
            .set_key(Some(user_key(user)))
            .only_if(&user_active().and(of_generation(generation)))
            .build()?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    /// Revokes a family: its family item goes first (from then on no token of it can rotate),
    /// then every token item.
    pub async fn revoke(self, user: UserId, family: FamilyId) -> Result<(), StoreError> {
        self.store
            .delete_item()
            .set_key(Some(family_key(user, family)))
            .send()
            .await?;
        let tokens = self
            .store
            .keys_of(&user_pk(user), Some(&family_tokens_prefix(family)))
            .await?;
        self.store.delete_all(tokens).await
    }
}

/// Where a presented token stands, from its item, its family's and its user's. A token of a
/// dead generation (its family's is not the user's, or the family's tokens of its generation
/// have ended) is unknown.
fn refresh_state_of(
    token: &RefreshToken,
    item: &TokenItem,
    family: &FamilyItem,
    user: &UserSessionsItem,
    now: i64,
) -> RefreshState {
    let generation = user.session_gen.unwrap_or(0);
    if user.deleting.is_some()
        || family.session_gen != generation
        || item.session_gen < family.tokens_from.unwrap_or(0)
    {
        return RefreshState::Unknown;
    }
    let absolute = item.absolute_expires_at;
    if item.spent_at.is_some() {
        let is_latest = family.last_spent.as_deref() == Some(token.hash().as_str());
        let latest_spent_at = family.last_spent_at.filter(|_| is_latest && now < absolute);
        return RefreshState::Spent {
            latest_spent_at,
            issued_in: item.session_gen,
            generation,
        };
    }
    if now >= item.idle_expires_at || now >= absolute {
        return RefreshState::Expired;
    }
    RefreshState::Live {
        absolute_expires_at: absolute,
        issued_in: item.session_gen,
        generation,
    }
}
