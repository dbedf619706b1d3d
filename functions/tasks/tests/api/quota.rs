//! The per-user task quota (`MAX_TASKS_PER_USER`): creating beyond it is 409, enforced on the
//! counts item in the create transaction, so parallel creates at the edge cannot exceed it.

use crate::common::{counts, create, send, task_path};
use devtools::harness::{TestApp, TestRequest, call};
use serde_json::json;
use tokio::task::JoinSet;

#[tokio::test]
async fn creating_beyond_the_quota_is_409_until_a_task_is_deleted() {
    let t = TestApp::with_vars(&[("MAX_TASKS_PER_USER", "3")]).await;
    let (_, token) = t.signed_in_user().await;
    let (_, other) = t.signed_in_user().await;
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(create(&t, &token, json!({"title": format!("task {i}")})).await);
    }
    let refused = send(
        &t,
        TestRequest::post("/v1/tasks")
            .bearer(&token)
            .json(&json!({"title": "one too many"})),
    )
    .await;
    let problem = refused.problem(409);
    assert!(
        problem["detail"].as_str().unwrap().contains("quota"),
        "{problem}"
    );
    assert_eq!(counts(&t, &token).await, (3, 0));
    // The quota is per user: another user still creates.
    create(&t, &other, json!({"title": "mine"})).await;

    let id = ids[0]["id"].as_str().unwrap();
    let deleted = send(&t, TestRequest::delete(&task_path(id)).bearer(&token)).await;
    assert_eq!(deleted.status(), 204, "{}", deleted.text());
    create(&t, &token, json!({"title": "room again"})).await;
    assert_eq!(counts(&t, &token).await, (3, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn parallel_creates_at_the_edge_do_not_exceed_the_quota() {
    let t = TestApp::with_vars(&[("MAX_TASKS_PER_USER", "5")]).await;
    let (user, token) = t.signed_in_user().await;
    for i in 0..3 {
        create(&t, &token, json!({"title": format!("before {i}")})).await;
    }
    let mut clients = JoinSet::new();
    for i in 0..12 {
        let (app, token) = (t.app.clone(), token.clone());
        clients.spawn(async move {
            let response = call(
                tasks::handle,
                &app,
                TestRequest::post("/v1/tasks")
                    .bearer(&token)
                    .json(&json!({"title": format!("racing {i}")})),
            )
            .await;
            (response.status(), response.text())
        });
    }
    let mut created = 0;
    let mut refused = 0;
    while let Some(outcome) = clients.join_next().await {
        match outcome.unwrap() {
            (201, _) => created += 1,
            (409, _) => refused += 1,
            (status, body) => panic!("unexpected {status}: {body}"),
        }
    }
    assert_eq!((created, refused), (2, 10));
    assert_eq!(counts(&t, &token).await, (5, 0));
    let stored_tasks = t
        .partition(&user.to_string())
        .await
        .iter()
        .filter(|item| item["sk"].as_s().unwrap().starts_with("TASK#"))
        .count();
    assert_eq!(stored_tasks, 5);
}
