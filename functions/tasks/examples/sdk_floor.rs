//! The CPU floor of a Lambda function that keeps aws-sdk-dynamodb (what no work of ours can
//! go below, so a CPU target under it cannot be met with this SDK): the same runtime
//! (`lambda_http`, a current-thread tokio), allocator and DynamoDB client as the functions, and
//! nothing else. `scripts/bench.py --floor` runs it in the benchmark's Runtime API emulator:
//!
//! - `FLOOR_MODE=echo`: answers every invoke without DynamoDB (the runtime's own cost);
//! - `FLOOR_MODE=get`: one consistent `GetItem` of a 400-byte item per invoke;
//! - `FLOOR_MODE=batch`: one consistent `BatchGetItem` of `FLOOR_KEYS` (3) such items, as a
//!   taskline get makes;
//! - `FLOOR_SDK=lean`: the client without stalled-stream protection, timeouts or retries (what
//!   the SDK's configuration alone can take off a call; the functions keep all three);
//! - `FLOOR_SDK=own-http`: the lean client over [`OneConnection`], a bare HTTP/1.1 connection
//!   of our own in place of the SDK's hyper client (plain HTTP, so local endpoints only): what
//!   an HTTP client of our own could take off a call at most.
//!
//! Not a function of the product: a yardstick for what a request of ours costs above it.
use std::collections::HashMap;

use aws_sdk_dynamodb::config::http::{HttpRequest, HttpResponse};
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use aws_smithy_runtime_api::client::http::{
    HttpConnector, HttpConnectorFuture, SharedHttpConnector, http_client_fn,
};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use lambda_http::{Body, Error, Request, Response, service_fn};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufStream};
use tokio::net::TcpStream;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let mode = std::env::var("FLOOR_MODE").unwrap_or_else(|_| "echo".into());
    let keys: usize = std::env::var("FLOOR_KEYS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(3);
    let sdk = std::env::var("FLOOR_SDK").unwrap_or_default();
    let table = std::env::var("TABLE_NAME").map_err(|_| "TABLE_NAME is not set")?;

    let sdk_config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await;
    let client = if sdk == "lean" || sdk == "own-http" {
        let mut config = aws_sdk_dynamodb::config::Builder::from(&sdk_config);
        if sdk == "own-http" {
            let connection = OneConnection::default();
            config = config.http_client(http_client_fn(move |_, _| {
                SharedHttpConnector::new(connection.clone())
            }));
        }
        let config = config
            .stalled_stream_protection(
                aws_sdk_dynamodb::config::StalledStreamProtectionConfig::disabled(),
            )
            .timeout_config(aws_sdk_dynamodb::config::timeout::TimeoutConfig::disabled())
            .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
            .build();
        aws_sdk_dynamodb::Client::from_conf(config)
    } else {
        taskline::aws::dynamodb_client(&sdk_config)
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

/// One kept-alive plain HTTP/1.1 connection, requests written and responses read in the calling
/// task (no pool, no connection task): the least an HTTP client under the SDK can do. Knows
/// `Content-Length` bodies only, which is what DynamoDB and the bench's proxy send.
#[derive(Debug, Default, Clone)]
struct OneConnection {
    stream: std::sync::Arc<tokio::sync::Mutex<Option<BufStream<TcpStream>>>>,
}

impl HttpConnector for OneConnection {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let connection = self.clone();
        HttpConnectorFuture::new(async move {
            connection
                .exchange(request)
                .await
                .map_err(|e| ConnectorError::io(e.into()))
        })
    }
}

impl OneConnection {
    async fn exchange(&self, request: HttpRequest) -> std::io::Result<HttpResponse> {
        let invalid =
            |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
        let uri = request.uri();
        let rest = uri
            .strip_prefix("http://")
            .ok_or_else(|| invalid("plain http only"))?;
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let path = if path.is_empty() { "/" } else { path };
        let body = request
            .body()
            .bytes()
            .ok_or_else(|| invalid("streaming request body"))?;
        let mut head = format!(
            "{} {path} HTTP/1.1\r\nhost: {authority}\r\n",
            request.method()
        );
        for (name, value) in request.headers() {
            if !name.eq_ignore_ascii_case("host") && !name.eq_ignore_ascii_case("content-length") {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
        }
        head.push_str(&format!("content-length: {}\r\n\r\n", body.len()));

        let mut guard = self.stream.lock().await;
        if guard.is_none() {
            let stream = TcpStream::connect(authority).await?;
            stream.set_nodelay(true)?;
            *guard = Some(BufStream::new(stream));
        }
        let Some(stream) = guard.as_mut() else {
            unreachable!()
        };
        let result: std::io::Result<HttpResponse> = async {
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(body).await?;
            stream.flush().await?;
            let mut line = String::new();
            stream.read_line(&mut line).await?;
            let status: u16 = line
                .split(' ')
                .nth(1)
                .and_then(|code| code.parse().ok())
                .ok_or_else(|| invalid("status line"))?;
            let mut headers = Vec::new();
            let mut length = 0usize;
            loop {
                line.clear();
                stream.read_line(&mut line).await?;
                let header = line.trim_end();
                if header.is_empty() {
                    break;
                }
                let (name, value) = header.split_once(':').ok_or_else(|| invalid("header"))?;
                let (name, value) = (name.trim().to_ascii_lowercase(), value.trim().to_owned());
                if name == "content-length" {
                    length = value.parse().map_err(|_| invalid("content-length"))?;
                }
                if name == "transfer-encoding" {
                    return Err(invalid("chunked response"));
                }
                headers.push((name, value));
            }
            let mut data = vec![0; length];
            stream.read_exact(&mut data).await?;
            let status = StatusCode::try_from(status).map_err(|_| invalid("status"))?;
            let mut response = HttpResponse::new(status, SdkBody::from(data));
            for (name, value) in headers {
                response.headers_mut().insert(name, value);
            }
            Ok(response)
        }
        .await;
        if result.is_err() {
            *guard = None; // a broken exchange leaves the connection in an unknown state
        }
        result
    }
}
