//! The AWS clients of a function, each call bounded in time so that a hung connection ends as
//! an answer instead of an invocation killed by Lambda.

/// How long one attempt of an AWS call may take, and the whole call with its retries. The
/// operation bound is well within the shortest function timeout (10 s in template.yaml), so
/// a hung connection ends as an answer (503 for DynamoDB, a named start-up error for Secrets
/// Manager) instead of an invocation killed by Lambda.
pub const AWS_ATTEMPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);
pub const AWS_OPERATION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

fn aws_timeouts() -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .operation_attempt_timeout(AWS_ATTEMPT_TIMEOUT)
        .operation_timeout(AWS_OPERATION_TIMEOUT)
        .build()
}

/// The DynamoDB client of every function, its calls bounded by [`AWS_OPERATION_TIMEOUT`].
pub fn dynamodb_client(sdk_config: &aws_config::SdkConfig) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::config::Builder::from(sdk_config)
        .timeout_config(aws_timeouts())
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// A Secrets Manager client whose calls give up after a few seconds, so a cold start never
/// hangs on an unreachable endpoint (the function then fails to start, naming the secret).
pub(crate) fn secrets_manager(
    sdk_config: &aws_config::SdkConfig,
) -> aws_sdk_secretsmanager::Client {
    let config = aws_sdk_secretsmanager::config::Builder::from(sdk_config)
        .timeout_config(aws_timeouts())
        .build();
    aws_sdk_secretsmanager::Client::from_conf(config)
}

/// The `SecretString` of the current version of a secret.
pub(crate) async fn read_secret(
    client: &aws_sdk_secretsmanager::Client,
    arn: String,
) -> Result<String, String> {
    let output = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string())?;
    output
        .secret_string
        .ok_or_else(|| "the secret has no SecretString (binary secrets are not supported)".into())
}
