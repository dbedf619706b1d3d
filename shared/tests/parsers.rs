//! Property tests over every parser of request data: whatever a client sends, parsing ends in
//! a value or a clean 4xx (never a panic, never a 5xx), and valid input reads back as sent.

use lambda_http::Body;
use lambda_http::http::HeaderValue;
use proptest::prelude::*;
use serde_json::{Map, Value};
use taskline::auth::{FamilyId, RefreshToken, UserId, bearer_token};
use taskline::domain::IfMatch;
use taskline::http::{REFRESH_COOKIE, Request, form_or_json_object, json_object, refresh_token_of};
use taskline::tasks::{
    CursorKeys, ListFilters, ListPosition, ListQuery, Order, Priority, TaskCreate, TaskId,
    TaskPatch, Timestamp, TimestampError,
};
use time::{Duration, OffsetDateTime, UtcOffset};

fn request(headers: &[(&str, HeaderValue)], body: Vec<u8>) -> Request {
    let mut builder = lambda_http::http::Request::builder()
        .method("POST")
        .uri("/v1/tasks");
    for (name, value) in headers {
        builder = builder.header(*name, value.clone());
    }
    builder.body(Body::from(body)).unwrap()
}

/// Any value a header can hold, including bytes that are not UTF-8.
fn header_value() -> impl Strategy<Value = HeaderValue> {
    prop::collection::vec(any::<u8>(), 0..80)
        .prop_filter_map("not a header value", |b| HeaderValue::from_bytes(&b).ok())
}

fn content_type() -> impl Strategy<Value = HeaderValue> {
    prop_oneof![
        Just(HeaderValue::from_static("application/json")),
        Just(HeaderValue::from_static("application/json; charset=utf-8")),
        Just(HeaderValue::from_static("application/merge-patch+json")),
        Just(HeaderValue::from_static(
            "application/x-www-form-urlencoded"
        )),
        header_value(),
    ]
}

/// JSON without floats (their text form need not round-trip exactly).
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn json_object_value() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map(
        prop_oneof![
            Just("title".to_string()),
            Just("description".to_string()),
            Just("completed".to_string()),
            Just("priority".to_string()),
            Just("due_date".to_string()),
            Just("version".to_string()),
            any::<String>(),
        ],
        json_value(),
        0..6,
    )
    .prop_map(|m| m.into_iter().collect())
}

fn is_client_error(status: u16) -> bool {
    (400..500).contains(&status)
}

/// Unix seconds of 0000-01-01T00:00:00Z and of 9999-12-31T23:59:59Z: the range of due dates.
const MIN_UNIX_SECS: i64 = -62_167_219_200;
const MAX_UNIX_SECS: i64 = 253_402_300_799;

/// An RFC 3339 string for `utc` written in `offset` with the first `digits` digits of its
/// nanoseconds, and the timestamp the API must read from it.
fn rfc3339(utc: OffsetDateTime, offset: UtcOffset, digits: usize) -> String {
    let local = utc.to_offset(offset);
    let nanos = format!("{:09}", local.nanosecond());
    let fraction = if digits == 0 {
        String::new()
    } else {
        format!(".{}", &nanos[..digits])
    };
    let (h, m, _) = offset.as_hms();
    let zone = if offset.is_utc() {
        "Z".to_string()
    } else {
        let sign = if offset.is_negative() { '-' } else { '+' };
        format!("{sign}{:02}:{:02}", h.unsigned_abs(), m.unsigned_abs())
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{fraction}{zone}",
        local.year(),
        u8::from(local.month()),
        local.day(),
        local.hour(),
        local.minute(),
        local.second()
    )
}

/// A time in the valid range, an offset that keeps its local year four digits, and a
/// fraction precision.
fn valid_time() -> impl Strategy<Value = (OffsetDateTime, UtcOffset, usize)> {
    (
        MIN_UNIX_SECS..=MAX_UNIX_SECS,
        0u32..1_000_000_000,
        -1439i32..=1439,
        0usize..=9,
    )
        .prop_filter_map(
            "local year out of 0000..=9999",
            |(secs, nanos, minutes, digits)| {
                let utc = OffsetDateTime::from_unix_timestamp(secs).ok()?
                    + Duration::nanoseconds(i64::from(nanos));
                let offset = UtcOffset::from_whole_seconds(minutes * 60).ok()?;
                let local = utc.checked_to_offset(offset)?;
                (0..=9999)
                    .contains(&local.year())
                    .then_some((utc, offset, digits))
            },
        )
}

fn priority() -> impl Strategy<Value = Priority> {
    prop_oneof![
        Just(Priority::Low),
        Just(Priority::Medium),
        Just(Priority::High)
    ]
}

