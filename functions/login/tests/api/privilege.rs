//! The login function's calls under its own IAM policy (template.yaml), on its rare paths too.

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use devtools::harness::{TEST_PASSWORD, TestApp, TestRequest, call};

/// A login whose password check straddles a password change: the hash it verified is no
/// longer the stored one once its session exists, so it ends that session again (a query of
/// the session's tokens and a batch of deletions, which its role must allow) and answers 401.
#[tokio::test]
async fn a_login_racing_a_password_change_ends_its_session_within_its_permissions() {
    let t = TestApp::new().await;
    let user = call(
        register::handle,
        &t.app,
        TestRequest::registration("ada@example.com", TEST_PASSWORD),
    )
    .await
    .created_id();
    let before = t.calls.names().len();
    let login = call(
        login::handle,
        &t.app,
        TestRequest::login("ada@example.com", TEST_PASSWORD),
    );
    let change = async {
        // The login has read the hash (the email's reservation, then the user item) and is
        // verifying the password (argon2id, tens of milliseconds): the password changes now.
        loop {
            let reads = t.calls.names()[before..]
                .iter()
                .filter(|name| *name == "GetItem")
                .count();
            if reads >= 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        tokio::time::sleep(Duration::from_millis(3)).await;
        t.client
            .update_item()
            .table_name(&t.table)
            .key(shared::store::PK, AttributeValue::S(user.clone()))
            .key(
                shared::store::SK,
                AttributeValue::S(shared::store::USER_SK.into()),
            )
            .update_expression("SET password_hash = :hash")
            .expression_attribute_values(
                ":hash",
                AttributeValue::S("$argon2id$v=19$m=19456,t=2,p=1$changed$changed".into()),
            )
            .send()
            .await
            .unwrap();
    };
    let (response, ()) = tokio::join!(login, change);
    response.problem(401);
    let sessions: Vec<_> = t
        .partition(&user)
        .await
        .into_iter()
        .filter(|item| {
            item.get(shared::store::SK)
                .and_then(|sk| sk.as_s().ok())
                .is_some_and(|sk| sk.starts_with("REFRESH#"))
        })
        .collect();
    assert!(sessions.is_empty(), "{sessions:?}");
}
