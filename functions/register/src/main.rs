//! Lambda entry point of `register`: build everything once at cold start, then serve.

// One invocation at a time (Lambda never sends the next before this one answers): a
// current-thread runtime, no worker threads to wake and hand work between.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    taskline::run_with_outbox(register::KEYS, taskline_mail::outbox, register::handle).await
}
