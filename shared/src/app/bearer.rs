//! Issue 15: a Bearer request whose token is verified but whose standing (user, session) is
//! checked *together with* the request's first DynamoDB call rather than before it, so a read
//! is one round trip, not two. The guarantees of [`App::authenticate`] are kept: the
//! standing's verdict wins over whatever the read returned, and nothing is written before the
//! standing is confirmed unless the write's own transaction carries the condition (see
//! [`crate::store::Store::create_task`]).

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{App, DuringDeletion, admit};
use crate::auth::{SessionClaim, User, unix_now};
use crate::domain::{CategoryId, UserId};
use crate::error::ApiError;
use crate::store::{ListingTotals, Store, StoreError, StoredTask};
use crate::tasks::TaskId;

/// The user of a Bearer request, its token verified; its standing checked by the first of
/// [`Bearer::alongside`], [`Bearer::alongside_with_totals`], [`Bearer::read_task`],
/// [`Bearer::read_user`], [`Bearer::unconfirmed_session`]
/// (whose caller's transaction carries it) or [`Bearer::confirm`].
#[derive(Debug)]
pub struct Bearer<'a> {
    store: &'a Store,
    user: UserId,
    /// The token's taskline session; `None` for an external provider's token, whose
    /// standing was checked already when its identity was resolved.
    session: Option<SessionClaim>,
    checked: AtomicBool,
}

impl<'a> Bearer<'a> {
    /// A user whose standing is already confirmed.
    pub(super) fn checked(app: &'a App, user: UserId) -> Self {
        Self {
            store: &app.store,
            user,
            session: None,
            checked: AtomicBool::new(true),
        }
    }

    /// A verified token whose user and session are still to be checked.
    pub(super) fn unchecked(app: &'a App, user: UserId, session: SessionClaim) -> Self {
        Self {
            store: &app.store,
            user,
            session: Some(session),
            checked: AtomicBool::new(false),
        }
    }

    /// The token's user: the partition every read and write of the request is on. Before the
    /// standing is confirmed, only for reads run by [`Bearer::alongside`] or writes whose
    /// transaction carries [`Bearer::unconfirmed_session`].
    pub fn user(&self) -> UserId {
        self.user
    }

    /// The session (and the time) a write's transaction must find alive, if the standing is
    /// still unconfirmed. Calling it counts the standing as checked: the caller's transaction
    /// now carries the check (its user condition is there already).
    pub fn unconfirmed_session(&self) -> Option<(SessionClaim, i64)> {
        if self.checked.swap(true, Ordering::Relaxed) {
            None
        } else {
            self.session.map(|session| (session, unix_now()))
        }
    }

    /// The session still to check, marking it checked: whatever the outcome of the check
    /// about to be made (a failure to read is the answer itself), it is not made again.
    fn take_unchecked(&self) -> Option<SessionClaim> {
        if self.checked.swap(true, Ordering::Relaxed) {
            None
        } else {
            self.session
        }
    }

    /// Confirms the standing (one `BatchGetItem`) if no call of the request carried it: every
    /// request ends with it, so a refused token is a 401 whatever else was wrong with the
    /// request, as when authentication came first. No call once checked.
    pub async fn confirm(&self) -> Result<(), ApiError> {
        self.alongside(async { Ok(()) }).await
    }

    /// `read` (on [`Bearer::user`]'s partition), concurrently with the standing check if that
    /// is still due. A refused standing wins over the read's outcome.
    pub async fn alongside<T>(
        &self,
        read: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, ApiError> {
        let Some(session) = self.take_unchecked() else {
            return Ok(read.await?);
        };
        let (standing, read) =
            tokio::join!(self.store.standing(self.user, session, unix_now()), read);
        admit(self.user, standing?, DuringDeletion::Refuse)?;
        Ok(read?)
    }

    /// The task `id` of [`Bearer::user`] (a consistent read, readable or not), in the
    /// standing check's `BatchGetItem` when that is still due (a get is one call, not a
    /// `BatchGetItem` and a `GetItem`), together with the categories being deleted, read from
    /// the counts item in the same call: the task's category lives unless it is among them,
    /// as a listing decides. `None` for them when the standing was checked already (a read
    /// after a conflict, an external provider's token): the caller asks the category item
    /// itself. A refused standing wins over the task.
    pub async fn read_task(
        &self,
        id: TaskId,
    ) -> Result<(Option<StoredTask>, Option<Vec<CategoryId>>), ApiError> {
        let Some(session) = self.take_unchecked() else {
            return Ok((self.store.read_task(self.user, id).await?, None));
        };
        let (standing, task, deleting) = self
            .store
            .standing_and_task(self.user, session, unix_now(), id)
            .await?;
        admit(self.user, standing, DuringDeletion::Refuse)?;
        Ok((task, Some(deleting)))
    }

    /// The user, in the standing check's `BatchGetItem` when that is still due (`GET /v1/me`
    /// is one call); `None` if it vanished after a standing confirmed already. A refused
    /// standing wins.
    pub async fn read_user(&self) -> Result<Option<User>, ApiError> {
        let Some(session) = self.take_unchecked() else {
            return Ok(self.store.user(self.user).await?);
        };
        let (standing, user) = self
            .store
            .standing_and_user(self.user, session, unix_now())
            .await?;
        admit(self.user, standing, DuringDeletion::Refuse)?;
        Ok(user)
    }

    /// [`Bearer::alongside`] for a listing, which also needs what the counts item holds
    /// (the user's totals, the categories being deleted): when the standing is still due they
    /// come with it, in the same `BatchGetItem`.
    pub async fn alongside_with_totals<T>(
        &self,
        read: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<(ListingTotals, T), ApiError> {
        let Some(session) = self.take_unchecked() else {
            return Ok(tokio::try_join!(
                self.store.listing_totals(self.user),
                read
            )?);
        };
        let (standing, read) = tokio::join!(
            self.store
                .standing_and_totals(self.user, session, unix_now()),
            read
        );
        let (standing, totals) = standing?;
        admit(self.user, standing, DuringDeletion::Refuse)?;
        Ok((totals, read?))
    }
}
