//! The `Idempotency-Key` request header (draft-ietf-httpapi-idempotency-key-header).

use super::Request;
use crate::domain::IdempotencyKey;
use crate::error::ApiError;

/// The header's name (`http` has no constant for a draft's header).
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// The request's idempotency key, if it sent one. A malformed key (empty, too long, not
/// printable ASCII) or a repeated header is a 400: a create the client meant to make safe
/// must not silently become an unsafe one.
pub fn idempotency_key(req: &Request) -> Result<Option<IdempotencyKey>, ApiError> {
    let mut values = req.headers().get_all(IDEMPOTENCY_KEY).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(malformed("Idempotency-Key must be sent once"));
    }
    value
        .to_str()
        .ok()
        .and_then(|value| IdempotencyKey::parse(value.trim()))
        .map(Some)
        .ok_or_else(|| malformed("Idempotency-Key must be 1 to 255 printable ASCII characters"))
}

fn malformed(detail: &str) -> ApiError {
    ApiError::BadRequest(detail.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::MAX_IDEMPOTENCY_KEY_CHARS;

    fn key(values: &[&[u8]]) -> Result<Option<IdempotencyKey>, ApiError> {
        let mut builder = lambda_http::http::Request::builder();
        for v in values {
            let value = lambda_http::http::HeaderValue::from_bytes(v).unwrap();
            builder = builder.header(IDEMPOTENCY_KEY, value);
        }
        idempotency_key(&builder.body(lambda_http::Body::Empty).unwrap())
    }

    #[test]
    fn the_key_is_optional_and_a_malformed_one_is_a_400() {
        assert_eq!(key(&[]).unwrap(), None);
        assert_eq!(
            key(&[b"\"8e03978e-40d5-43e8-bc93-6894a57f9324\""]).unwrap(),
            IdempotencyKey::parse("\"8e03978e-40d5-43e8-bc93-6894a57f9324\"")
        );
        let longest = "k".repeat(MAX_IDEMPOTENCY_KEY_CHARS);
        assert!(key(&[longest.as_bytes()]).unwrap().is_some());
        let too_long = "k".repeat(MAX_IDEMPOTENCY_KEY_CHARS + 1);
        for bad in [
            &b""[..],
            b"  ",
            too_long.as_bytes(),
            b"caf\xc3\xa9",
            b"a\tb",
        ] {
            assert_eq!(key(&[bad]).unwrap_err().status(), 400, "{bad:?}");
        }
        assert_eq!(key(&[b"a", b"a"]).unwrap_err().status(), 400);
    }
}
