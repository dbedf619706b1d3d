//! `GET /v1/tasks` (API.md, Tasks): order, pages, filters, search, signed cursors, counts,
//! malformed queries and the cap on items read per request.

use crate::common::{counts, create, list, send, walk};
use devtools::harness::{TestApp, TestRequest};
use serde_json::{Value, json};
use taskline::store::MAX_ITEMS_READ_PER_LIST;

/// Creates `n` tasks one after another (so creation order is id order); returns them oldest
/// first. See `spec` for task `i`.
async fn create_tasks(t: &TestApp, token: &str, n: usize) -> Vec<Value> {
    let mut created = Vec::new();
    for i in 0..n {
        created.push(create(t, token, spec(i)).await);
    }
    created
}

/// Task `i`: titled "Buy GROCERIES #i" when `i % 4 == 0` (else "Chore #i"), completed when
/// `i % 3 == 0`, priority low/medium/high by `i % 3`.
fn spec(i: usize) -> Value {
    let title = if i.is_multiple_of(4) {
        format!("Buy GROCERIES #{i}")
    } else {
        format!("Chore #{i}")
    };
    let priority = ["low", "medium", "high"][i % 3];
    json!({"title": title, "completed": i.is_multiple_of(3), "priority": priority})
}

fn ids(tasks: &[&Value]) -> Vec<String> {
    tasks
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn pages_of_7_over_25_tasks_return_each_task_once_newest_first_or_oldest_first() {
    let t = TestApp::new().await;
    let (_, token) = t.signed_in_user().await;
    let created = create_tasks(&t, &token, 25).await;
    let oldest_first = ids(&created.iter().collect::<Vec<_>>());
    let newest_first: Vec<String> = oldest_first.iter().rev().cloned().collect();

    let (seen, sizes) = walk(&t, &token, "limit=7").await;
    assert_eq!(sizes, [7, 7, 7, 4]);
    assert_eq!(seen, newest_first);

    let (seen, sizes) = walk(&t, &token, "limit=7&order=desc").await;
    assert_eq!(sizes, [7, 7, 7, 4]);
    assert_eq!(seen, newest_first);

    let (seen, sizes) = walk(&t, &token, "order=asc&limit=7").await;
    assert_eq!(sizes, [7, 7, 7, 4]);
    assert_eq!(seen, oldest_first);

    // Items are full tasks, as GET /v1/tasks/{id} returns them.
    let page = list(&t, &token, "limit=1&order=asc").await;
    assert_eq!(page["items"][0], created[0]);
}

#[tokio::test]
async fn default_page_is_20_with_counts_and_limit_bounds() {
    let t = TestApp::new().await;
    let (_, token) = t.signed_in_user().await;
    create_tasks(&t, &token, 25).await;
    let page = list(&t, &token, "").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 20);
    assert!(page["next_cursor"].is_string());
    // 0, 3, ..., 24 are completed: 9 of 25.
    assert_eq!(page["counts"], json!({"total": 25, "completed": 9}));
    let keys: Vec<&String> = page.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["counts", "items", "next_cursor"]);

    let all = list(&t, &token, "limit=100").await;
    assert_eq!(all["items"].as_array().unwrap().len(), 25);
    assert_eq!(all["next_cursor"], Value::Null);
    // A page that ends exactly at the last task has no next cursor either.
    let exact = list(&t, &token, "limit=25").await;
    assert_eq!(exact["next_cursor"], Value::Null);
    // Counts are the user's totals, whatever the filters.
    let filtered = list(&t, &token, "completed=true&limit=1").await;
    assert_eq!(filtered["counts"], json!({"total": 25, "completed": 9}));
}

#[tokio::test]
async fn a_user_without_tasks_gets_an_empty_page_and_zero_counts() {
    let t = TestApp::new().await;
    let (_, token) = t.signed_in_user().await;
    let (_, other) = t.signed_in_user().await;
    create_tasks(&t, &other, 3).await;
    let page = list(&t, &token, "").await;
    assert_eq!(
        page,
        json!({"items": [], "next_cursor": null, "counts": {"total": 0, "completed": 0}})
    );
}