fn filters() -> impl Strategy<Value = ListFilters> {
    (
        prop::option::of(any::<bool>()),
        prop::option::of(priority()),
        prop::option::of("[a-z0-9äß日 ]{1,20}"),
        prop_oneof![Just(Order::Asc), Just(Order::Desc)],
    )
        .prop_map(|(completed, priority, q, order)| ListFilters {
            completed,
            priority,
            q: q.map(|q| q.trim().to_lowercase()).filter(|q| !q.is_empty()),
            order,
            ..ListFilters::default()
        })
}

fn keys() -> CursorKeys {
    CursorKeys::new(b"property-test-cursor-key-0123456789")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn json_bodies_parse_or_are_refused_cleanly(
        ct in content_type(),
        body in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..200),
            json_value().prop_map(|v| v.to_string().into_bytes()),
        ],
    ) {
        for accept_form in [false, true] {
            let req = request(&[("content-type", ct.clone())], body.clone());
            let parsed = if accept_form { form_or_json_object(&req) } else { json_object(&req) };
            if let Err(err) = parsed {
                prop_assert!(is_client_error(err.status().as_u16()), "{err:?}");
            }
        }
    }

    #[test]
    fn json_objects_round_trip(object in json_object_value()) {
        let body = Value::Object(object.clone()).to_string().into_bytes();
        let req = request(&[("content-type", HeaderValue::from_static("application/json"))], body);
        prop_assert_eq!(json_object(&req).unwrap(), object);
    }

    #[test]
    fn forms_round_trip(form in prop::collection::btree_map(".{1,12}", ".{0,12}", 0..5)) {
        let body = serde_urlencoded::to_string(&form).unwrap().into_bytes();
        let req = request(
            &[("content-type", HeaderValue::from_static("application/x-www-form-urlencoded"))],
            body,
        );
        let expected: Map<String, Value> =
            form.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
        prop_assert_eq!(form_or_json_object(&req).unwrap(), expected);
    }

    #[test]
    fn task_bodies_are_tasks_or_field_errors(object in json_object_value()) {
        if let Err(err) = TaskCreate::parse(object.clone()) {
            prop_assert_eq!(err.status().as_u16(), 422);
        }
        if let Err(err) = TaskPatch::parse(object) {
            prop_assert_eq!(err.status().as_u16(), 422);
        }
    }

    #[test]
    fn query_strings_parse_or_are_400(raw in prop_oneof![
        any::<String>(),
        "((completed|priority|q|order|limit|cursor|x)=[a-z0-9%+&=]{0,6}&?){0,4}",
    ]) {
        if let Err(err) = ListQuery::parse(Some(&raw)) {
            prop_assert_eq!(err.status().as_u16(), 400);
        }
    }

    #[test]
    fn list_queries_round_trip(
        filters in filters(),
        limit in 1usize..=100,
        cursor in prop::option::of("[A-Za-z0-9_-]{1,80}"),
    ) {
        let mut pairs: Vec<(&str, String)> = vec![
            ("order", filters.order.as_str().to_string()),
            ("limit", limit.to_string()),
        ];
        if let Some(c) = filters.completed { pairs.push(("completed", c.to_string())); }
        if let Some(p) = filters.priority { pairs.push(("priority", p.as_str().to_string())); }
        if let Some(q) = &filters.q { pairs.push(("q", q.clone())); }
        if let Some(c) = &cursor { pairs.push(("cursor", c.clone())); }
        let raw = serde_urlencoded::to_string(&pairs).unwrap();
        let parsed = ListQuery::parse(Some(&raw)).unwrap();
        prop_assert_eq!(parsed, ListQuery { filters, limit, cursor });
    }

    #[test]
    fn if_match_parses_or_is_400(values in prop::collection::vec(header_value(), 0..3)) {
        let headers: Vec<(&str, HeaderValue)> =
            values.into_iter().map(|v| ("if-match", v)).collect();
        if let Err(err) = IfMatch::from_request(&request(&headers, Vec::new())) {
            prop_assert_eq!(err.status().as_u16(), 400);
        }
    }

    #[test]
    fn if_match_versions_round_trip(versions in prop::collection::vec(any::<u64>(), 1..5)) {
        let value = versions.iter().map(|v| format!("\"{v}\"")).collect::<Vec<_>>().join(", ");
        let headers = [("if-match", HeaderValue::from_str(&value).unwrap())];
        let parsed = IfMatch::from_request(&request(&headers, Vec::new())).unwrap();
        prop_assert_eq!(parsed, IfMatch::Versions(versions));
    }

    #[test]
    fn cookie_headers_give_the_refresh_token_or_401(values in prop::collection::vec(header_value(), 0..3)) {
        let headers: Vec<(&str, HeaderValue)> = values.into_iter().map(|v| ("cookie", v)).collect();
        if let Err(err) = refresh_token_of(&request(&headers, Vec::new())) {
            prop_assert_eq!(err.status().as_u16(), 401);
        }
    }

    #[test]
    fn the_refresh_cookie_is_found_among_any_others(
        before in prop::collection::vec(("[a-z_]{1,10}", "[A-Za-z0-9_-]{0,20}"), 0..4),
        after in prop::collection::vec(("[a-z_]{1,10}", "[A-Za-z0-9_-]{0,20}"), 0..4),
    ) {
        let token = RefreshToken::generate(UserId::generate(), FamilyId::generate()).unwrap();
        let mut cookies: Vec<String> = before.iter().map(|(k, v)| format!("{k}={v}")).collect();
        cookies.push(format!("{REFRESH_COOKIE}={}", token.expose()));
        cookies.extend(after.iter().map(|(k, v)| format!("{k}={v}")));
        let headers = [("cookie", HeaderValue::from_str(&cookies.join("; ")).unwrap())];
        let found = refresh_token_of(&request(&headers, Vec::new())).unwrap();
        prop_assert_eq!(found.hash(), token.hash());
    }

    #[test]
    fn authorization_headers_give_a_token_or_401(value in prop::option::of(any::<String>())) {
        if let Err(err) = bearer_token(value.as_deref()) {
            prop_assert_eq!(err.status().as_u16(), 401);
        }
    }

    #[test]
    fn bearer_tokens_round_trip(scheme in "[bB][eE][aA][rR][eE][rR]", token in "[A-Za-z0-9._~+/=-]{1,200}") {
        let header = format!("{scheme} {token}");
        prop_assert_eq!(bearer_token(Some(&header)).unwrap(), token.as_str());
    }

    #[test]
    fn timestamps_parse_or_are_refused(s in prop_oneof![
        any::<String>(),
        "[0-9]{4}-[01][0-9]-[0-3][0-9][Tt ][0-2][0-9]:[0-5][0-9]:[0-6][0-9](\\.[0-9]{1,12})?([Zz]|[+-][0-2][0-9]:[0-5][0-9])",
    ]) {
        if let Some(t) = Timestamp::parse(&s) {
            // Whatever is accepted can be written and read back unchanged.
            let written = t.to_rfc3339();
            prop_assert_eq!(written.len(), "2026-01-01T00:00:00.000Z".len());
            prop_assert_eq!(Timestamp::parse(&written), Some(t));
        }
    }

    #[test]
    fn times_in_range_round_trip_at_millisecond_precision((utc, offset, digits) in valid_time()) {
        let sent = rfc3339(utc, offset, digits);
        let kept_nanos = {
            let unit = 10u32.pow(u32::try_from(9 - digits).unwrap());
            utc.nanosecond() / unit * unit
        };
        let expected = utc.replace_nanosecond(kept_nanos / 1_000_000 * 1_000_000).unwrap();
        let parsed = Timestamp::parse_rfc3339(&sent).unwrap();
        let written = parsed.to_rfc3339();
        prop_assert_eq!(
            OffsetDateTime::parse(&written, &time::format_description::well_known::Rfc3339).unwrap(),
            expected,
            "{} -> {}", sent, written
        );
        prop_assert_eq!(Timestamp::parse(&written), Some(parsed));
    }

    #[test]
    fn times_past_either_end_are_out_of_range(
        (minutes, second_of_day) in (1u32..=1439).prop_flat_map(|m| (Just(m), 0..m * 60)),
        after_end in any::<bool>(),
    ) {
        // A local time within `minutes` of the calendar's edge, with an offset that carries
        // it over in UTC: 9999-12-31 west of UTC, or 0000-01-01 east of it.
        let (date, sign, seconds) = if after_end {
            ("9999-12-31", '-', 86_399 - second_of_day)
        } else {
            ("0000-01-01", '+', second_of_day)
        };
        let sent = format!(
            "{date}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
            seconds / 3600,
            seconds / 60 % 60,
            seconds % 60,
            minutes / 60,
            minutes % 60
        );
        prop_assert_eq!(Timestamp::parse_rfc3339(&sent), Err(TimestampError::OutOfRange), "{}", sent);
    }

    #[test]
    fn arbitrary_cursors_are_400(cursor in prop_oneof![
        any::<String>(),
        "[A-Za-z0-9_-]{60,70}",
    ], filters in filters()) {
        let err = keys().open(UserId::generate(), &filters, &cursor).unwrap_err();
        prop_assert_eq!(err.status().as_u16(), 400);
    }

    #[test]
    fn cursors_round_trip(filters in filters()) {
        let user = UserId::generate();
        let position = ListPosition::after(TaskId::generate());
        let cursor = keys().seal(user, &filters, &position, Timestamp::now()).unwrap();
        prop_assert_eq!(keys().open(user, &filters, &cursor).unwrap().position, position);
    }
}
