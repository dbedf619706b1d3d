//! The login function's calls under its own IAM policy (template.yaml), on its rare paths too.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsInput;
use aws_sdk_dynamodb::types::AttributeValue;
use devtools::harness::{TEST_PASSWORD, TestApp, TestRequest, call, dynamodb_endpoint};
use taskline::App;
use taskline::config::Config;
use taskline::store::Store;

/// Changes a user's password hash (as a concurrent password change would) at the moment the
/// login starts writing its session: after it read and verified the old hash, before it reads
/// the hash again. Once.
#[derive(Debug, Clone)]
struct ChangePasswordDuringLogin {
    table: String,
    user: String,
    done: Arc<AtomicBool>,
}

impl aws_sdk_dynamodb::config::Intercept for ChangePasswordDuringLogin {
    fn name(&self) -> &'static str {
        "ChangePasswordDuringLogin"
    }

    fn read_before_execution(
        &self,
        context: &aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef<
            '_,
        >,
        _cfg: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let starts_session = context
            .input()
            .downcast_ref::<TransactWriteItemsInput>()
            .is_some_and(|input| {
                input.transact_items().iter().any(|item| {
                    item.put()
                        .and_then(|put| put.item().get(taskline::store::SK))
                        .and_then(|sk| sk.as_s().ok())
                        .is_some_and(|sk| sk.starts_with("REFRESH#"))
                })
            });
        if !starts_session || self.done.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        // The login's task waits here while another client (on a runtime of its own: this
        // one is blocked) writes the new hash.
        let (table, user) = (self.table.clone(), self.user.clone());
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                devtools::tables::local_client(dynamodb_endpoint())
                    .await
                    .update_item()
                    .table_name(table)
                    .key(taskline::store::PK, AttributeValue::S(user))
                    .key(
                        taskline::store::SK,
                        AttributeValue::S(taskline::store::USER_SK.into()),
                    )
                    .update_expression("SET password_hash = :hash")
                    .expression_attribute_values(
                        ":hash",
                        AttributeValue::S("$argon2id$v=19$m=19456,t=2,p=1$changed$changed".into()),
                    )
                    .send()
                    .await
                    .unwrap();
            });
        })
        .join()
        .unwrap();
        Ok(())
    }
}

/// A login whose password check straddles a password change: the hash it verified is no
/// longer the stored one when its session is written, so its transaction (conditioned on that
/// hash) writes nothing and it answers 401, every call within the login role's policy and no
/// session item left behind.
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
    let hook = ChangePasswordDuringLogin {
        table: t.table.clone(),
        user: user.clone(),
        done: Arc::default(),
    };
    // The test app's own client (its policy check and call counter) plus the hook.
    let client = aws_sdk_dynamodb::Client::from_conf(
        t.app
            .store
            .client()
            .config()
            .to_builder()
            .interceptor(hook.clone())
            .build(),
    );
    let app = App::new(
        Config::from_vars(&devtools::harness::test_vars(&t.table)).unwrap(),
        Store::new(client, t.table.clone()),
    );
    let (response, calls) = t
        .calls
        .during(call(
            login::handle,
            &app,
            TestRequest::login("ada@example.com", TEST_PASSWORD),
        ))
        .await;
    assert!(hook.done.load(Ordering::SeqCst));
    response.problem(401);
    assert!(
        calls.contains(&"TransactWriteItems".to_string()),
        "the login tried to write its session: {calls:?}"
    );
    let sessions: Vec<_> = t
        .partition(&user)
        .await
        .into_iter()
        .filter(|item| {
            item.get(taskline::store::SK)
                .and_then(|sk| sk.as_s().ok())
                .is_some_and(|sk| sk.starts_with("REFRESH#"))
        })
        .collect();
    assert!(sessions.is_empty(), "{sessions:?}");
}