#[tokio::test]
async fn filters_and_search_combine_and_page_exactly_once() {
    let t = TestApp::new().await;
    let (_, token) = t.signed_in_user().await;
    let created = create_tasks(&t, &token, 25).await;
    let newest_first: Vec<&Value> = created.iter().rev().collect();
    let expect = |keep: &dyn Fn(&Value) -> bool| -> Vec<String> {
        ids(&newest_first
            .iter()
            .copied()
            .filter(|t| keep(t))
            .collect::<Vec<_>>())
    };
    let is_groceries = |t: &Value| t["title"].as_str().unwrap().contains("GROCERIES");

    let cases: Vec<(&str, Vec<String>)> = vec![
        ("completed=true", expect(&|t| t["completed"] == true)),
        ("completed=false", expect(&|t| t["completed"] == false)),
        ("priority=high", expect(&|t| t["priority"] == "high")),
        ("priority=low", expect(&|t| t["priority"] == "low")),
        // Case-insensitive substring of the title.
        ("q=groceries", expect(&is_groceries)),
        ("q=GroCeRiEs", expect(&is_groceries)),
        (
            "q=%20ries%20%231",
            expect(&|t| {
                t["title"]
                    .as_str()
                    .unwrap()
                    .to_lowercase()
                    .contains("ries #1")
            }),
        ),
        ("q=nothing-matches", vec![]),
        (
            "completed=false&priority=medium&q=buy",
            expect(&|t| t["completed"] == false && t["priority"] == "medium" && is_groceries(t)),
        ),
    ];
    for (query, expected) in cases {
        for limit in [2, 7] {
            let (seen, sizes) = walk(&t, &token, &format!("{query}&limit={limit}")).await;
            assert_eq!(seen, expected, "{query} limit={limit}");
            assert!(sizes.iter().all(|s| *s <= limit));
            // Every page but the last is full (the read cap is far away here).
            assert!(
                sizes[..sizes.len() - 1].iter().all(|s| *s == limit),
                "{query}: {sizes:?}"
            );
        }
        // Ascending order gives the same tasks, reversed.
        let (asc, _) = walk(&t, &token, &format!("{query}&order=asc&limit=3")).await;
        let mut reversed = expected.clone();
        reversed.reverse();
        assert_eq!(asc, reversed, "{query} asc");
    }
}

#[tokio::test]
async fn tampered_foreign_and_other_filter_cursors_are_400() {
    let t = TestApp::new().await;
    let (_, token) = t.signed_in_user().await;
    let (_, other) = t.signed_in_user().await;
    create_tasks(&t, &token, 10).await;
    create_tasks(&t, &other, 10).await;
    let page = list(&t, &token, "limit=3&completed=false&q=chore").await;
    let cursor = page["next_cursor"].as_str().unwrap().to_string();
    // The genuine cursor works with the same filters (and any limit).
    let next = list(
        &t,
        &token,
        &format!("limit=5&completed=false&q=chore&cursor={cursor}"),
    )
    .await;
    assert!(!next["items"].as_array().unwrap().is_empty());

    let get =
        |token: &str, query: String| TestRequest::get(&format!("/v1/tasks?{query}")).bearer(token);
    // Another user presenting it.
    send(
        &t,
        get(
            &other,
            format!("limit=3&completed=false&q=chore&cursor={cursor}"),
        ),
    )
    .await
    .problem(400);
    // Other filters, order or none.
    for query in [
        "limit=3&completed=true&q=chore",
        "limit=3&q=chore",
        "limit=3&completed=false&q=chores",
        "limit=3&completed=false&q=chore&priority=low",
        "limit=3&completed=false&q=chore&order=asc",
        "limit=3",
    ] {
        send(&t, get(&token, format!("{query}&cursor={cursor}")))
            .await
            .problem(400);
    }
    // Altered: every character changed in turn, truncated, extended, garbage.
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for i in 0..cursor.len() {
        let c = cursor.as_bytes()[i] as char;
        let replacement = alphabet.chars().find(|r| *r != c).unwrap();
        let mut tampered = cursor.clone();
        tampered.replace_range(i..=i, &replacement.to_string());
        send(
            &t,
            get(
                &token,
                format!("limit=3&completed=false&q=chore&cursor={tampered}"),
            ),
        )
        .await
        .problem(400);
    }
    for tampered in [
        cursor[..cursor.len() - 1].to_string(),
        format!("{cursor}A"),
        "garbage".to_string(),
        "%00".to_string(),
    ] {
        send(
            &t,
            get(
                &token,
                format!("limit=3&completed=false&q=chore&cursor={tampered}"),
            ),
        )
        .await
        .problem(400);
    }
}

