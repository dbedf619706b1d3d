//! Request bodies: size limit (413), media type (415), syntax (400), then field-by-field
//! parsing into domain types that collects every field error at once (422).

use lambda_http::http::header;
use serde_json::{Map, Value};

use super::{Request, header_str};
use crate::error::ApiError;

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

const JSON: &str = "application/json";
const FORM: &str = "application/x-www-form-urlencoded";

/// The body as a JSON object. Anything else (form data, a JSON array) is refused.
pub fn json_object(req: &Request) -> Result<Map<String, Value>, ApiError> {
    read_object(req, false)
}

/// The body as a JSON object, or an `application/x-www-form-urlencoded` form read as an object
/// of strings (used by the OAuth2 password form of login).
pub fn form_or_json_object(req: &Request) -> Result<Map<String, Value>, ApiError> {
    read_object(req, true)
}

fn read_object(req: &Request, accept_form: bool) -> Result<Map<String, Value>, ApiError> {
    let bytes = req.body().as_ref();
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    let expected = if accept_form {
        "application/json or application/x-www-form-urlencoded"
    } else {
        JSON
    };
    let media_type = header_str(req.headers(), header::CONTENT_TYPE)
        .map(|ct| {
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .ok_or(ApiError::UnsupportedMediaType { expected })?;

    if media_type == JSON
        || (media_type.starts_with("application/") && media_type.ends_with("+json"))
    {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::BadRequest("request body is empty".into()));
        }
        let value: Value = serde_json::from_slice(bytes).map_err(|e| {
            ApiError::BadRequest(format!(
                "request body is not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            ))
        })?;
        match value {
            Value::Object(map) => Ok(map),
            _ => Err(ApiError::validation("", "the body must be a JSON object")),
        }
    } else if accept_form && media_type == FORM {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes)
            .map_err(|_| ApiError::BadRequest("request body is not a valid form".into()))?;
        let mut map = Map::new();
        for (key, value) in pairs {
            if map.insert(key.clone(), Value::String(value)).is_some() {
                return Err(ApiError::BadRequest(format!(
                    "form field {key:?} is repeated"
                )));
            }
        }
        Ok(map)
    } else {
        Err(ApiError::UnsupportedMediaType { expected })
    }
}

pub use crate::fields::{Field, Fields};
pub use crate::text::string;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::FieldError;
    use serde_json::json;

    fn fields(value: Value) -> Fields {
        match value {
            Value::Object(map) => Fields::new(map),
            _ => unreachable!(),
        }
    }

    fn text(value: &Value) -> Result<String, String> {
        string(value).map(str::to_string)
    }

    fn request(content_type: Option<&str>, body: &[u8]) -> Request {
        let mut builder = lambda_http::http::Request::builder()
            .method("POST")
            .uri("/v1/tasks");
        if let Some(ct) = content_type {
            builder = builder.header("content-type", ct);
        }
        builder
            .body(lambda_http::Body::from(body.to_vec()))
            .unwrap()
    }

    #[test]
    fn body_over_64_kib_is_413() {
        let big = format!("{{\"title\": \"{}\"}}", "x".repeat(MAX_BODY_BYTES));
        let err = json_object(&request(Some(JSON), big.as_bytes())).unwrap_err();
        assert_eq!(err.status(), 413);
        let exactly = format!("{{\"a\":\"{}\"}}", "x".repeat(MAX_BODY_BYTES - 8));
        assert_eq!(exactly.len(), MAX_BODY_BYTES);
        assert!(json_object(&request(Some(JSON), exactly.as_bytes())).is_ok());
    }

    #[test]
    fn non_json_media_type_is_415() {
        for ct in [
            None,
            Some("text/plain"),
            Some(FORM),
            Some("multipart/form-data"),
        ] {
            let err = json_object(&request(ct, b"{}")).unwrap_err();
            assert_eq!(err.status(), 415, "{ct:?}");
        }
        assert!(json_object(&request(Some("application/json; charset=utf-8"), b"{}")).is_ok());
        assert!(json_object(&request(Some("Application/JSON"), b"{}")).is_ok());
    }

    #[test]
    fn malformed_json_is_400_and_non_objects_are_422() {
        for body in [&b"{"[..], b"", b"  ", b"{\"a\": }", b"\xff"] {
            assert_eq!(
                json_object(&request(Some(JSON), body))
                    .unwrap_err()
                    .status(),
                400
            );
        }
        for body in [&b"[]"[..], b"42", b"\"text\"", b"null"] {
            assert_eq!(
                json_object(&request(Some(JSON), body))
                    .unwrap_err()
                    .status(),
                422
            );
        }
    }

    #[test]
    fn forms_are_read_as_strings_only_where_accepted() {
        let req = request(Some(FORM), b"username=a%40b.c&password=p+w");
        let map = form_or_json_object(&req).unwrap();
        assert_eq!(map["username"], "a@b.c");
        assert_eq!(map["password"], "p w");
        let repeated = request(Some(FORM), b"a=1&a=2");
        assert_eq!(form_or_json_object(&repeated).unwrap_err().status(), 400);
    }

    #[test]
    fn collects_every_error_at_once() {
        let mut f = fields(json!({"name": 5, "extra": true})).read_only(&["id"]);
        let name = f.required("name", text);
        let email = f.required("email", text);
        let err = f.finish(|| Some((name?, email?))).unwrap_err();
        let ApiError::Validation(errors) = err else {
            panic!("expected validation error")
        };
        let by_field: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(by_field, ["name", "email", "extra"]);
    }

    #[test]
    fn server_owned_fields_are_read_only() {
        let mut f = fields(json!({"id": "x", "name": "a"})).read_only(&["id", "version"]);
        let name = f.required("name", text);
        let ApiError::Validation(errors) = f.finish(|| name).unwrap_err() else {
            panic!()
        };
        assert_eq!(
            errors,
            [FieldError::new("id", "is read-only and cannot be set")]
        );
    }

    #[test]
    fn distinguishes_absent_null_and_value() {
        let mut f = fields(json!({"a": null, "b": "x"}));
        assert_eq!(f.field("a", text), Some(Field::Null));
        assert_eq!(f.field("b", text), Some(Field::Value("x".into())));
        assert_eq!(f.field("c", text), Some(Field::Absent));
        assert_eq!(f.optional("c", "d".to_string(), text), Some("d".into()));
        assert!(f.finish(|| Some(())).is_ok());
    }
}
