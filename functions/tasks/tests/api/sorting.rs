//! `GET /v1/tasks` sorts and due-date filters (API.md, Tasks, "Filters and order"):
//! `sort=created|due|priority` with `order`, `due_before`/`due_after` (strict), `overdue`,
//! served by the `by_due`/`by_priority` indexes; every combination with the other filters and
//! cursors returns each matching task exactly once; tasks written before the indexes list
//! everywhere and sort once backfilled.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use devtools::harness::{TestApp, TestRequest};
use serde_json::{Value, json};
use taskline::auth::UserId;
use taskline::store::{counts_item, task_item};
use taskline::tasks::{ListQuery, Priority, Task, TaskCounts, TaskFields, TaskTitle, Timestamp};

use crate::common::{create, list, send, task_path, walk};

fn at(t: &str) -> Option<Timestamp> {
    Some(Timestamp::parse(t).expect("a test time"))
}

/// Task `i` of the mixed set: ties on due dates (every 5th is undated, two groups share one
/// due date exactly), priorities cycling, every 4th completed, every 7th titled "needle".
fn mixed_task(i: usize) -> Task {
    let due = match i % 5 {
        0 => None,
        1 => at("2020-01-01T00:00:00Z"),
        2 => at("2030-06-01T00:00:00Z"),
        3 => Timestamp::parse(&format!("2026-03-{:02}T12:00:00Z", i % 28 + 1)),
        _ => Timestamp::parse(&format!("2031-01-01T{:02}:00:00+02:00", i % 24)),
    };
    let title = if i.is_multiple_of(7) {
        format!("Find the NEEDLE #{i}")
    } else {
        format!("Task #{i}")
    };
    Task::new(TaskFields {
        title: TaskTitle::parse(&title).unwrap(),
        description: None,
        completed: i.is_multiple_of(4),
        priority: [Priority::Low, Priority::Medium, Priority::High][i % 3],
        due_date: due,
        category_id: None,
    })
}

fn rank(p: Priority) -> u8 {
    match p {
        Priority::Low => 1,
        Priority::Medium => 2,
        Priority::High => 3,
    }
}

/// The ids a listing must return, computed from the tasks themselves: the contract's order
/// (ties by creation, i.e. by id; undated tasks last in both orders for `sort=due`).
fn expected(tasks: &[Task], sort: &str, order: &str, keep: &dyn Fn(&Task) -> bool) -> Vec<String> {
    let mut kept: Vec<&Task> = tasks.iter().filter(|t| keep(t)).collect();
    kept.sort_by_key(|t| t.id.to_string());
    let desc = order == "desc";
    let mut sorted: Vec<&Task> = match sort {
        "created" => kept,
        "priority" => {
            kept.sort_by_key(|t| rank(t.fields.priority));
            kept
        }
        "due" => {
            let (mut dated, undated): (Vec<&Task>, Vec<&Task>) =
                kept.into_iter().partition(|t| t.fields.due_date.is_some());
            dated.sort_by_key(|t| t.fields.due_date);
            if desc {
                dated.reverse();
                dated.extend(undated.into_iter().rev());
                return dated.iter().map(|t| t.id.to_string()).collect();
            }
            dated.extend(undated);
            dated
        }
        other => panic!("unknown sort {other}"),
    };
    if desc {
        sorted.reverse();
    }
    sorted.iter().map(|t| t.id.to_string()).collect()
}

#[tokio::test]
async fn every_sort_order_and_filter_with_cursors_returns_each_matching_task_exactly_once() {
    let t = TestApp::new().await;
    let (user, token) = t.signed_in_user().await;
    let tasks: Vec<Task> = (0..40).map(mixed_task).collect();
    devtools::seed::seed_tasks(&t.client, &t.table, user, &tasks)
        .await
        .unwrap();
    let now = Timestamp::now();
    let t2027 = Timestamp::parse("2027-01-01T00:00:00Z").unwrap();
    let t2026 = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
    let t2020 = Timestamp::parse("2020-01-01T00:00:00Z").unwrap();
    let t2030 = Timestamp::parse("2030-06-01T00:00:00Z").unwrap();
    let due = |t: &Task| t.fields.due_date;
    let overdue = move |t: &Task| due(t).is_some_and(|d| d < now) && !t.fields.completed;
    type Keep = Box<dyn Fn(&Task) -> bool>;
    let filters: Vec<(&str, Keep)> = vec![
        ("", Box::new(|_| true)),
        ("completed=false", Box::new(|t| !t.fields.completed)),
        (
            "priority=high",
            Box::new(|t| t.fields.priority == Priority::High),
        ),
        (
            "q=needle",
            Box::new(|t| t.fields.title.as_str().contains("NEEDLE")),
        ),
        (
            "due_before=2027-01-01T00:00:00Z",
            Box::new(move |t| due(t).is_some_and(|d| d < t2027)),
        ),
        (
            "due_after=2026-01-01T01:00:00%2B01:00",
            Box::new(move |t| due(t).is_some_and(|d| d > t2026)),
        ),
        // Both bounds strict: the tasks due exactly at either bound are out.
        (
            "due_after=2020-01-01T00:00:00Z&due_before=2030-06-01T00:00:00Z",
            Box::new(move |t| due(t).is_some_and(|d| d > t2020 && d < t2030)),
        ),
        ("overdue=true", Box::new(overdue)),
        ("overdue=false", Box::new(move |t| !overdue(t))),
        (
            "overdue=true&priority=low&q=task",
            Box::new(move |t| {
                overdue(t)
                    && t.fields.priority == Priority::Low
                    && t.fields.title.as_str().contains("Task")
            }),
        ),
    ];
    for sort in ["created", "due", "priority"] {
        for order in ["asc", "desc"] {
            for (filter, keep) in &filters {
                let query = format!("sort={sort}&order={order}&limit=4&{filter}");
                let (seen, _) = walk(&t, &token, &query).await;
                let want = expected(&tasks, sort, order, keep.as_ref());
                assert!(
                    !want.is_empty() || filter.contains("overdue=true&"),
                    "{query}"
                );
                assert_eq!(seen, want, "{query}");
            }
        }
    }
    // `order` defaults to desc for every sort.
    for sort in ["due", "priority"] {
        let (seen, _) = walk(&t, &token, &format!("sort={sort}&limit=7")).await;
        assert_eq!(seen, expected(&tasks, sort, "desc", &|_| true), "{sort}");
    }
}