#[tokio::test]
async fn malformed_queries_are_400() {
    let t = TestApp::new().await;
    let (_, token) = t.signed_in_user().await;
    for query in [
        "limit=abc",
        "limit=0",
        "limit=101",
        "limit=-5",
        "limit=1.5",
        "priority=urgent",
        "priority=HIGH",
        "completed=maybe",
        "completed=",
        "order=sideways",
        "cursor=",
        "limit=5&limit=6",
        "sort=title",
        "overdue=1",
        "due_before=next-week",
        "due_after=2026-12-01",
        // An unencoded `+` of an offset arrives as a space.
        "due_before=2026-12-01T00:00:00+01:00",
        "due_after=10000-01-01T00:00:00Z",
    ] {
        let problem = send(
            &t,
            TestRequest::get(&format!("/v1/tasks?{query}")).bearer(&token),
        )
        .await
        .problem(400);
        assert!(problem["detail"].as_str().unwrap().len() > 10, "{query}");
    }
    // Without a token, 401 comes first.
    send(&t, TestRequest::get("/v1/tasks?limit=abc"))
        .await
        .problem(401);
}

#[tokio::test]
async fn a_selective_filter_stops_at_the_read_cap_and_continues_with_a_cursor() {
    let t = TestApp::new().await;
    let (user, token) = t.signed_in_user().await;
    // More tasks than one request may read; the only match is the oldest.
    let n = MAX_ITEMS_READ_PER_LIST + 150;
    let seeded = devtools::seed::tasks(n, 0, |i| {
        if i == 0 {
            "The Needle".to_string()
        } else {
            format!("Hay {i}")
        }
    });
    devtools::seed::seed_tasks(&t.client, &t.table, user, &seeded)
        .await
        .unwrap();

    let first = list(&t, &token, "q=needle&limit=5").await;
    assert_eq!(first["items"], json!([]), "the cap stops the first read");
    let cursor = first["next_cursor"].as_str().expect("a cursor to continue");
    assert_eq!(first["counts"]["total"], n);
    let second = list(&t, &token, &format!("q=needle&limit=5&cursor={cursor}")).await;
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert_eq!(second["items"][0]["title"], "The Needle");
    assert_eq!(second["items"][0]["id"], seeded[0].id.to_string());
    assert_eq!(second["next_cursor"], Value::Null);

    // The store reports what it read: never more than the cap per request.
    let filters = taskline::tasks::ListQuery::parse(Some("q=needle"))
        .unwrap()
        .filters;
    let page = t
        .app
        .store
        .tasks()
        .list(user, &filters, 5, None)
        .await
        .unwrap();
    assert_eq!(page.items_read, MAX_ITEMS_READ_PER_LIST);
    assert!(page.tasks.is_empty() && page.next.is_some());

    // Unfiltered pages read only what they return (plus one to know whether more follow).
    let all = taskline::tasks::ListFilters::default();
    let page = t
        .app
        .store
        .tasks()
        .list(user, &all, 20, None)
        .await
        .unwrap();
    assert_eq!(page.tasks.len(), 20);
    assert_eq!(page.items_read, 21);
    assert_eq!(page.queries, 1);
    assert_eq!(counts(&t, &token).await, (n as u64, 0));
}
