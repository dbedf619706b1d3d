//! The device cookie at the edge (see `auth::device`): set by every successful login, sent back
//! by the browser with its next ones. The same attributes as the refresh cookie: `__Host-`
//! prefixed (so `Secure`, `Path=/` and no `Domain`), `HttpOnly`, `SameSite` from configuration.
//! Browsers keep `Secure` cookies of `http://localhost` as well, so it works in local
//! development like the refresh cookie.

use lambda_http::http::header;

use super::Request;
use crate::auth::{DEVICE_COOKIE_TTL_SECS, DeviceToken};
use crate::config::Config;
use crate::cookie::{find, set_cookie};

pub const DEVICE_COOKIE: &str = "__Host-taskline_device";

/// `Set-Cookie` value carrying a new device cookie.
pub fn device_cookie(config: &Config, token: &DeviceToken) -> String {
    set_cookie(
        DEVICE_COOKIE,
        token.expose(),
        config.cookie_same_site,
        DEVICE_COOKIE_TTL_SECS,
    )
}

/// The device cookie's value a request carries, if any (opened by `auth::DeviceKeys`).
pub fn device_cookie_of(req: &Request) -> Option<&str> {
    let cookies = req.headers().get_all(header::COOKIE);
    find(
        cookies.iter().filter_map(|v| v.to_str().ok()),
        DEVICE_COOKIE,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{DeviceKeys, UserId};
    use crate::config::test_config;

    #[test]
    fn the_cookie_carries_the_attributes_of_the_refresh_cookie_for_180_days() {
        let token = DeviceKeys::new(b"0123456789abcdef0123456789abcdef")
            .issue(UserId::generate(), 1_800_000_000)
            .unwrap();
        assert_eq!(
            device_cookie(&test_config(&[("COOKIE_SAMESITE", "Lax")]), &token),
            format!(
                "__Host-taskline_device={}; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=15552000",
                token.expose()
            )
        );
    }

    #[test]
    fn the_device_cookie_is_found_among_others() {
        let request = |cookie: &str| {
            lambda_http::http::Request::builder()
                .header("cookie", cookie)
                .body(lambda_http::Body::Empty)
                .unwrap()
        };
        let req = request("theme=dark; __Host-taskline_device=abc; __Host-taskline_refresh=r");
        assert_eq!(device_cookie_of(&req), Some("abc"));
        assert_eq!(device_cookie_of(&request("taskline_device=abc")), None);
    }
}
