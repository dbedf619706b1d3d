//! Every value the API accepts round-trips through the store (what is accepted can be read
//! back, never a 500 later): arbitrary
//! valid task inputs (unicode titles, multi-line descriptions, every priority, due dates
//! across the whole range in any offset, completed or not) -> create -> get -> list -> equal.

use crate::common::{create, list, send, task_path};
use devtools::harness::{TestApp, TestRequest};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};
use taskline::text::{TextKind, is_refused};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

/// Cases per run: enough to cover the space over many runs, few enough to take seconds.
const CASES: u32 = 48;

/// Unix seconds of 0000-01-01T00:00:00Z and of 9999-12-31T23:59:59Z.
const MIN_UNIX_SECS: i64 = -62_167_219_200;
const MAX_UNIX_SECS: i64 = 253_402_300_799;

#[derive(Debug, Clone)]
struct Input {
    title: String,
    description: Option<String>,
    completed: bool,
    priority: &'static str,
    /// The due date as sent, and as the API must return it.
    due: Option<(String, String)>,
}

fn text(kind: TextKind, max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(
        any::<char>().prop_filter("refused", move |c| !is_refused(kind, *c)),
        0..max,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

fn title() -> impl Strategy<Value = String> {
    prop_oneof![
        text(TextKind::Line, 40),
        "[ a-zA-Zäöüß日本語🔑]{1,20}",
        Just("é".repeat(255)),
    ]
    .prop_filter("blank", |t| !t.trim().is_empty())
}

/// A time in 0000..=9999 UTC written in an offset (local year also four digits) with 0..=9
/// fraction digits, and the UTC millisecond form the API keeps.
fn due_date() -> impl Strategy<Value = (String, String)> {
    (
        MIN_UNIX_SECS..=MAX_UNIX_SECS,
        0u32..1_000_000_000,
        -1439i32..=1439,
        0usize..=9,
    )
        .prop_filter_map(
            "local year out of range",
            |(secs, nanos, minutes, digits)| {
                let utc = OffsetDateTime::from_unix_timestamp(secs).ok()?
                    + Duration::nanoseconds(i64::from(nanos));
                let offset = UtcOffset::from_whole_seconds(minutes * 60).ok()?;
                let local = utc.checked_to_offset(offset)?;
                if !(0..=9999).contains(&local.year()) {
                    return None;
                }
                let fraction = format!("{:09}", local.nanosecond());
                let fraction = match digits {
                    0 => String::new(),
                    d => format!(".{}", fraction.get(..d)?),
                };
                let zone = if minutes == 0 {
                    "Z".to_string()
                } else {
                    let sign = if minutes < 0 { '-' } else { '+' };
                    let m = minutes.unsigned_abs();
                    format!("{sign}{:02}:{:02}", m / 60, m % 60)
                };
                let sent = format!(
                    "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{fraction}{zone}",
                    local.year(),
                    u8::from(local.month()),
                    local.day(),
                    local.hour(),
                    local.minute(),
                    local.second()
                );
                // Digits past the ones sent, then past milliseconds, are dropped.
                let kept = nanos / 10u32.pow(u32::try_from(9 - digits).ok()?)
                    * 10u32.pow(u32::try_from(9 - digits).ok()?);
                let millis = utc.replace_nanosecond(kept / 1_000_000 * 1_000_000).ok()?;
                let stored = format!(
                    "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                    millis.year(),
                    u8::from(millis.month()),
                    millis.day(),
                    millis.hour(),
                    millis.minute(),
                    millis.second(),
                    millis.millisecond()
                );
                Some((sent, stored))
            },
        )
}

fn input() -> impl Strategy<Value = Input> {
    (
        title(),
        prop::option::of(text(TextKind::Multiline, 60)),
        any::<bool>(),
        prop_oneof![Just("low"), Just("medium"), Just("high")],
        prop::option::of(due_date()),
    )
        .prop_map(|(title, description, completed, priority, due)| Input {
            title,
            description,
            completed,
            priority,
            due,
        })
}

async fn round_trip(t: &TestApp, input: Input) -> Result<(), TestCaseError> {
    // A user per case, so the list holds exactly this task.
    let (_, token) = t.signed_in_user().await;
    let body = json!({
        "title": input.title,
        "description": input.description,
        "completed": input.completed,
        "priority": input.priority,
        "due_date": input.due.as_ref().map(|(sent, _)| sent),
    });
    let created = create(t, &token, body).await;
    prop_assert_eq!(&created["title"], input.title.trim());
    prop_assert_eq!(&created["description"], &json!(input.description));
    prop_assert_eq!(&created["completed"], input.completed);
    prop_assert_eq!(&created["priority"], input.priority);
    prop_assert_eq!(
        &created["due_date"],
        &json!(input.due.as_ref().map(|(_, stored)| stored))
    );
    if let Some((_, stored)) = &input.due {
        prop_assert!(OffsetDateTime::parse(stored, &Rfc3339).is_ok());
    }

    let id = created["id"].as_str().unwrap_or_default();
    let fetched = send(t, TestRequest::get(&task_path(id)).bearer(&token)).await;
    prop_assert_eq!(fetched.status(), 200, "{}", fetched.text());
    prop_assert_eq!(&fetched.json(), &created);

    let page = list(t, &token, "").await;
    prop_assert_eq!(&page["items"], &Value::Array(vec![created.clone()]));
    Ok(())
}

#[test]
fn arbitrary_valid_tasks_round_trip_through_the_store() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let t = runtime.block_on(TestApp::new());
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        // Shrinking re-runs the case against DynamoDB Local: keep it bounded.
        max_shrink_iters: 64,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&input(), |input| runtime.block_on(round_trip(&t, input)))
        .unwrap_or_else(|failure| panic!("{failure}"));
}
