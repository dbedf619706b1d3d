//! The refresh cookie: `__Host-` prefixed (so `Secure`, `Path=/` and no `Domain` are enforced
//! by browsers too), `HttpOnly` (out of reach of scripts), `SameSite` from configuration.

use lambda_http::http::header;

use super::RefreshToken;
use super::refresh_token::REFRESH_ABSOLUTE_TTL_SECS;
use crate::config::{Config, SameSite};
use crate::error::{ApiError, Credential};
use crate::http::Request;

pub const REFRESH_COOKIE: &str = "__Host-taskline_refresh";

fn attributes(same_site: SameSite, max_age: i64) -> String {
    format!(
        "HttpOnly; Secure; SameSite={}; Path=/; Max-Age={max_age}",
        same_site.as_str()
    )
}

/// `Set-Cookie` value carrying a new refresh token.
pub fn refresh_cookie(config: &Config, token: &RefreshToken) -> String {
    format!(
        "{REFRESH_COOKIE}={}; {}",
        token.expose(),
        attributes(config.cookie_same_site, REFRESH_ABSOLUTE_TTL_SECS)
    )
}

/// `Set-Cookie` value that deletes the refresh cookie.
pub fn cleared_refresh_cookie(config: &Config) -> String {
    format!(
        "{REFRESH_COOKIE}=; {}",
        attributes(config.cookie_same_site, 0)
    )
}

/// The refresh token a request carries. Missing or malformed -> 401 (no `WWW-Authenticate`:
/// this is not a Bearer route).
pub fn refresh_token_of(req: &Request) -> Result<RefreshToken, ApiError> {
    let value = req
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == REFRESH_COOKIE)
        .map(|(_, value)| value.trim().trim_matches('"'));
    let Some(value) = value else {
        return Err(refresh_unauthorized("a refresh cookie is required"));
    };
    RefreshToken::parse(value).ok_or(refresh_unauthorized(
        "the refresh token is invalid or expired",
    ))
}

/// 401 about the refresh cookie.
pub fn refresh_unauthorized(detail: &'static str) -> ApiError {
    ApiError::Unauthorized {
        credential: Credential::RefreshCookie,
        detail,
    }
}

/// Cookie-authenticated routes refuse requests from foreign pages: a present `Origin` that is
/// not allowed -> 403, before the cookie is even read.
pub fn require_allowed_origin(config: &Config, req: &Request) -> Result<(), ApiError> {
    match req.headers().get(header::ORIGIN) {
        None => Ok(()),
        Some(origin) => match origin.to_str() {
            Ok(origin) if config.is_allowed_origin(origin) => Ok(()),
            _ => Err(ApiError::Forbidden(
                "requests from this origin are not allowed",
            )),
        },
    }
}
