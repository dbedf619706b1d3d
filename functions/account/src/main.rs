//! Lambda entry point of `account`: build everything once at cold start, then serve.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::run(account::KEYS, account::handle).await
}
