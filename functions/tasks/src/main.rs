//! Lambda entry point of `tasks`: build everything once at cold start, then serve.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::run(tasks::KEYS, tasks::handle).await
}
