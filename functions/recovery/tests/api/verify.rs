//! Email verification: registration mails a link, `POST /v1/auth/verify-email` spends it once,
//! `POST /v1/me/verification-email` mails a new one (budgeted), `GET /v1/me` tells.

use devtools::harness::TestApp;
use devtools::maildev;
use taskline::mail::VERIFY_SUBJECT;

use crate::common::*;

#[tokio::test]
async fn registration_mails_a_link_that_verifies_the_email_once() {
    let t = TestApp::new().await;
    let email = address("verify");
    let created = register(&t, &email).await;
    assert_eq!(created["email_verified"], false);
    let mail = maildev::latest_mail(&email, VERIFY_SUBJECT).await;
    assert!(
        mail["text"]
            .as_str()
            .unwrap()
            .lines()
            .any(|line| line.starts_with("http://localhost:5173/verify-email#token="))
    );
    let token = maildev::link_token(&mail);
    let signed_in = session(&t, &email).await;
    assert_eq!(
        me(&t, &signed_in.access_token).await.json()["email_verified"],
        false
    );

    assert_eq!(verify_email(&t, &token).await.status(), 204);
    assert_eq!(
        me(&t, &signed_in.access_token).await.json()["email_verified"],
        true
    );
    assert_invalid_token(&verify_email(&t, &token).await);
    // Verified: no new link.
    let problem = ask_for_verification(&t.app, &signed_in.access_token)
        .await
        .problem(409);
    assert_eq!(problem["detail"], "the email is verified already");
}

#[tokio::test]
async fn a_new_link_replaces_the_older_one() {
    let t = TestApp::new().await;
    let email = address("again");
    register(&t, &email).await;
    let older = mailed_token(&email, VERIFY_SUBJECT).await;
    let signed_in = session(&t, &email).await;

    let response = ask_for_verification(&t.app, &signed_in.access_token).await;
    assert_eq!(response.status(), 202, "{}", response.text());
    assert_eq!(response.json(), serde_json::json!({ "status": "accepted" }));
    let newer = mailed_token(&email, VERIFY_SUBJECT).await;
    assert_ne!(older, newer);
    assert_invalid_token(&verify_email(&t, &older).await);
    assert_eq!(verify_email(&t, &newer).await.status(), 204);
}

#[tokio::test]
async fn verification_mails_are_budgeted_per_user() {
    let t = TestApp::new().await;
    let app = t.app_with(&[("VERIFICATION_EMAILS_PER_USER", "2")]);
    let email = address("budget");
    register(&t, &email).await;
    let signed_in = session(&t, &email).await;
    for _ in 0..2 {
        assert_eq!(
            ask_for_verification(&app, &signed_in.access_token)
                .await
                .status(),
            202
        );
    }
    let refused = ask_for_verification(&app, &signed_in.access_token).await;
    refused.problem(429);
    assert!(refused.header("retry-after").is_some());
    // Another user has a budget of its own.
    let other = address("other");
    register(&t, &other).await;
    let other = session(&t, &other).await;
    assert_eq!(
        ask_for_verification(&app, &other.access_token)
            .await
            .status(),
        202
    );
}

#[tokio::test]
async fn a_verification_link_needs_a_bearer_token_to_be_asked_for() {
    let t = TestApp::new().await;
    devtools::harness::call(
        account::handle,
        &t.app,
        devtools::harness::TestRequest::post("/v1/me/verification-email"),
    )
    .await
    .problem(401);
}
