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

/// The `SecretString` of the current version of each secret of `ids`, in ONE call (one round
/// trip per cold start, however many keys):
/// `GetSecretValue` for one secret, `BatchGetSecretValue` for more (which needs the
/// `secretsmanager:BatchGetSecretValue` permission besides `GetSecretValue` on each).
pub(crate) async fn read_secrets(
    client: &aws_sdk_secretsmanager::Client,
    ids: Vec<String>,
) -> Result<std::collections::HashMap<String, Result<String, String>>, String> {
    use aws_sdk_secretsmanager::error::DisplayErrorContext;
    let no_string = || "the secret has no SecretString (binary secrets are not supported)".into();
    if let [id] = ids.as_slice() {
        let value = match client.get_secret_value().secret_id(id).send().await {
            Ok(output) => output.secret_string.ok_or_else(no_string),
            Err(e) => Err(DisplayErrorContext(e).to_string()),
        };
        return Ok(std::collections::HashMap::from([(id.clone(), value)]));
    }
    let output = client
        .batch_get_secret_value()
        .set_secret_id_list(Some(ids.clone()))
        .send()
        .await
        .map_err(|e| DisplayErrorContext(e).to_string())?;
    let mut values = std::collections::HashMap::new();
    for secret in output.secret_values() {
        // Asked for by ARN (as template.yaml sets them) or by name.
        let Some(id) = ids
            .iter()
            .find(|id| secret.arn() == Some(id.as_str()) || secret.name() == Some(id.as_str()))
        else {
            continue;
        };
        let value = secret
            .secret_string()
            .map(str::to_owned)
            .ok_or_else(no_string);
        values.insert(id.clone(), value);
    }
    for failed in output.errors() {
        if let Some(id) = failed.secret_id() {
            values.entry(id.to_owned()).or_insert_with(|| {
                Err(format!(
                    "{}: {}",
                    failed.error_code().unwrap_or("error"),
                    failed.message().unwrap_or("")
                ))
            });
        }
    }
    Ok(values)
}
