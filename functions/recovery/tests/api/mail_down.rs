//! The mail server down (a maildev this test stops, or a port where nothing listens): a
//! request that issues a token answers 503 with `Retry-After` and leaves no usable token;
//! registration creates the account all the same.

use devtools::harness::{TestApp, TestResponse};
use devtools::maildev::{self, Maildev};
use taskline::mail::RESET_SUBJECT;

use crate::common::*;

fn assert_mail_unavailable(response: &TestResponse) {
    let problem = response.problem(503);
    assert_eq!(
        problem["type"],
        "https://taskline.dev/problems/mail-unavailable"
    );
    assert!(response.header("retry-after").is_some());
}

#[tokio::test]
async fn a_reset_while_the_mail_server_is_stopped_is_503_and_leaves_no_usable_token() {
    let t = TestApp::new().await;
    let mut server = Maildev::start().expect("start maildev");
    let port = server.smtp_port.to_string();
    let app = t.app_with(&[("SMTP_PORT", &port)]);
    let email = address("down");
    let user = registered_id(&t, &email).await;

    // Up: the mail arrives in this server's inbox.
    assert_eq!(
        request_reset_with(&app, &email, "192.0.2.1").await.status(),
        202
    );
    let mails = maildev::mails_to(&server.inbox_url(), &email).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0]["subject"], RESET_SUBJECT);
    let delivered = maildev::link_token(&mails[0]);

    server.stop();
    // Known and unknown addresses alike: 503, nothing enumerated.
    assert_mail_unavailable(&request_reset_with(&app, &email, "192.0.2.1").await);
    assert_mail_unavailable(&request_reset_with(&app, &address("nobody"), "192.0.2.1").await);
    // The refused request stored no token: the only live one is the link that was delivered.
    assert_invalid_token(&confirm_reset_with(&app, "", "a brand new passphrase").await);
    assert_eq!(
        confirm_reset_with(&app, &delivered, "a brand new passphrase")
            .await
            .status(),
        204
    );
    assert!(
        !token_items(&t, &user)
            .await
            .contains(&"TOKEN#RESET".to_string())
    );
}

#[tokio::test]
async fn nothing_listening_on_the_smtp_port_is_503_and_no_token_is_stored() {
    let t = TestApp::new().await;
    let dead = devtools::free_port().unwrap().to_string();
    let app = t.app_with(&[("SMTP_PORT", &dead)]);
    let email = address("nothing");
    let user = registered_id(&t, &email).await;
    assert_mail_unavailable(&request_reset_with(&app, &email, "192.0.2.2").await);
    assert!(
        !token_items(&t, &user)
            .await
            .contains(&"TOKEN#RESET".to_string())
    );

    // A signed-in user's request for a verification link: 503, and the older token is
    // still the one registration mailed (nothing half-issued).
    let before = token_items(&t, &user).await;
    let signed_in = session(&t, &email).await;
    assert_mail_unavailable(&ask_for_verification(&app, &signed_in.access_token).await);
    assert_eq!(token_items(&t, &user).await, before);
}

#[tokio::test]
async fn registration_while_the_mail_server_is_down_creates_the_account_without_a_token() {
    let t = TestApp::new().await;
    let dead = devtools::free_port().unwrap().to_string();
    let app = t.app_with(&[("SMTP_PORT", &dead)]);
    let email = address("register-down");
    let response = devtools::harness::call(
        register::handle,
        &app,
        devtools::harness::TestRequest::registration(&email, devtools::harness::TEST_PASSWORD),
    )
    .await;
    assert_eq!(response.status(), 201, "{}", response.text());
    let user = response.json()["id"].as_str().unwrap().to_string();
    assert!(token_items(&t, &user).await.is_empty());
    session(&t, &email).await;
}
