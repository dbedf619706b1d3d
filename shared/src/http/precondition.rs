//! Precondition headers of writes (`If-Match`, and `If-None-Match: *` of a PUT that may
//! create), read into the domain's preconditions (`domain::precondition`).

use lambda_http::http::header;

use super::Request;
use crate::domain::{IfMatch, IfNoneMatch, PutPrecondition};
use crate::error::ApiError;

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
}

impl IfNoneMatch {
    /// Reads every `If-None-Match` header. Only `*` means something to a write (RFC 9110
    /// §13.1.2: a list of tags is for conditional reads), so anything else is a malformed
    /// request (400), not silently ignored: a client sending `If-None-Match: "3"` to a PUT
    /// would otherwise overwrite version 3.
    pub fn from_request(req: &Request) -> Result<Self, ApiError> {
        let mut found = Self::Absent;
        for value in req.headers().get_all(header::IF_NONE_MATCH) {
            match value.to_str().map(str::trim) {
                Ok("*") => found = Self::Any,
                _ => {
                    return Err(ApiError::BadRequest(
                        "If-None-Match on a write must be *".into(),
                    ));
                }
            }
        }
        Ok(found)
    }
}

impl PutPrecondition {
    /// Both headers at once can never hold together (a task either exists or not): a 400 that
    /// says so, rather than a 412 whatever the state.
    pub fn from_request(req: &Request) -> Result<Self, ApiError> {
        match (IfMatch::from_request(req)?, IfNoneMatch::from_request(req)?) {
            (IfMatch::Any, IfNoneMatch::Absent) => Ok(Self::Upsert),
            (IfMatch::Any, IfNoneMatch::Any) => Ok(Self::CreateOnly),
            (if_match, IfNoneMatch::Absent) => Ok(Self::ReplaceOnly(if_match)),
            (_, IfNoneMatch::Any) => Err(ApiError::BadRequest(
                "If-Match and If-None-Match: * exclude each other: a PUT replaces or creates"
                    .into(),
            )),
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

    fn if_none_match(values: &[&str]) -> Result<IfNoneMatch, ApiError> {
        let mut builder = lambda_http::http::Request::builder();
        for v in values {
            builder = builder.header("if-none-match", *v);
        }
        IfNoneMatch::from_request(&builder.body(lambda_http::Body::Empty).unwrap())
    }

    #[test]
    fn put_preconditions_choose_create_replace_or_either() {
        let put = |headers: &[(&str, &str)]| {
            let mut builder = lambda_http::http::Request::builder();
            for (k, v) in headers {
                builder = builder.header(*k, *v);
            }
            PutPrecondition::from_request(&builder.body(lambda_http::Body::Empty).unwrap())
        };
        assert_eq!(put(&[]).unwrap(), PutPrecondition::Upsert);
        assert_eq!(
            put(&[("if-none-match", "*")]).unwrap(),
            PutPrecondition::CreateOnly
        );
        assert_eq!(
            put(&[("if-match", "\"2\"")]).unwrap(),
            PutPrecondition::ReplaceOnly(IfMatch::Versions(vec![2]))
        );
        let both = put(&[("if-match", "*"), ("if-none-match", "*")]);
        assert_eq!(both.unwrap_err().status(), 400);
        assert_eq!(
            put(&[("if-none-match", "\"1\"")]).unwrap_err().status(),
            400
        );
    }

    #[test]
    fn if_none_match_on_a_write_is_star_or_a_400() {
        assert_eq!(if_none_match(&[]).unwrap(), IfNoneMatch::Absent);
        assert_eq!(if_none_match(&["*"]).unwrap(), IfNoneMatch::Any);
        assert_eq!(if_none_match(&[" * "]).unwrap(), IfNoneMatch::Any);
        for bad in ["\"3\"", "W/\"1\"", "", "*, \"1\""] {
            assert_eq!(if_none_match(&[bad]).unwrap_err().status(), 400, "{bad}");
        }
    }
}
