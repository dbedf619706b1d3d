//! Who a request is from, as its route's authentication established it ([`Caller`]), and the
//! rule that admits a user of some standing on a route ([`admit`]).
//!
//! A Bearer request's token is verified before its handler runs; the standing of its user and
//! session (account active, session alive) is checked *together with* the request's first
//! DynamoDB call rather than before it, so that a read is one round trip, not two. Whether
//! that check is still due is the state of the [`Bearer`]: every read that carries it takes
//! the Bearer mutably and leaves it checked, and a write can only rely on it by taking the
//! check into its own transaction ([`Bearer::carry_check`], whose [`SessionCondition`] the
//! store's create requires). A refused standing wins over whatever the read returned.

use std::future::Future;

use crate::auth::{RefreshToken, SessionClaim, User, unix_now};
use crate::domain::{CategoryId, FamilyId, UserId};
use crate::error::ApiError;
use crate::store::{ListingTotals, SessionCondition, Standing, Store, StoreError, StoredTask};
use crate::tasks::TaskId;

/// Whether a route serves an account whose deletion has begun.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DuringDeletion {
    /// Every route but one: the account is as good as gone.
    Refuse,
    /// `DELETE /v1/me`, which resumes the deletion. Any token of the account signed by us
    /// will do, as its sessions are among what the deletion removes.
    Allow,
}

/// Whether a verified token's user, of this standing, is served on a route.
pub fn admit(
    user: UserId,
    standing: Standing,
    during_deletion: DuringDeletion,
) -> Result<UserId, ApiError> {
    match standing {
        Standing::Active {
            session_alive: true,
        } => Ok(user),
        Standing::Active {
            session_alive: false,
        } => Err(ApiError::unauthorized_bearer("the session has ended")),
        Standing::Deleting if during_deletion == DuringDeletion::Allow => Ok(user),
        Standing::Deleting => Err(ApiError::unauthorized_bearer(
            "the account is being deleted",
        )),
        Standing::NoAccount => Err(ApiError::unauthorized_bearer(
            "the account no longer exists",
        )),
    }
}

/// The caller of a request, authenticated as its route declares (`http::Auth`).
#[derive(Debug)]
pub enum Caller<'a> {
    /// A route open to anyone (sign-up, login, health, documents).
    Anyone,
    /// A Bearer route: the token verified, its standing checked with the first call.
    Bearer(Bearer<'a>),
    /// `DELETE /v1/me`: a token of the account, admitted while its deletion goes on.
    Deleting(Deleting),
    /// A route of the refresh cookie (its `Origin` checked): the token it carries, or the
    /// 401 of a missing or malformed one.
    RefreshCookie(Result<RefreshToken, ApiError>),
}

/// The user of `DELETE /v1/me`, its standing confirmed.
#[derive(Debug, Clone, Copy)]
pub struct Deleting {
    pub user: UserId,
    /// When an external provider's token was issued (its `iat`), if it was one and says:
    /// an account without a password proves a fresh sign-in by it.
    pub issued_at: Option<i64>,
}

impl<'a> Caller<'a> {
    /// The Bearer caller; an internal error if the route declared another authentication
    /// (a mistake of the route table, not of the client).
    pub fn bearer(&mut self) -> Result<&mut Bearer<'a>, ApiError> {
        match self {
            Self::Bearer(bearer) => Ok(bearer),
            _ => Err(undeclared("Bearer")),
        }
    }

    /// The caller of `DELETE /v1/me` (see [`Caller::bearer`]).
    pub fn deleting(&self) -> Result<Deleting, ApiError> {
        match self {
            Self::Deleting(deleting) => Ok(*deleting),
            _ => Err(undeclared("Bearer during deletion")),
        }
    }

    /// The refresh cookie's token, or the 401 of a missing or malformed one (the outer
    /// error: see [`Caller::bearer`]).
    pub fn refresh_cookie(&mut self) -> Result<Result<RefreshToken, ApiError>, ApiError> {
        match self {
            Self::RefreshCookie(token) => Ok(std::mem::replace(
                token,
                Err(ApiError::Internal(
                    "the refresh cookie was taken already".into(),
                )),
            )),
            _ => Err(undeclared("refresh cookie")),
        }
    }

    /// What every request ends with: a Bearer whose standing no call carried is checked now,
    /// so a refused token is a 401 whatever else was wrong with the request.
    pub async fn finish(&mut self) -> Result<(), ApiError> {
        match self {
            Self::Bearer(bearer) => bearer.confirm().await,
            _ => Ok(()),
        }
    }
}

fn undeclared(wanted: &str) -> ApiError {
    ApiError::Internal(format!(
        "a handler of a route not declared {wanted} asked for it"
    ))
}

