//! What the login tests share: signing up, and reading what the throttle stored.

use devtools::harness::{TestApp, TestRequest, TestResponse, call};

/// A new account (asserting 201); its id.
pub async fn register(t: &TestApp, email: &str, password: &str) -> String {
    call(
        register::handle,
        &t.app,
        TestRequest::registration(email, password),
    )
    .await
    .created_id()
}

/// The seconds of a 429's `Retry-After`.
pub fn retry_after(response: &TestResponse) -> u64 {
    response
        .header("retry-after")
        .expect("429 carries Retry-After")
        .parse()
        .unwrap()
}

/// `failures` of one throttle counter, as stored.
pub async fn failures(t: &TestApp, pk: &str, sk: &str) -> Option<String> {
    t.partition(pk)
        .await
        .iter()
        .find(|item| item["sk"].as_s().unwrap() == sk)
        .map(|item| item["failures"].as_n().unwrap().clone())
}
