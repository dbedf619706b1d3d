//! The CPU floor of a Lambda function that keeps aws-sdk-dynamodb (issue 15): the same runtime
//! (`lambda_http`, a current-thread tokio), allocator and DynamoDB client as the functions, and
//! nothing else. `scripts/bench.py --floor` runs it in the benchmark's Runtime API emulator:
//!
//! - `FLOOR_MODE=echo`: answers every invoke without DynamoDB (the runtime's own cost);
//! - `FLOOR_MODE=get`: one consistent `GetItem` of a 400-byte item per invoke;
//! - `FLOOR_MODE=batch`: one consistent `BatchGetItem` of `FLOOR_KEYS` (3) such items, as a
//!   taskline get makes;
//! - `FLOOR_SDK=lean`: the client without stalled-stream protection, timeouts or retries (what
//!   the SDK's configuration alone can take off a call; the functions keep all three).
//!
//! Not a function of the product: a yardstick for what a request of ours costs above it.
use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use lambda_http::{Body, Error, Request, Response, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let mode = std::env::var("FLOOR_MODE").unwrap_or_else(|_| "echo".into());
    let keys: usize = std::env::var("FLOOR_KEYS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(3);
    let lean = std::env::var("FLOOR_SDK").is_ok_and(|sdk| sdk == "lean");
    let table = std::env::var("TABLE_NAME").map_err(|_| "TABLE_NAME is not set")?;

    let sdk_config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await;
    let client = if lean {
        let config = aws_sdk_dynamodb::config::Builder::from(&sdk_config)
            .stalled_stream_protection(
                aws_sdk_dynamodb::config::StalledStreamProtectionConfig::disabled(),
            )
            .timeout_config(aws_sdk_dynamodb::config::timeout::TimeoutConfig::disabled())
            .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
            .build();
        aws_sdk_dynamodb::Client::from_conf(config)
    } else {
        shared::aws::dynamodb_client(&sdk_config)
    };
    let key = |i: usize| {
        HashMap::from([
            (
                "user_id".to_owned(),
                AttributeValue::S("USER#sdk-floor".into()),
            ),
            ("sk".to_owned(), AttributeValue::S(format!("ITEM#{i}"))),
        ])
    };
    if mode != "echo" {
        // Seeded during init, so every invoke reads items of a task's size.
        for i in 0..keys {
            let mut item = key(i);
            item.insert("data".into(), AttributeValue::S("x".repeat(400)));
            item.insert("version".into(), AttributeValue::N("12345".into()));
            client
                .put_item()
                .table_name(&table)
                .set_item(Some(item))
                .send()
                .await?;
        }
    }
    let (mode, client, table, key) = (&mode, &client, &table, &key);
    lambda_http::run(service_fn(move |_request: Request| async move {
        match mode.as_str() {
            "get" => {
                let key = Some(key(0));
                client
                    .get_item()
                    .table_name(table)
                    .set_key(key)
                    .consistent_read(true)
                    .send()
                    .await?;
            }
            "batch" => {
                let wanted = KeysAndAttributes::builder()
                    .set_keys(Some((0..keys).map(key).collect()))
                    .consistent_read(true)
                    .build()?;
                client
                    .batch_get_item()
                    .request_items(table, wanted)
                    .send()
                    .await?;
            }
            _ => {}
        }
        Ok::<_, Error>(
            Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .body(Body::from("{}"))?,
        )
    }))
    .await
}
