//! Cookie syntax, with no request or configuration type: the `SameSite` attribute (parsed from
//! its setting), the one attribute set of the API's cookies, and finding a cookie among
//! `Cookie` header values. The refresh cookie built from these lives at the HTTP edge
//! (`http::refresh_cookie`).

/// `SameSite` attribute of the refresh cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    Strict,
    Lax,
    None,
}

impl SameSite {
    /// A setting's value, case-insensitive (`strict`, `Lax`, `NONE`).
    pub fn parse(setting: &str) -> Option<Self> {
        [Self::Strict, Self::Lax, Self::None]
            .into_iter()
            .find(|same_site| same_site.as_str().eq_ignore_ascii_case(setting))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Strict => "Strict",
            Self::Lax => "Lax",
            Self::None => "None",
        }
    }
}

/// A `Set-Cookie` value: `HttpOnly` (out of reach of scripts), `Secure` and `Path=/` (as a
/// `__Host-` name requires), and the given `SameSite` and `Max-Age` (0 deletes the cookie).
pub fn set_cookie(name: &str, value: &str, same_site: SameSite, max_age_secs: i64) -> String {
    format!(
        "{name}={value}; HttpOnly; Secure; SameSite={}; Path=/; Max-Age={max_age_secs}",
        same_site.as_str()
    )
}

/// The value of the cookie `name` among `Cookie` header values (unquoted), if sent.
pub fn find<'a>(header_values: impl IntoIterator<Item = &'a str>, name: &str) -> Option<&'a str> {
    header_values
        .into_iter()
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.trim().trim_matches('"'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_site_settings_are_case_insensitive() {
        assert_eq!(SameSite::parse("strict"), Some(SameSite::Strict));
        assert_eq!(SameSite::parse("LAX"), Some(SameSite::Lax));
        assert_eq!(SameSite::parse("None"), Some(SameSite::None));
        assert_eq!(SameSite::parse("sometimes"), None);
    }

    #[test]
    fn a_cookie_is_found_by_its_exact_name() {
        let headers = ["theme=dark; a_b=\"1\"", "b=2"];
        assert_eq!(find(headers, "a_b"), Some("1"));
        assert_eq!(find(headers, "b"), Some("2"));
        assert_eq!(find(headers, "a"), None);
    }
}
