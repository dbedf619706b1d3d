//! Lambda entry point of `account`: build everything once at cold start, then serve.

use std::convert::Infallible;

use lambda_http::{Error, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let app = shared::App::from_env(account::KEYS).await?;
    let app = &app;
    lambda_http::run(service_fn(move |req| async move {
        Ok::<_, Infallible>(account::handle(app, req).await)
    }))
    .await
}
