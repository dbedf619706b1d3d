//! Lambda entry point of `login`: build everything once at cold start, then serve.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::run(login::KEYS, login::handle).await
}