/// The user of a Bearer request, its token verified, and whether its standing (user, session)
/// is still to be checked.
#[derive(Debug)]
pub struct Bearer<'a> {
    store: &'a Store,
    user: UserId,
    /// The token's taskline session; `None` for an external provider's token.
    session: Option<SessionClaim>,
    check: Check,
}

/// Whether a Bearer's standing is still to be checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    /// With the request's first call (or by [`Bearer::confirm`]).
    Due(SessionClaim),
    /// Checked, or carried by a write's transaction.
    Done,
}

impl<'a> Bearer<'a> {
    /// A user whose standing is already confirmed (an external provider's token, resolved to
    /// its user by a read of its own).
    pub fn checked(store: &'a Store, user: UserId) -> Self {
        Self {
            store,
            user,
            session: None,
            check: Check::Done,
        }
    }

    /// A verified token whose user and session are still to be checked.
    pub fn unchecked(store: &'a Store, user: UserId, session: SessionClaim) -> Self {
        Self {
            store,
            user,
            session: Some(session),
            check: Check::Due(session),
        }
    }

    /// The token's user: the partition every read and write of the request is on.
    pub fn user(&self) -> UserId {
        self.user
    }

    /// The token's taskline session (`None` for an external provider's token).
    pub fn session(&self) -> Option<FamilyId> {
        self.session.map(|session| session.family)
    }

    /// The check, if still due, as the condition a write's transaction must carry (the user
    /// active, the session alive now); from then on the check counts as made.
    pub fn carry_check(&mut self) -> Option<SessionCondition> {
        self.take_due()
            .map(|session| SessionCondition::new(session, unix_now()))
    }

    fn take_due(&mut self) -> Option<SessionClaim> {
        match std::mem::replace(&mut self.check, Check::Done) {
            Check::Due(session) => Some(session),
            Check::Done => None,
        }
    }

    /// Confirms the standing (one `BatchGetItem`) if no call of the request carried it.
    pub async fn confirm(&mut self) -> Result<(), ApiError> {
        self.alongside(async { Ok(()) }).await
    }

    /// `read` (on [`Bearer::user`]'s partition), concurrently with the standing check if that
    /// is still due.
    pub async fn alongside<T>(
        &mut self,
        read: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, ApiError> {
        let Some(session) = self.take_due() else {
            return Ok(read.await?);
        };
        let standings = self.store.standings();
        let (standing, read) = tokio::join!(standings.of(self.user, session, unix_now()), read);
        admit(self.user, standing?, DuringDeletion::Refuse)?;
        Ok(read?)
    }

    /// The task `id` of [`Bearer::user`] (readable or not), in the standing check's
    /// `BatchGetItem` when that is still due (a get is one call), together with the categories
    /// being deleted, read from the counts item in the same call. `None` for them when the
    /// standing was checked already: the caller asks the category item itself.
    pub async fn read_task(
        &mut self,
        id: TaskId,
    ) -> Result<(Option<StoredTask>, Option<Vec<CategoryId>>), ApiError> {
        let Some(session) = self.take_due() else {
            return Ok((self.store.tasks().read(self.user, id).await?, None));
        };
        let (standing, task, deleting) = self
            .store
            .standings()
            .with_task(self.user, session, unix_now(), id)
            .await?;
        admit(self.user, standing, DuringDeletion::Refuse)?;
        Ok((task, Some(deleting)))
    }

    /// The user, in the standing check's `BatchGetItem` when that is still due (`GET /v1/me`
    /// is one call); `None` if it vanished after a standing confirmed already.
    pub async fn read_user(&mut self) -> Result<Option<User>, ApiError> {
        let Some(session) = self.take_due() else {
            return Ok(self.store.accounts().user(self.user).await?);
        };
        let (standing, user) = self
            .store
            .standings()
            .with_user(self.user, session, unix_now())
            .await?;
        admit(self.user, standing, DuringDeletion::Refuse)?;
        Ok(user)
    }

    /// [`Bearer::alongside`] for a listing, which also needs what the counts item holds
    /// (the user's totals, the categories being deleted): when the standing is still due they
    /// come with it, in the same `BatchGetItem`.
    pub async fn alongside_with_totals<T>(
        &mut self,
        read: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<(ListingTotals, T), ApiError> {
        let Some(session) = self.take_due() else {
            return Ok(tokio::try_join!(
                self.store.tasks().totals(self.user),
                read
            )?);
        };
        let standings = self.store.standings();
        let (standing, read) =
            tokio::join!(standings.with_totals(self.user, session, unix_now()), read);
        let (standing, totals) = standing?;
        admit(self.user, standing, DuringDeletion::Refuse)?;
        Ok((totals, read?))
    }
}
