//! The harness runs every function's DynamoDB calls under that function's policy in
//! template.yaml: a call outside it fails the test, naming the function, action and resource.

use aws_sdk_dynamodb::types::AttributeValue;
use devtools::harness::{TestApp, as_function};

/// A query of one partition, through the app's (checked) client, on the table or an index.
async fn query(t: &TestApp, index: Option<&str>) {
    t.app
        .store
        .client()
        .query()
        .table_name(&t.table)
        .set_index_name(index.map(str::to_string))
        .key_condition_expression("user_id = :pk")
        .expression_attribute_values(":pk", AttributeValue::S("nobody".into()))
        .send()
        .await
        .map(|_| ())
        .unwrap_or_else(|e| panic!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(e)));
}

#[tokio::test]
async fn a_call_inside_a_functions_policy_runs() {
    let t = TestApp::new().await;
    as_function("tasks", query(&t, Some(taskline::store::DUE_INDEX))).await;
    as_function("account", query(&t, None)).await;
    // The test's own use of the store, outside any function, is not checked.
    query(&t, Some(taskline::store::DUE_INDEX)).await;
}

#[tokio::test]
#[should_panic(
    expected = "RegisterFunction may not call DynamoDB Query: template.yaml does not allow dynamodb:Query on arn:aws:dynamodb:"
)]
async fn a_call_outside_a_functions_actions_fails_the_test() {
    let t = TestApp::new().await;
    as_function("register", query(&t, None)).await;
}

#[tokio::test]
#[should_panic(expected = "/index/by_due")]
async fn a_query_of_an_index_needs_the_index_granted() {
    let t = TestApp::new().await;
    // The account function may query the table, not its sort indexes.
    as_function("account", query(&t, Some(taskline::store::DUE_INDEX))).await;
}
