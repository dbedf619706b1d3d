//! A DynamoDB endpoint that accepts connections and never answers: requests still end, as
//! 503 problems, well within the functions' 10 s timeout (taskline::AWS_OPERATION_TIMEOUT).

use std::time::{Duration, Instant};

use devtools::harness::{TestRequest, call, test_vars};
use taskline::App;
use taskline::auth::UserId;
use taskline::config::Config;
use taskline::store::Store;
use tokio::net::TcpListener;

/// Listens on 127.0.0.1, accepts every connection and holds it open without a byte of reply.
async fn silent_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    format!("http://{address}")
}

async fn app_over(endpoint: &str) -> App {
    let sdk_config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "local", "local", None, None, "test",
        ))
        .load()
        .await;
    let config = Config::from_vars(&test_vars("taskline")).unwrap();
    App::new(
        config,
        Store::new(taskline::dynamodb_client(&sdk_config), "taskline"),
    )
}

/// Well above the operation timeout (5 s), well below the functions' 10 s.
const BOUND: Duration = Duration::from_secs(9);

#[tokio::test]
async fn a_store_that_never_answers_ends_as_503_within_the_function_timeout() {
    let app = app_over(&silent_endpoint().await).await;
    let token = app
        .tokens
        .issue(UserId::generate(), taskline::auth::FamilyId::generate(), 0)
        .unwrap()
        .access_token;
    let requests = [
        (TestRequest::get("/v1/me").bearer(&token), "account"),
        (TestRequest::get("/v1/tasks").bearer(&token), "tasks"),
    ];
    for (req, function) in requests {
        let started = Instant::now();
        let response = match function {
            "account" => tokio::time::timeout(BOUND, call(account::handle, &app, req)).await,
            _ => tokio::time::timeout(BOUND, call(tasks::handle, &app, req)).await,
        }
        .unwrap_or_else(|_| panic!("{function} did not answer within {BOUND:?}"));
        response.problem(503);
        assert!(started.elapsed() < BOUND);
    }
}
