//! Lambda entry point of `refresh`: build everything once at cold start, then serve.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::run(refresh::KEYS, refresh::handle).await
}
