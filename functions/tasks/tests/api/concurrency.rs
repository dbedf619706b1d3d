//! Concurrent clients against one user's tasks: counts stay exact (transactions), and no
//! update is lost (version-conditional writes; 412 with If-Match, re-read and retry without).

use std::collections::HashSet;

use crate::common::{counts, create, send, task_path, walk};
use devtools::harness::{TestApp, TestRequest, TestResponse, call};
use serde_json::{Value, json};
use taskline::App;
use tokio::task::JoinSet;

async fn send_app(app: &App, req: TestRequest) -> TestResponse {
    call(tasks::handle, app, req).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn forty_creates_from_eight_parallel_clients_keep_counts_exact() {
    let t = TestApp::new().await;
    let (_, token) = t.signed_in_user().await;
    let mut clients = JoinSet::new();
    for client in 0..8 {
        let (app, token) = (t.app.clone(), token.clone());
        clients.spawn(async move {
            let mut ids = Vec::new();
            for n in 0..5 {
                let body = json!({"title": format!("c{client} n{n}"), "completed": n % 2 == 0});
                let response = send_app(
                    &app,
                    TestRequest::post("/v1/tasks").bearer(&token).json(&body),
                )
                .await;
                assert_eq!(response.status(), 201, "{}", response.text());
                ids.push(response.json()["id"].as_str().unwrap().to_string());
            }
            ids
        });
    }
    let mut created: Vec<String> = Vec::new();
    while let Some(ids) = clients.join_next().await {
        created.extend(ids.unwrap());
    }
    assert_eq!(created.len(), 40);
    // n = 0, 2, 4 of each client are completed: 24.
    assert_eq!(counts(&t, &token).await, (40, 24));
    let (listed, _) = walk(&t, &token, "limit=100").await;
    assert_eq!(
        listed.iter().collect::<HashSet<_>>(),
        created.iter().collect::<HashSet<_>>()
    );

    // Concurrently: complete 8 open tasks, un-complete 6 done ones, delete 4 of each kind
    // (from the remaining ones), through PATCH, PUT and DELETE.
    let (done, open) = {
        let page = crate::common::list(&t, &token, "limit=100").await;
        let items = page["items"].as_array().unwrap().clone();
        let ids = |completed: bool| -> Vec<String> {
            items
                .iter()
                .filter(|i| i["completed"] == completed)
                .map(|i| i["id"].as_str().unwrap().to_string())
                .collect()
        };
        (ids(true), ids(false))
    };
    let mut requests = Vec::new();
    for id in &open[..8] {
        requests.push(TestRequest::patch(&task_path(id)).json(&json!({"completed": true})));
    }
    for id in &done[..3] {
        requests.push(TestRequest::patch(&task_path(id)).json(&json!({"completed": false})));
    }
    for id in &done[3..6] {
        requests.push(TestRequest::put(&task_path(id)).json(&json!({"title": "reset"})));
    }
    for id in open[8..12].iter().chain(&done[6..10]) {
        requests.push(TestRequest::delete(&task_path(id)));
    }
    let mut clients = JoinSet::new();
    for req in requests {
        let (app, token) = (t.app.clone(), token.clone());
        clients.spawn(async move { send_app(&app, req.bearer(&token)).await.status() });
    }
    while let Some(status) = clients.join_next().await {
        assert!(matches!(status.unwrap(), 200 | 204));
    }
    // 24 + 8 - 6 - 4 completed; 40 - 8 total.
    assert_eq!(counts(&t, &token).await, (32, 22));
    let page = crate::common::list(&t, &token, "limit=100").await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 32);
    assert_eq!(items.iter().filter(|i| i["completed"] == true).count(), 22);
}

/// One client: appends `marker` to the description `rounds` times, each time on the version
/// it read (`If-Match`), re-reading on 412. Returns (successes, 412s).
async fn append_with_if_match(
    app: App,
    token: String,
    path: String,
    client: usize,
    rounds: usize,
) -> (usize, usize) {
    let mut successes = 0;
    let mut refused = 0;
    while successes < rounds {
        let current = send_app(&app, TestRequest::get(&path).bearer(&token)).await;
        assert_eq!(current.status(), 200);
        let etag = current.header("etag").unwrap();
        let task = current.json();
        assert_eq!(etag, format!("\"{}\"", task["version"]));
        let description = format!(
            "{}[c{client}.{successes}]",
            task["description"].as_str().unwrap_or("")
        );
        let response = send_app(
            &app,
            TestRequest::patch(&path)
                .bearer(&token)
                .header("if-match", &etag)
                .json(&json!({"description": description})),
        )
        .await;
        match response.status() {
            200 => {
                successes += 1;
                assert_eq!(response.json()["description"], description);
            }
            412 => refused += 1,
            other => panic!("unexpected {other}: {}", response.text()),
        }
    }
    (successes, refused)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 6)]
