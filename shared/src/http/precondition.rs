//! Precondition headers of writes (`If-Match`), read into what the domain compares versions
//! with.

use lambda_http::http::header;

use super::Request;
use crate::error::ApiError;

/// The `If-Match` precondition of a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// No header: the write applies to whatever version is current (retried on races).
    Any,
    /// `If-Match: *`: the task must exist (as for any write).
    Exists,
    /// One or more versions (`"3"` or `"3", "4"`): the current version must be one of them.
    Versions(Vec<u64>),
}

impl IfMatch {
    /// Reads every `If-Match` header. A value that is not `*` or a list of quoted versions is a
    /// malformed request (400), so a client sending `If-Match: 3` learns why instead of
    /// getting a puzzling 412. Weak tags (`W/"3"`) never match (RFC 9110: strong comparison).
    pub fn from_request(req: &Request) -> Result<Self, ApiError> {
        let mut versions = Vec::new();
        let mut any_header = false;
        for value in req.headers().get_all(header::IF_MATCH) {
            any_header = true;
            let value = value.to_str().map_err(|_| malformed_if_match())?.trim();
            if value == "*" {
                return Ok(Self::Exists);
            }
            for tag in value.split(',').map(str::trim) {
                if let Some(weak) = tag.strip_prefix("W/") {
                    parse_quoted_version(weak).ok_or_else(malformed_if_match)?;
                    continue;
                }
                versions.push(parse_quoted_version(tag).ok_or_else(malformed_if_match)?);
            }
        }
        Ok(if any_header {
            Self::Versions(versions)
        } else {
            Self::Any
        })
    }

    pub fn matches(&self, version: u64) -> bool {
        match self {
            Self::Any | Self::Exists => true,
            Self::Versions(versions) => versions.contains(&version),
        }
    }

    /// As [`Self::matches`] for a stored task whose version may be unreadable: then only a
    /// precondition that names no version holds.
    pub fn matches_stored(&self, version: Option<u64>) -> bool {
        match version {
            Some(version) => self.matches(version),
            None => !matches!(self, Self::Versions(_)),
        }
    }
}

fn parse_quoted_version(tag: &str) -> Option<u64> {
    let inner = tag.strip_prefix('"')?.strip_suffix('"')?;
    if inner.is_empty() || !inner.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    inner.parse().ok()
}

fn malformed_if_match() -> ApiError {
    ApiError::BadRequest(
        "If-Match must be * or a list of quoted versions, e.g. If-Match: \"3\"".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn if_match(values: &[&str]) -> Result<IfMatch, ApiError> {
        let mut builder = lambda_http::http::Request::builder();
        for v in values {
            builder = builder.header("if-match", *v);
        }
        IfMatch::from_request(&builder.body(lambda_http::Body::Empty).unwrap())
    }

    #[test]
    fn if_match_reads_quoted_versions_star_and_refuses_garbage() {
        assert_eq!(if_match(&[]).unwrap(), IfMatch::Any);
        assert_eq!(if_match(&["*"]).unwrap(), IfMatch::Exists);
        assert_eq!(
            if_match(&["\"3\", \"4\"", "\"7\""]).unwrap(),
            IfMatch::Versions(vec![3, 4, 7])
        );
        let weak = if_match(&["W/\"3\""]).unwrap();
        assert!(!weak.matches(3));
        for bad in ["3", "\"\"", "\"abc\"", "\"-1\"", "\"3", ""] {
            assert_eq!(if_match(&[bad]).unwrap_err().status(), 400, "{bad}");
        }
    }
}
