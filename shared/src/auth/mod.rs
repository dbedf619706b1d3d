//! Identity: who a request is from. Access tokens (JWT) are verified here, and
//! [`authenticate`] is the one check every Bearer route uses. Also the credentials of
//! accounts (email, password and its hash) and sessions (refresh tokens and their cookie).

mod access_token;
mod cookie;
mod credentials;
mod external;
mod password;
mod refresh_token;
mod user;

pub use access_token::{
    ACCESS_TOKEN_TTL_SECS, AccessTokens, Claims, IssuedToken, TOKEN_TYPE, Verified,
};
pub use cookie::{
    REFRESH_COOKIE, cleared_refresh_cookie, refresh_cookie, refresh_token_of, refresh_unauthorized,
    require_allowed_origin,
};
pub use credentials::{Email, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, Password, UserName};
pub use external::{
    ExternalIdentity, ExternalTokens, FETCH_TIMEOUT, JWKS_REFETCH_INTERVAL, identity_key,
};
pub(crate) use password::NO_PASSWORD_HASH;
pub use password::{hash_password, verify_password};
pub use refresh_token::{FamilyId, REFRESH_ABSOLUTE_TTL_SECS, REFRESH_IDLE_TTL_SECS, RefreshToken};
pub use user::{User, now_millis, unix_now};

use std::fmt;

use lambda_http::http::header;
use uuid::Uuid;

use crate::error::ApiError;
use crate::http::{Request, header_str};
use crate::store::{Standing, Store};

/// A user's id (UUIDv7). Only ever built from a verified token or a new registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(Uuid);

impl UserId {
    pub fn generate() -> Self {
        Self(Uuid::now_v7())
    }

    pub fn parse(s: &str) -> Option<Self> {
        Uuid::try_parse(s).ok().map(Self)
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }

    /// The id a refresh token or a stored item names (no check that the user exists).
    pub fn from_uuid(id: Uuid) -> Self {
        Self(id)
    }
}

impl serde::Serialize for UserId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.as_hyphenated().fmt(f)
    }
}

/// The user of a Bearer request carrying a configured external identity provider's token
/// (`None`: not such a token, or no provider configured; then [`authenticate`] decides).
/// External tokens carry no taskline session: their lifetime is the provider's.
pub async fn authenticate_external(
    external: Option<&ExternalTokens>,
    store: &Store,
    req: &Request,
    during_deletion: DuringDeletion,
) -> Result<Option<UserId>, ApiError> {
    let Some(external) = external else {
        return Ok(None);
    };
    let token = bearer_token(header_str(req.headers(), header::AUTHORIZATION))?;
    if !ExternalTokens::is_candidate(token) {
        return Ok(None);
    }
    let user = external.authenticate(store, token).await?;
    admit(user, store.user_standing(user).await?, during_deletion).map(Some)
}

/// Whether a route serves an account whose deletion has begun.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DuringDeletion {
    /// Every route but one: the account is as good as gone.
    Refuse,
    /// `DELETE /v1/me`, which resumes the deletion. Any token of the account signed by us
    /// will do, as its sessions are among what the deletion removes.
    Allow,
}

/// The user a Bearer request is from: a valid access token whose user still exists and whose
/// session (`sid`) has not ended — one consistent read, so tokens of a logged-out session,
/// a revoked family or a deleted account stop working at once.
pub async fn authenticate(
    tokens: &AccessTokens,
    store: &Store,
    req: &Request,
) -> Result<UserId, ApiError> {
    authenticate_with(tokens, store, req, DuringDeletion::Refuse).await
}

/// [`authenticate`], saying whether an account being deleted is served.
pub async fn authenticate_with(
    tokens: &AccessTokens,
    store: &Store,
    req: &Request,
    during_deletion: DuringDeletion,
) -> Result<UserId, ApiError> {
    authenticate_session(tokens, store, req, during_deletion)
        .await
        .map(|(user, _)| user)
}

/// [`authenticate_with`], also naming the session (`sid`) of the token.
pub async fn authenticate_session(
    tokens: &AccessTokens,
    store: &Store,
    req: &Request,
    during_deletion: DuringDeletion,
) -> Result<(UserId, FamilyId), ApiError> {
    let token = bearer_token(header_str(req.headers(), header::AUTHORIZATION))?;
    let Verified { user, session } = tokens.verify(token)?;
    admit(
        user,
        store.standing(user, session, unix_now()).await?,
        during_deletion,
    )
    .map(|user| (user, session))
}

/// Whether a verified token's user, of this standing, is served on a route.
fn admit(
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

/// The token of an `Authorization: Bearer <token>` header value (scheme case-insensitive);
/// a missing header or another scheme is a 401.
pub fn bearer_token(authorization: Option<&str>) -> Result<&str, ApiError> {
    let value = authorization.ok_or(ApiError::unauthorized_bearer(
        "a Bearer access token is required",
    ))?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => Ok(token.trim()),
        _ => Err(ApiError::unauthorized_bearer(
            "the Authorization header must use the Bearer scheme",
        )),
    }
}
