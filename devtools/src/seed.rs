//! Bulk seeding of a user's tasks for tests and benchmarks: `BatchWriteItem` of items built by
//! the store's own layout (`taskline::store::task_item`), then the counts item set to match, so
//! the API sees exactly what it would have written itself. Not for concurrent use with the API
//! on the same user (the counts item is set, not added to).

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use taskline::auth::UserId;
use taskline::store::{counts_item, task_item};
use taskline::tasks::{Priority, Task, TaskCounts, TaskFields, TaskTitle};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Largest `BatchWriteItem`.
const BATCH: usize = 25;
/// Batches in flight at once.
const CONCURRENCY: usize = 4;

/// `count` tasks titled by `title(i)` (oldest first: `i = 0` is created first), every
/// `completed_every`-th one completed, priorities cycling low/medium/high.
pub fn tasks(count: usize, completed_every: usize, title: impl Fn(usize) -> String) -> Vec<Task> {
    (0..count)
        .map(|i| {
            Task::new(TaskFields {
                title: TaskTitle::parse(&title(i)).expect("seed titles are valid"),
                description: None,
                completed: completed_every > 0 && i % completed_every == 0,
                priority: [Priority::Low, Priority::Medium, Priority::High][i % 3],
                due_date: None,
                category_id: None,
            })
        })
        .collect()
}

/// Writes `tasks` into `user`'s partition and sets the user's counts to match them.
/// The user must have no tasks yet.
pub async fn seed_tasks(
    client: &Client,
    table: &str,
    user: UserId,
    tasks: &[Task],
) -> Result<TaskCounts, Error> {
    let mut pending = tokio::task::JoinSet::new();
    for chunk in tasks.chunks(BATCH) {
        let requests: Vec<WriteRequest> = chunk
            .iter()
            .map(|task| {
                let put = PutRequest::builder()
                    .set_item(Some(task_item(user, task)?))
                    .build()?;
                Ok(WriteRequest::builder().put_request(put).build())
            })
            .collect::<Result<_, Error>>()?;
        if pending.len() >= CONCURRENCY {
            pending.join_next().await.expect("a batch is in flight")??;
        }
        pending.spawn(write_batch(client.clone(), table.to_string(), requests));
    }
    while let Some(done) = pending.join_next().await {
        done??;
    }
    let counts = TaskCounts {
        total: tasks.len() as u64,
        completed: tasks.iter().filter(|t| t.fields.completed).count() as u64,
    };
    client
        .put_item()
        .table_name(table)
        .set_item(Some(counts_item(user, counts)?))
        .send()
        .await?;
    Ok(counts)
}

/// One `BatchWriteItem`, resending unprocessed items until none are left.
async fn write_batch(
    client: Client,
    table: String,
    requests: Vec<WriteRequest>,
) -> Result<(), Error> {
    let mut requests = requests;
    for attempt in 1..=20 {
        let output = client
            .batch_write_item()
            .request_items(&table, requests)
            .send()
            .await?;
        match output.unprocessed_items.and_then(|mut u| u.remove(&table)) {
            Some(left) if !left.is_empty() => requests = left,
            _ => return Ok(()),
        }
        taskline::store::backoff(attempt).await;
    }
    Err("BatchWriteItem kept leaving items unprocessed".into())
}
