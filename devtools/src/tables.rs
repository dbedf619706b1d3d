//! Tables created from template.yaml's `AWS::DynamoDB::Table` resources: the template is the
//! single source of truth for key schema, indexes and TTL, locally as in AWS.

use std::path::Path;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};
use serde_yaml::Value;

/// One table as the template defines it.
#[derive(Debug, Clone)]
pub struct TableDefinition {
    pub logical_id: String,
    properties: Value,
}

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Every `AWS::DynamoDB::Table` resource of a SAM/CloudFormation template.
pub fn from_template(path: &Path) -> Result<Vec<TableDefinition>, Error> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let template: Value = serde_yaml::from_str(&text)?;
    let resources = template
        .get("Resources")
        .and_then(Value::as_mapping)
        .ok_or("template has no Resources")?;
    let tables: Vec<TableDefinition> = resources
        .iter()
        .filter(|(_, r)| r.get("Type").and_then(Value::as_str) == Some("AWS::DynamoDB::Table"))
        .map(|(id, r)| TableDefinition {
            logical_id: id.as_str().unwrap_or_default().to_string(),
            properties: r.get("Properties").cloned().unwrap_or(Value::Null),
        })
        .collect();
    if tables.is_empty() {
        return Err("template defines no AWS::DynamoDB::Table".into());
    }
    Ok(tables)
}

fn list<'a>(value: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    value
        .get(key)
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(with_defaults)
}

/// An element as a stack deployed with the parameters' defaults has it: an `!If` element
/// is its first branch (every condition on the table holds with the defaults) and
/// `!Ref AWS::NoValue` none.
pub fn with_defaults(value: &Value) -> Option<&Value> {
    match value {
        Value::Tagged(tagged) if tagged.tag == "If" => {
            tagged.value.as_sequence()?.get(1).and_then(with_defaults)
        }
        Value::Tagged(tagged)
            if tagged.tag == "Ref" && tagged.value.as_str() == Some("AWS::NoValue") =>
        {
            None
        }
        other => Some(other),
    }
}

fn text<'a>(value: &'a Value, key: &str) -> Result<&'a str, Error> {
    value
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("missing {key}").into())
}

fn key_schema(value: &Value) -> Result<Vec<KeySchemaElement>, Error> {
    list(value, "KeySchema")
        .map(|k| {
            Ok(KeySchemaElement::builder()
                .attribute_name(text(k, "AttributeName")?)
                .key_type(KeyType::from(text(k, "KeyType")?))
                .build()?)
        })
        .collect()
}

fn attribute_definitions(value: &Value) -> Result<Vec<AttributeDefinition>, Error> {
    list(value, "AttributeDefinitions")
        .map(|a| {
            Ok(AttributeDefinition::builder()
                .attribute_name(text(a, "AttributeName")?)
                .attribute_type(ScalarAttributeType::from(text(a, "AttributeType")?))
                .build()?)
        })
        .collect()
}

/// One entry of `GlobalSecondaryIndexes` (projection `ALL` unless the template says otherwise).
fn global_secondary_index(index: &Value) -> Result<GlobalSecondaryIndex, Error> {
    let projection = index.get("Projection").unwrap_or(&Value::Null);
    let mut proj = Projection::builder().projection_type(ProjectionType::from(
        projection
            .get("ProjectionType")
            .and_then(Value::as_str)
            .unwrap_or("ALL"),
    ));
    for attr in list(projection, "NonKeyAttributes") {
        proj = proj.non_key_attributes(attr.as_str().unwrap_or_default());
    }
    Ok(GlobalSecondaryIndex::builder()
        .index_name(text(index, "IndexName")?)
        .set_key_schema(Some(key_schema(index)?))
        .projection(proj.build())
        .build()?)
}

impl TableDefinition {
    /// Creates the table under `name`; an existing table is left as it is (idempotent).
    pub async fn create(&self, client: &Client, name: &str) -> Result<(), Error> {
        let p = &self.properties;
        let indexes = list(p, "GlobalSecondaryIndexes")
            .map(global_secondary_index)
            .collect::<Result<Vec<_>, _>>()?;
        let request = client
            .create_table()
            .table_name(name)
            .billing_mode(BillingMode::PayPerRequest)
            .set_key_schema(Some(key_schema(p)?))
            .set_attribute_definitions(Some(attribute_definitions(p)?).filter(|d| !d.is_empty()))
            .set_global_secondary_indexes((!indexes.is_empty()).then_some(indexes));
        match request.send().await {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_in_use_exception()) =>
            {
                return Ok(());
            }
            Err(e) => return Err(format!("creating table {name}: {e:?}").into()),
        }
        self.enable_ttl(client, name).await
    }

    /// Turns on the template's `TimeToLiveSpecification`, if it enables one.
    async fn enable_ttl(&self, client: &Client, name: &str) -> Result<(), Error> {
        let Some(ttl) = self.properties.get("TimeToLiveSpecification") else {
            return Ok(());
        };
        if ttl.get("Enabled").and_then(Value::as_bool) != Some(true) {
            return Ok(());
        }
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(text(ttl, "AttributeName")?)
                    .enabled(true)
                    .build()?,
            )
            .send()
            .await
            .map_err(|e| format!("enabling TTL on {name}: {e:?}"))?;
        Ok(())
    }
}

/// A DynamoDB client for a local endpoint with dummy credentials.
pub async fn local_client(endpoint: &str) -> Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "local",
            "local",
            None,
            None,
            "taskline-local",
        ))
        .load()
        .await;
    Client::new(&config)
}