#[tokio::test]
async fn sorts_read_their_index_not_the_partition() {
    let t = TestApp::new().await;
    let (user, _) = t.signed_in_user().await;
    let tasks: Vec<Task> = (0..300).map(mixed_task).collect();
    devtools::seed::seed_tasks(&t.client, &t.table, user, &tasks)
        .await
        .unwrap();
    for (query, want) in [
        (
            "sort=due&order=asc",
            expected(&tasks, "due", "asc", &|_| true),
        ),
        (
            "sort=due&order=desc",
            expected(&tasks, "due", "desc", &|_| true),
        ),
        (
            "sort=priority",
            expected(&tasks, "priority", "desc", &|_| true),
        ),
    ] {
        let filters = ListQuery::parse(Some(query)).unwrap().filters;
        let page = t
            .app
            .store
            .tasks()
            .list(user, &filters, 20, None)
            .await
            .unwrap();
        let ids: Vec<String> = page.tasks.iter().map(|t| t.id.to_string()).collect();
        assert_eq!(ids, want[..20], "{query}");
        // One page of 20 (plus one, to know that more follow) in one Query.
        assert_eq!((page.items_read, page.queries), (21, 1), "{query}");
    }
    // Overdue tasks by due date: the index range ends at "now"; no future task is read.
    let filters = ListQuery::parse(Some("sort=due&order=desc&overdue=true"))
        .unwrap()
        .filters;
    let page = t
        .app
        .store
        .tasks()
        .list(user, &filters, 100, None)
        .await
        .unwrap();
    let past = tasks
        .iter()
        .filter(|t| t.fields.due_date.is_some_and(|d| d < Timestamp::now()))
        .count();
    assert_eq!(page.items_read, past);
    assert!(page.next.is_none());
}

#[tokio::test]
async fn due_dates_and_priorities_changed_by_writes_move_the_task_in_its_sort() {
    let t = TestApp::new().await;
    let (_, token) = t.signed_in_user().await;
    let a = create(
        &t,
        &token,
        json!({"title": "a", "due_date": "2030-01-01T00:00:00Z"}),
    )
    .await;
    let b = create(
        &t,
        &token,
        json!({"title": "b", "due_date": "2029-01-01T00:00:00Z", "priority": "low"}),
    )
    .await;
    let c = create(&t, &token, json!({"title": "c"})).await;
    let titles = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["title"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        titles(&list(&t, &token, "sort=due&order=asc").await),
        ["b", "a", "c"]
    );
    assert_eq!(
        titles(&list(&t, &token, "sort=due&order=desc").await),
        ["a", "b", "c"]
    );
    // Creation breaks the tie of a and c (both medium); b is low.
    assert_eq!(
        titles(&list(&t, &token, "sort=priority").await),
        ["c", "a", "b"]
    );

    let patch = |id: &Value, body: Value| {
        TestRequest::patch(&task_path(id.as_str().unwrap()))
            .bearer(&token)
            .json(&body)
    };
    assert_eq!(
        send(&t, patch(&a["id"], json!({"due_date": null})))
            .await
            .status(),
        200
    );
    assert_eq!(
        send(
            &t,
            patch(
                &c["id"],
                json!({"due_date": "2028-01-01T00:00:00Z", "priority": "high"})
            )
        )
        .await
        .status(),
        200
    );
    let put = TestRequest::put(&task_path(b["id"].as_str().unwrap()))
        .bearer(&token)
        .json(&json!({"title": "b"}));
    assert_eq!(send(&t, put).await.status(), 200);
    // Now: c due 2028 (high), a and b undated (medium).
    assert_eq!(
        titles(&list(&t, &token, "sort=due&order=asc").await),
        ["c", "a", "b"]
    );
    assert_eq!(
        titles(&list(&t, &token, "sort=due&order=desc").await),
        ["c", "b", "a"]
    );
    assert_eq!(
        titles(&list(&t, &token, "sort=priority&order=asc").await),
        ["a", "b", "c"]
    );
    // A deleted task leaves the indexes too.
    let delete = TestRequest::delete(&task_path(c["id"].as_str().unwrap())).bearer(&token);
    assert_eq!(send(&t, delete).await.status(), 204);
    assert_eq!(titles(&list(&t, &token, "sort=due").await), ["b", "a"]);
    assert_eq!(titles(&list(&t, &token, "sort=priority").await), ["b", "a"]);
}

