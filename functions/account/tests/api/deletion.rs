//! `DELETE /v1/me` of big accounts: a paged sweep within a time budget, resumable by the
//! client's retry, that leaves nothing behind; and task writes racing it cannot re-create
//! anything.

use crate::common::*;
use aws_sdk_dynamodb::types::AttributeValue;
use devtools::harness::TestApp;
use devtools::seed::{seed_tasks, tasks};
use taskline::auth::UserId;
use taskline::store::{CreateOutcome, WriteOutcome};
use taskline::tasks::TaskFields;

/// Sort keys of every item left in the partition.
async fn sort_keys(t: &TestApp, user: &str) -> Vec<String> {
    t.partition(user)
        .await
        .iter()
        .map(|item| item["sk"].as_s().unwrap().clone())
        .collect()
}

fn user_id(id: &str) -> UserId {
    UserId::parse(id).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_account_of_5000_tasks_and_several_sessions_is_deleted_completely() {
    let t = TestApp::new().await;
    let id = sign_up(&t, "Big@Example.com").await;
    let session = log_in(&t, "big@example.com").await;
    let other = log_in(&t, "big@example.com").await;
    refresh(&t, &other.refresh_cookie).await;
    log_in(&t, "big@example.com").await;
    seed_tasks(
        &t.client,
        &t.table,
        user_id(&id),
        &tasks(5000, 3, |i| format!("task {i}")),
    )
    .await
    .unwrap();
    // And a task created with an Idempotency-Key: its record lives in the partition too.
    let keyed = taskline::tasks::Task::new(tasks(1, 0, |_| "keyed".into())[0].fields.clone());
    let record = taskline::store::KeyedCreate {
        fingerprint: taskline::domain::Fingerprint::of(b"{\"title\":\"keyed\"}"),
        task_id: keyed.id,
        response: "{}".into(),
    };
    let key = taskline::domain::IdempotencyKey::parse("retry-me").unwrap();
    let now = taskline::auth::unix_now();
    let created = t
        .app
        .store
        .tasks()
        .create_once(user_id(&id), None, &keyed, 10_000, (&key, &record, now))
        .await
        .unwrap();
    assert_eq!(created, CreateOutcome::Created);
    assert!(
        sort_keys(&t, &id)
            .await
            .iter()
            .any(|sk| sk.starts_with(taskline::store::IDEMPOTENCY_SK_PREFIX))
    );
    assert!(t.partition(&id).await.len() > 5000);

    // A budget no slow test machine runs out of: this test is about completeness.
    let app = t.app_with(&[("ACCOUNT_DELETION_BUDGET_MS", "600000")]);
    let started = std::time::Instant::now();
    let deleted = delete_me(&app, &session.access_token).await;
    assert_eq!(deleted.status(), 204, "{}", deleted.text());
    eprintln!(
        "deleted 5000 tasks and their account in {:?}",
        started.elapsed()
    );

    assert_eq!(sort_keys(&t, &id).await, Vec::<String>::new());
    assert!(t.partition("EMAIL#big@example.com").await.is_empty());
    assert_token_refused(&t, &other.access_token).await;
    let again = register_response(&t, "big@example.com").await;
    assert_eq!(again.status(), 201, "{}", again.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_deletion_cut_short_answers_503_and_the_retry_finishes_it() {
    let t = TestApp::new().await;
    let id = sign_up(&t, "halfway@example.com").await;
    let session = log_in(&t, "halfway@example.com").await;
    let other = log_in(&t, "halfway@example.com").await;
    seed_tasks(
        &t.client,
        &t.table,
        user_id(&id),
        &tasks(1200, 2, |i| format!("task {i}")),
    )
    .await
    .unwrap();
    let before = t.partition(&id).await.len();

    // No time at all: each attempt sweeps one page and stops.
    let hurried = t.app_with(&[("ACCOUNT_DELETION_BUDGET_MS", "0")]);
    let cut_short = delete_me(&hurried, &session.access_token).await;
    let problem = cut_short.problem(503);
    assert_eq!(cut_short.header("retry-after").as_deref(), Some("1"));
    assert!(
        problem["detail"].as_str().unwrap().contains("repeat"),
        "{problem}"
    );
    let left = sort_keys(&t, &id).await;
    assert!(left.len() > 1 && left.len() < before, "{}", left.len());
    assert!(left.contains(&"USER".to_string()));

    // While it is being deleted the account is gone for every other route, its email is
    // still taken, and it cannot log in or refresh.
    assert_token_refused(&t, &session.access_token).await;
    assert_token_refused(&t, &other.access_token).await;
    assert_bearer_refused(&create_task(&t, &session.access_token, "late").await);
    assert_eq!(
        register_response(&t, "halfway@example.com").await.status(),
        409
    );
    log_in_response(&t, "halfway@example.com")
        .await
        .problem(401);
    refresh_response(&t, &other.refresh_cookie)
        .await
        .problem(401);
    assert!(sort_keys(&t, &id).await.len() <= left.len());

    // The client retries with the same token (and another session's token works too).
    let second = delete_me(&hurried, &other.access_token).await;
    second.problem(503);
    let finished = delete_me(&t.app, &session.access_token).await;
    assert_eq!(finished.status(), 204, "{}", finished.text());
    assert_eq!(sort_keys(&t, &id).await, Vec::<String>::new());
    assert!(t.partition("EMAIL#halfway@example.com").await.is_empty());

    // Done: the tokens are refused everywhere, DELETE included; the email is free.
    assert_bearer_refused(&delete_me(&t.app, &session.access_token).await);
    assert_token_refused(&t, &session.access_token).await;
    let again = register_response(&t, "halfway@example.com").await;
    assert_eq!(again.status(), 201, "{}", again.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn task_writes_racing_the_deletion_leave_no_counts_item_or_task() {
    let t = TestApp::new().await;
    let id = sign_up(&t, "racer@example.com").await;
    let session = log_in(&t, "racer@example.com").await;
    let user = user_id(&id);
    // Enough tasks for the first page of the sweep (counts item first) to leave some.
    let seeded = tasks(600, 0, |i| format!("task {i}"));
    seed_tasks(&t.client, &t.table, user, &seeded)
        .await
        .unwrap();

    // The deletion starts and is cut short after one page: the counts item is gone, some
    // tasks are not.
    let hurried = t.app_with(&[("ACCOUNT_DELETION_BUDGET_MS", "0")]);
    delete_me(&hurried, &session.access_token)
        .await
        .problem(503);
    let left = sort_keys(&t, &id).await;
    assert!(!left.contains(&"COUNTS".to_string()), "{left:?}");
    let remaining = left
        .iter()
        .find_map(|sk| sk.strip_prefix("TASK#"))
        .and_then(taskline::tasks::TaskId::parse)
        .expect("a task the sweep has not reached");
    let newest = t
        .app
        .store
        .tasks()
        .get(user, remaining)
        .await
        .unwrap()
        .unwrap();

    // Writes of requests that authenticated just before: a completion change (task and
    // counts), a plain change (task only), a delete (task and counts), a create.
    let completed = newest.changed(TaskFields {
        completed: true,
        ..newest.fields.clone()
    });
    let err = t
        .app
        .store
        .tasks()
        .replace(user, &newest, &completed)
        .await
        .unwrap();
    assert_eq!(err, WriteOutcome::AccountGone);
    let mut renamed_fields = newest.fields.clone();
    renamed_fields.priority = taskline::tasks::Priority::High;
    let renamed = newest.changed(renamed_fields);
    let err = t
        .app
        .store
        .tasks()
        .replace(user, &newest, &renamed)
        .await
        .unwrap();
    assert_eq!(err, WriteOutcome::AccountGone);
    let err = t.app.store.tasks().delete(user, &newest).await.unwrap();
    assert_eq!(err, WriteOutcome::AccountGone);
    let fresh = taskline::tasks::Task::new(newest.fields.clone());
    let err = t
        .app
        .store
        .tasks()
        .create(user, None, &fresh, 10_000)
        .await
        .unwrap();
    assert_eq!(err, CreateOutcome::AccountGone);

    let now = sort_keys(&t, &id).await;
    assert!(!now.contains(&"COUNTS".to_string()), "{now:?}");
    assert!(!now.contains(&format!("TASK#{}", fresh.id)));
    let stored = t
        .app
        .store
        .tasks()
        .get(user, remaining)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored, newest, "the racing writes changed nothing");

    let finished = delete_me(&t.app, &session.access_token).await;
    assert_eq!(finished.status(), 204, "{}", finished.text());
    assert_eq!(sort_keys(&t, &id).await, Vec::<String>::new());
    // Nothing was re-created after the 204 either.
    let counts = t
        .client
        .get_item()
        .table_name(&t.table)
        .key("user_id", AttributeValue::S(id.clone()))
        .key("sk", AttributeValue::S("COUNTS".into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    assert!(counts.item.is_none());
}
