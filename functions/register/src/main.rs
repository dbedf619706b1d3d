//! Lambda entry point of `register`: build everything once at cold start, then serve.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::run(register::KEYS, register::handle).await
}