#[tokio::test]
async fn a_cursor_of_one_sort_does_not_continue_another() {
    let t = TestApp::new().await;
    let (_, token) = t.signed_in_user().await;
    for i in 0..3 {
        create(&t, &token, json!({"title": format!("t{i}")})).await;
    }
    let page = list(&t, &token, "sort=due&limit=1").await;
    let cursor = page["next_cursor"].as_str().unwrap();
    let response = send(
        &t,
        TestRequest::get(&format!("/v1/tasks?sort=priority&limit=1&cursor={cursor}"))
            .bearer(&token),
    )
    .await;
    response.problem(400);
}

/// Writes `tasks` as they were stored before the sort indexes (and categories) existed: no
/// `due_key`, no `priority_key`, no `category_id`.
async fn seed_in_the_old_layout(t: &TestApp, user: UserId, tasks: &[Task]) {
    for task in tasks {
        let mut item: HashMap<String, AttributeValue> = task_item(user, task).unwrap();
        for attribute in ["due_key", "priority_key", "category_id"] {
            item.remove(attribute);
        }
        t.client
            .put_item()
            .table_name(&t.table)
            .set_item(Some(item))
            .send()
            .await
            .unwrap();
    }
    let counts = TaskCounts {
        total: tasks.len() as u64,
        completed: tasks.iter().filter(|t| t.fields.completed).count() as u64,
    };
    t.client
        .put_item()
        .table_name(&t.table)
        .set_item(Some(counts_item(user, counts).unwrap()))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn tasks_written_before_the_indexes_list_everywhere_and_sort_once_backfilled() {
    let t = TestApp::new().await;
    let (user, token) = t.signed_in_user().await;
    let old: Vec<Task> = (0..12).map(mixed_task).collect();
    seed_in_the_old_layout(&t, user, &old).await;
    // A task written by this version, alongside.
    let new = create(
        &t,
        &token,
        json!({"title": "new", "due_date": "2020-06-01T00:00:00Z"}),
    )
    .await;

    // Every listing by creation reads old tasks, filtered and uncategorised.
    let (seen, _) = walk(&t, &token, "order=asc&limit=5").await;
    assert_eq!(seen.len(), 13);
    let (seen, _) = walk(&t, &token, "overdue=true&category=none&limit=5").await;
    let mut want = expected(&old, "created", "desc", &|t| {
        t.fields.due_date.is_some_and(|d| d < Timestamp::now()) && !t.fields.completed
    });
    want.insert(0, new["id"].as_str().unwrap().to_string());
    assert_eq!(seen, want);
    // The indexes hold only what carries their keys: the new task, until the backfill.
    let (seen, _) = walk(&t, &token, "sort=due").await;
    assert_eq!(seen, [new["id"].as_str().unwrap()]);

    // A task changed through the API meanwhile gets its keys from that write; the
    // backfill writes the others' and leaves it alone.
    let changed = &old[3];
    let patch = TestRequest::patch(&task_path(&changed.id.to_string()))
        .bearer(&token)
        .json(&json!({"priority": "high"}));
    assert_eq!(send(&t, patch).await.status(), 200);
    let report = t.app.store.backfill_index_keys().await.unwrap();
    assert_eq!((report.updated, report.skipped), (11, 0));
    // Run again: nothing left to do.
    let again = t.app.store.backfill_index_keys().await.unwrap();
    assert_eq!((again.updated, again.skipped), (0, 0));

    let mut all: Vec<Task> = old.clone();
    all[3].fields.priority = Priority::High;
    let new_task = t
        .app
        .store
        .tasks()
        .get(
            user,
            taskline::tasks::TaskId::parse(new["id"].as_str().unwrap()).unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    all.push(new_task);
    for sort in ["due", "priority"] {
        for order in ["asc", "desc"] {
            let (seen, _) = walk(&t, &token, &format!("sort={sort}&order={order}&limit=4")).await;
            assert_eq!(
                seen,
                expected(&all, sort, order, &|_| true),
                "{sort} {order}"
            );
            let (seen, _) = walk(
                &t,
                &token,
                &format!("sort={sort}&order={order}&limit=3&completed=false&due_before=2030-12-31T00:00:00Z"),
            )
            .await;
            let keep = |t: &Task| {
                !t.fields.completed
                    && t.fields
                        .due_date
                        .is_some_and(|d| d < at("2030-12-31T00:00:00Z").unwrap())
            };
            assert_eq!(
                seen,
                expected(&all, sort, order, &keep),
                "{sort} {order} filtered"
            );
        }
    }
}
