//! The refresh cookie at the edge: `__Host-` prefixed (so `Secure`, `Path=/` and no `Domain`
//! are enforced by browsers too), `HttpOnly` (out of reach of scripts), `SameSite` from
//! configuration; read from requests, and the origin check of every route that sets or reads it.

use lambda_http::http::header;

use super::{Request, header_str};
use crate::auth::{REFRESH_ABSOLUTE_TTL_SECS, RefreshToken};
use crate::config::Config;
use crate::cookie::{find, set_cookie};
use crate::error::{ApiError, Credential};

pub const REFRESH_COOKIE: &str = "__Host-taskline_refresh";

/// `Set-Cookie` value carrying a new refresh token.
pub fn refresh_cookie(config: &Config, token: &RefreshToken) -> String {
    set_cookie(
        REFRESH_COOKIE,
        token.expose(),
        config.cookie_same_site,
        REFRESH_ABSOLUTE_TTL_SECS,
    )
}

/// `Set-Cookie` value that deletes the refresh cookie.
pub fn cleared_refresh_cookie(config: &Config) -> String {
    set_cookie(REFRESH_COOKIE, "", config.cookie_same_site, 0)
}

/// The refresh token a request carries. Missing or malformed -> 401 (no `WWW-Authenticate`:
/// this is not a Bearer route).
pub fn refresh_token_of(req: &Request) -> Result<RefreshToken, ApiError> {
    let cookies = req.headers().get_all(header::COOKIE);
    let value = find(
        cookies.iter().filter_map(|v| v.to_str().ok()),
        REFRESH_COOKIE,
    );
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

/// Routes that set or read the refresh cookie (register, login, refresh, logout) refuse
/// requests from foreign pages: a present `Origin` that is not allowed, or `Sec-Fetch-Site:
/// cross-site`, -> 403 before anything else is read. A top-level form POST is a CORS "simple"
/// request, so without this a foreign page could log a browser into the attacker's account
/// (the cookie set by a navigation is kept despite `SameSite=Strict`). Requests without
/// `Origin` (curl, servers) pass, and so do same-origin ones (`Origin` naming the `Host` the
/// request was sent to: the docs page's OAuth2 "Authorize" dialog on the API's own origin);
/// a foreign page cannot make a browser send another site's `Host` with its own `Origin`.
pub fn require_allowed_origin(config: &Config, req: &Request) -> Result<(), ApiError> {
    const FORBIDDEN: ApiError = ApiError::Forbidden("requests from this origin are not allowed");
    let cross_site = req.headers().get_all("sec-fetch-site").iter().any(|v| {
        v.as_bytes()
            .trim_ascii()
            .eq_ignore_ascii_case(b"cross-site")
    });
    if cross_site {
        return Err(FORBIDDEN);
    }
    match req.headers().get(header::ORIGIN) {
        None => Ok(()),
        Some(origin) => match origin.to_str() {
            Ok(origin) if config.is_allowed_origin(origin) => Ok(()),
            Ok(origin) if is_same_origin(origin, header_str(req.headers(), header::HOST)) => Ok(()),
            _ => Err(FORBIDDEN),
        },
    }
}

/// Whether `origin` (`scheme://authority`) names the authority of the request's `Host`.
fn is_same_origin(origin: &str, host: Option<&str>) -> bool {
    let authority = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    match (authority, host) {
        (Some(authority), Some(host)) => !host.is_empty() && authority.eq_ignore_ascii_case(host),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{FamilyId, UserId};
    use crate::config::test_config;

    #[test]
    fn an_origin_naming_the_requests_own_host_is_same_origin() {
        assert!(is_same_origin(
            "http://127.0.0.1:9000",
            Some("127.0.0.1:9000")
        ));
        assert!(is_same_origin(
            "https://API.example.com",
            Some("api.example.com")
        ));
        assert!(!is_same_origin(
            "https://evil.example",
            Some("api.example.com")
        ));
        assert!(!is_same_origin(
            "https://api.example.com.evil",
            Some("api.example.com")
        ));
        assert!(!is_same_origin("null", Some("null")));
        assert!(!is_same_origin("https://api.example.com", None));
        assert!(!is_same_origin("https://", Some("")));
    }

    fn config(same_site: &str) -> Config {
        test_config(&[("COOKIE_SAMESITE", same_site)])
    }

    fn request(headers: &[(&str, &str)]) -> Request {
        let mut builder = lambda_http::http::Request::builder()
            .method("POST")
            .uri("/v1/auth/refresh");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(lambda_http::Body::Empty).unwrap()
    }

    #[test]
    fn cookies_carry_exactly_the_attributes_of_the_contract() {
        let token = RefreshToken::generate(UserId::generate(), FamilyId::generate()).unwrap();
        assert_eq!(
            refresh_cookie(&config("Strict"), &token),
            format!(
                "__Host-taskline_refresh={}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=2592000",
                token.expose()
            )
        );
        assert_eq!(
            cleared_refresh_cookie(&config("None")),
            "__Host-taskline_refresh=; HttpOnly; Secure; SameSite=None; Path=/; Max-Age=0"
        );
    }

    #[test]
    fn the_refresh_cookie_is_found_among_others() {
        let token = RefreshToken::generate(UserId::generate(), FamilyId::generate()).unwrap();
        let header = format!("theme=dark; {REFRESH_COOKIE}={}; lang=en", token.expose());
        let found = refresh_token_of(&request(&[("cookie", &header)])).unwrap();
        assert_eq!(found.hash(), token.hash());
        // A look-alike name is not our cookie.
        let header = format!("taskline_refresh={}", token.expose());
        assert_eq!(
            refresh_token_of(&request(&[("cookie", &header)]))
                .unwrap_err()
                .status(),
            401
        );
        assert_eq!(refresh_token_of(&request(&[])).unwrap_err().status(), 401);
    }

    #[test]
    fn only_absent_or_allowed_origins_pass() {
        let config = config("Strict");
        assert!(require_allowed_origin(&config, &request(&[])).is_ok());
        assert!(
            require_allowed_origin(&config, &request(&[("origin", "http://localhost:5173")]))
                .is_ok()
        );
        for origin in ["null", "http://localhost:5174", "https://localhost:5173"] {
            let err = require_allowed_origin(&config, &request(&[("origin", origin)])).unwrap_err();
            assert_eq!(err.status(), 403, "{origin}");
        }
    }

    #[test]
    fn cross_site_fetches_are_refused_even_without_origin() {
        let config = config("Strict");
        for value in ["cross-site", "Cross-Site "] {
            let err = require_allowed_origin(&config, &request(&[("sec-fetch-site", value)]))
                .unwrap_err();
            assert_eq!(err.status(), 403, "{value}");
        }
        let allowed = ("origin", "http://localhost:5173");
        let err = require_allowed_origin(
            &config,
            &request(&[allowed, ("sec-fetch-site", "cross-site")]),
        )
        .unwrap_err();
        assert_eq!(err.status(), 403);
        // The SPA on another port of localhost is same-site; tools send nothing.
        for value in ["same-site", "same-origin", "none"] {
            assert!(
                require_allowed_origin(&config, &request(&[allowed, ("sec-fetch-site", value)]))
                    .is_ok(),
                "{value}"
            );
        }
    }
}