async fn six_clients_patching_one_task_with_if_match_lose_no_update() {
    let t = TestApp::new().await;
    let (_, token) = t.signed_in_user().await;
    let task = create(&t, &token, json!({"title": "shared"})).await;
    let path = task_path(task["id"].as_str().unwrap());
    let rounds = 4;
    let mut clients = JoinSet::new();
    for client in 0..6 {
        clients.spawn(append_with_if_match(
            t.app.clone(),
            token.clone(),
            path.clone(),
            client,
            rounds,
        ));
    }
    let (mut successes, mut refused) = (0, 0);
    while let Some(result) = clients.join_next().await {
        let (s, r) = result.unwrap();
        successes += s;
        refused += r;
    }
    let last = send(&t, TestRequest::get(&path).bearer(&token)).await;
    let last_task = last.json();
    assert_eq!(successes, 6 * rounds);
    assert_eq!(last_task["version"], 1 + successes as u64);
    assert_eq!(
        last.header("etag").unwrap(),
        format!("\"{}\"", 1 + successes)
    );
    // Every successful append is in the final description, exactly once.
    let description = last_task["description"].as_str().unwrap();
    for client in 0..6 {
        for round in 0..rounds {
            assert_eq!(
                description.matches(&format!("[c{client}.{round}]")).count(),
                1,
                "{description}"
            );
        }
    }
    // With six writers some requests must have raced; they were refused, not applied.
    eprintln!("successes {successes}, 412s {refused}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 5)]
async fn concurrent_patches_without_if_match_are_all_applied() {
    let t = TestApp::new().await;
    let (_, token) = t.signed_in_user().await;
    let task = create(&t, &token, json!({"title": "original"})).await;
    let path = task_path(task["id"].as_str().unwrap());
    let patches = [
        json!({"title": "renamed"}),
        json!({"description": "described"}),
        json!({"priority": "high"}),
        json!({"due_date": "2027-01-01T00:00:00Z"}),
        json!({"completed": true}),
    ];
    let mut clients = JoinSet::new();
    for patch in patches {
        let (app, token, path) = (t.app.clone(), token.clone(), path.clone());
        clients.spawn(async move {
            let response =
                send_app(&app, TestRequest::patch(&path).bearer(&token).json(&patch)).await;
            assert_eq!(response.status(), 200, "{}", response.text());
        });
    }
    while let Some(done) = clients.join_next().await {
        done.unwrap();
    }
    let last = send(&t, TestRequest::get(&path).bearer(&token))
        .await
        .json();
    assert_eq!(last["title"], "renamed");
    assert_eq!(last["description"], "described");
    assert_eq!(last["priority"], "high");
    assert_eq!(last["due_date"], "2027-01-01T00:00:00.000Z");
    assert_eq!(last["completed"], true);
    assert_eq!(last["version"], 6);
    assert_eq!(counts(&t, &token).await, (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 6)]
async fn completing_one_task_concurrently_counts_it_once() {
    let t = TestApp::new().await;
    let (_, token) = t.signed_in_user().await;
    let task = create(&t, &token, json!({"title": "once"})).await;
    let path = task_path(task["id"].as_str().unwrap());
    let mut clients = JoinSet::new();
    for _ in 0..6 {
        let (app, token, path) = (t.app.clone(), token.clone(), path.clone());
        clients.spawn(async move {
            send_app(
                &app,
                TestRequest::patch(&path)
                    .bearer(&token)
                    .json(&json!({"completed": true})),
            )
            .await
            .status()
        });
    }
    while let Some(status) = clients.join_next().await {
        assert_eq!(status.unwrap(), 200);
    }
    assert_eq!(counts(&t, &token).await, (1, 1));
    let last: Value = send(&t, TestRequest::get(&path).bearer(&token))
        .await
        .json();
    // One change, one new version: the other five found it already completed.
    assert_eq!(last["version"], 2);

    // Concurrent deletes of one task: one 204, the rest 404, counted once.
    let mut clients = JoinSet::new();
    for _ in 0..6 {
        let (app, token, path) = (t.app.clone(), token.clone(), path.clone());
        clients.spawn(async move {
            send_app(&app, TestRequest::delete(&path).bearer(&token))
                .await
                .status()
        });
    }
    let mut statuses = Vec::new();
    while let Some(status) = clients.join_next().await {
        statuses.push(status.unwrap());
    }
    statuses.sort();
    assert_eq!(statuses, [204, 404, 404, 404, 404, 404]);
    assert_eq!(counts(&t, &token).await, (0, 0));
}
