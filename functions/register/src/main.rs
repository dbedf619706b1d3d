//! Lambda entry point of `register`: build everything once at cold start, then serve.

use std::convert::Infallible;

use lambda_http::{Error, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let app = shared::App::from_env(register::KEYS).await?;
    let app = &app;
    lambda_http::run(service_fn(move |req| async move {
        Ok::<_, Infallible>(register::handle(app, req).await)
    }))
    .await
}
