//! Each function's IAM permissions as template.yaml grants them, and the check of a DynamoDB
//! call against them. DynamoDB Local enforces no IAM, so without this a call the deployed role
//! may not make (an action missing from its statements, an index not granted) passes every
//! test and fails in AWS; the harness runs every call a function makes through
//! [`Policy::check`] (see `harness`).
//!
//! The template is read as CloudFormation and SAM would read it, for a stack deployed with
//! the parameters' defaults: the function's `Policies` (inline documents and the SAM policy
//! templates, expanded to the statements SAM generates), their intrinsics (`!Ref`, `!GetAtt`,
//! `!Sub`, `!Join`, `!If` with the template's conditions) and IAM's evaluation (an explicit
//! `Deny` wins, otherwise some `Allow` must match; `*` and `?` wildcards in actions,
//! case-insensitive, and in resources). What this model does not know (a managed policy, a
//! `Condition`, `NotAction`, an unknown policy template or intrinsic) is an error, never a
//! silent allow.

use std::collections::HashMap;
use std::path::Path;

use aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemInput;
use aws_sdk_dynamodb::operation::batch_write_item::BatchWriteItemInput;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemInput;
use aws_sdk_dynamodb::operation::get_item::GetItemInput;
use aws_sdk_dynamodb::operation::put_item::PutItemInput;
use aws_sdk_dynamodb::operation::query::QueryInput;
use aws_sdk_dynamodb::operation::scan::ScanInput;
use aws_sdk_dynamodb::operation::transact_get_items::TransactGetItemsInput;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsInput;
use aws_sdk_dynamodb::operation::update_item::UpdateItemInput;
use serde_yaml::Value;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Where the tests' stack "is": the ARNs of the template's resources and of the calls are
/// built with these.
pub const PARTITION: &str = "aws";
pub const REGION: &str = "us-east-1";
pub const ACCOUNT_ID: &str = "123456789012";

/// The ARN of the DynamoDB table `name` (a name given as an ARN already is kept).
pub fn table_arn(name: &str) -> String {
    if name.starts_with("arn:") {
        name.to_string()
    } else {
        format!("arn:{PARTITION}:dynamodb:{REGION}:{ACCOUNT_ID}:table/{name}")
    }
}

/// A batch operation's action on each table it names (a batch is authorised per table), in
/// the order of the tables' names.
fn per_table<V>(
    action: &str,
    request_items: Option<&std::collections::HashMap<String, V>>,
) -> Vec<Permission> {
    let mut tables: Vec<&String> = request_items
        .into_iter()
        .flat_map(|items| items.keys())
        .collect();
    tables.sort();
    tables
        .into_iter()
        .map(|table| Permission::new(action, table_arn(table)))
        .collect()
}

/// One permission a call needs: an IAM action on a resource ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permission {
    pub action: String,
    pub resource: String,
}

impl Permission {
    pub fn new(action: &str, resource: impl Into<String>) -> Self {
        Self {
            action: action.to_string(),
            resource: resource.into(),
        }
    }
}

impl std::fmt::Display for Permission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} on {}", self.action, self.resource)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    Allow,
    Deny,
}

#[derive(Debug, Clone)]
struct Statement {
    effect: Effect,
    actions: Vec<String>,
    resources: Vec<String>,
}

impl Statement {
    fn matches(&self, permission: &Permission) -> bool {
        self.actions.iter().any(|a| {
            wildcard_match(
                &a.to_ascii_lowercase(),
                &permission.action.to_ascii_lowercase(),
            )
        }) && self
            .resources
            .iter()
            .any(|r| wildcard_match(r, &permission.resource))
    }
}

/// The permissions of one function's role, as far as its `Policies` grant them.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The function's logical id in the template (`LoginFunction`).
    pub function: String,
    statements: Vec<Statement>,
}

impl Policy {
    /// Whether IAM would allow `permission`: no `Deny` matches and some `Allow` does.
    pub fn allows(&self, permission: &Permission) -> bool {
        let matching = |effect| {
            self.statements
                .iter()
                .any(|s| s.effect == effect && s.matches(permission))
        };
        !matching(Effect::Deny) && matching(Effect::Allow)
    }

    /// `Ok` if every permission `input` (a DynamoDB operation's input) needs is allowed, else
    /// the sentence naming the function, the operation and what it lacks.
    pub fn check(
        &self,
        input: &aws_smithy_runtime_api::client::interceptors::context::Input,
    ) -> Result<(), String> {
        let (operation, needed) = required_permissions(input)?;
        let denied: Vec<String> = needed
            .iter()
            .filter(|p| !self.allows(p))
            .map(Permission::to_string)
            .collect();
        if denied.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{} may not call DynamoDB {operation}: template.yaml does not allow {}",
                self.function,
                denied.join(", ")
            ))
        }
    }
}

/// `*` matches any run of characters, `?` any one character, everything else itself.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == '?' || c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// The operation a DynamoDB input is of, and the permissions IAM checks for it (the
/// DynamoDB developer guide's "API permissions" reference): the action of the same name on
/// the table, or on `table/<name>/index/<index>` for a `Query` or `Scan` of an index;
/// `BatchGetItem` and `BatchWriteItem` on each table they touch; `TransactWriteItems` as the
/// action of each of its items (`PutItem`, `UpdateItem`, `DeleteItem`, `ConditionCheckItem`)
/// on its table, `TransactGetItems` as `GetItem` per item. An operation not known here is an
/// error (it must be added, not waved through).
pub fn required_permissions(
    input: &aws_smithy_runtime_api::client::interceptors::context::Input,
) -> Result<(&'static str, Vec<Permission>), String> {
    let table = |name: Option<&str>| table_arn(name.unwrap_or_default());
    let table_or_index = |name: Option<&str>, index: Option<&str>| match index {
        Some(index) => format!("{}/index/{index}", table(name)),
        None => table(name),
    };
    if let Some(i) = input.downcast_ref::<GetItemInput>() {
        return Ok((
            "GetItem",
            vec![Permission::new("dynamodb:GetItem", table(i.table_name()))],
        ));
    }
    if let Some(i) = input.downcast_ref::<PutItemInput>() {
        return Ok((
            "PutItem",
            vec![Permission::new("dynamodb:PutItem", table(i.table_name()))],
        ));
    }
    if let Some(i) = input.downcast_ref::<UpdateItemInput>() {
        return Ok((
            "UpdateItem",
            vec![Permission::new(
                "dynamodb:UpdateItem",
                table(i.table_name()),
            )],
        ));
    }
    if let Some(i) = input.downcast_ref::<DeleteItemInput>() {
        return Ok((
            "DeleteItem",
            vec![Permission::new(
                "dynamodb:DeleteItem",
                table(i.table_name()),
            )],
        ));
    }
    if let Some(i) = input.downcast_ref::<QueryInput>() {
        return Ok((
            "Query",
            vec![Permission::new(
                "dynamodb:Query",
                table_or_index(i.table_name(), i.index_name()),
            )],
        ));
    }
    if let Some(i) = input.downcast_ref::<ScanInput>() {
        return Ok((
            "Scan",
            vec![Permission::new(
                "dynamodb:Scan",
                table_or_index(i.table_name(), i.index_name()),
            )],
        ));
    }
    if let Some(i) = input.downcast_ref::<BatchGetItemInput>() {
        let needed = per_table("dynamodb:BatchGetItem", i.request_items());
        return Ok(("BatchGetItem", needed));
    }
    if let Some(i) = input.downcast_ref::<BatchWriteItemInput>() {
        let needed = per_table("dynamodb:BatchWriteItem", i.request_items());
        return Ok(("BatchWriteItem", needed));
    }
    if let Some(i) = input.downcast_ref::<TransactWriteItemsInput>() {
        let mut needed = Vec::new();
        for item in i.transact_items() {
            let permission = if let Some(put) = item.put() {
                Permission::new("dynamodb:PutItem", table_arn(put.table_name()))
            } else if let Some(update) = item.update() {
                Permission::new("dynamodb:UpdateItem", table_arn(update.table_name()))
            } else if let Some(delete) = item.delete() {
                Permission::new("dynamodb:DeleteItem", table_arn(delete.table_name()))
            } else if let Some(check) = item.condition_check() {
                Permission::new("dynamodb:ConditionCheckItem", table_arn(check.table_name()))
            } else {
                return Err("a TransactWriteItems item of no known kind".into());
            };
            if !needed.contains(&permission) {
                needed.push(permission);
            }
        }
        return Ok(("TransactWriteItems", needed));
    }
    if let Some(i) = input.downcast_ref::<TransactGetItemsInput>() {
        let mut needed = Vec::new();
        for item in i.transact_items() {
            let name = item.get().map(|get| get.table_name()).unwrap_or_default();
            let permission = Permission::new("dynamodb:GetItem", table_arn(name));
            if !needed.contains(&permission) {
                needed.push(permission);
            }
        }
        return Ok(("TransactGetItems", needed));
    }
    Err(format!(
        "no IAM model of this DynamoDB operation (add it to devtools/src/iam.rs): {input:?}"
    ))
}

/// The policies of every `AWS::Serverless::Function` of the template, by logical id, with
/// the template's DynamoDB tables named as `tables` says (logical id -> the table's name in
/// this test).
pub fn function_policies(
    template: &Path,
    tables: &HashMap<String, String>,
) -> Result<HashMap<String, Policy>, Error> {
    let text = std::fs::read_to_string(template)
        .map_err(|e| format!("reading {}: {e}", template.display()))?;
    let template: Value = serde_yaml::from_str(&text)?;
    let stack = Stack::new(&template, tables)?;
    let resources = template
        .get("Resources")
        .and_then(Value::as_mapping)
        .ok_or("template has no Resources")?;
    let mut policies = HashMap::new();
    for (id, resource) in resources {
        if resource.get("Type").and_then(Value::as_str) != Some("AWS::Serverless::Function") {
            continue;
        }
        let id = id.as_str().unwrap_or_default().to_string();
        let properties = resource.get("Properties").unwrap_or(&Value::Null);
        if properties.get("Role").is_some() {
            return Err(format!("{id}: a Role of its own is not modelled (use Policies)").into());
        }
        let statements = match properties.get("Policies") {
            None => Vec::new(),
            Some(policies) => stack.policies(policies).map_err(|e| format!("{id}: {e}"))?,
        };
        policies.insert(
            id.clone(),
            Policy {
                function: id,
                statements,
            },
        );
    }
    Ok(policies)
}

/// The logical id of the function whose `Metadata.BuildProperties.Binary` is `binary`.
pub fn function_of_binary(template: &Path, binary: &str) -> Result<String, Error> {
    let text = std::fs::read_to_string(template)
        .map_err(|e| format!("reading {}: {e}", template.display()))?;
    let template: Value = serde_yaml::from_str(&text)?;
    template
        .get("Resources")
        .and_then(Value::as_mapping)
        .into_iter()
        .flatten()
        .find(|(_, r)| {
            r.get("Metadata")
                .and_then(|m| m.get("BuildProperties"))
                .and_then(|b| b.get("Binary"))
                .and_then(Value::as_str)
                == Some(binary)
        })
        .and_then(|(id, _)| id.as_str().map(str::to_string))
        .ok_or_else(|| format!("no function of template.yaml builds the binary {binary:?}").into())
}

/// The template's resources, parameters and conditions, to resolve intrinsics with.
struct Stack<'a> {
    resources: &'a serde_yaml::Mapping,
    parameters: HashMap<String, String>,
    conditions: HashMap<String, bool>,
    tables: &'a HashMap<String, String>,
}

impl<'a> Stack<'a> {
    fn new(template: &'a Value, tables: &'a HashMap<String, String>) -> Result<Self, Error> {
        let resources = template
            .get("Resources")
            .and_then(Value::as_mapping)
            .ok_or("template has no Resources")?;
        let parameters = template
            .get("Parameters")
            .and_then(Value::as_mapping)
            .into_iter()
            .flatten()
            .filter_map(|(name, p)| {
                let default = match p.get("Default")? {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => return None,
                };
                Some((name.as_str()?.to_string(), default))
            })
            .collect();
        let mut stack = Self {
            resources,
            parameters,
            conditions: HashMap::new(),
            tables,
        };
        let definitions = template
            .get("Conditions")
            .and_then(Value::as_mapping)
            .cloned()
            .unwrap_or_default();
        // Conditions may name each other: evaluate until every one is known.
        for _ in 0..=definitions.len() {
            for (name, definition) in &definitions {
                let Some(name) = name.as_str() else { continue };
                if stack.conditions.contains_key(name) {
                    continue;
                }
                if let Ok(value) = stack.condition(definition) {
                    stack.conditions.insert(name.to_string(), value);
                }
            }
        }
        if stack.conditions.len() != definitions.len() {
            return Err("some Conditions of the template cannot be evaluated".into());
        }
        Ok(stack)
    }

    fn condition(&self, value: &Value) -> Result<bool, Error> {
        let (tag, args) = intrinsic(value).ok_or("a condition must be an intrinsic")?;
        let list = || args.as_sequence().cloned().unwrap_or_default();
        match tag {
            "Equals" => {
                let list = list();
                let [a, b] = list.as_slice() else {
                    return Err("Equals takes two values".into());
                };
                Ok(self.string(a)? == self.string(b)?)
            }
            "Not" => {
                let list = list();
                let [c] = list.as_slice() else {
                    return Err("Not takes one condition".into());
                };
                Ok(!self.condition(c)?)
            }
            "And" => list()
                .iter()
                .try_fold(true, |acc, c| Ok(acc && self.condition(c)?)),
            "Or" => list()
                .iter()
                .try_fold(false, |acc, c| Ok(acc || self.condition(c)?)),
            "Condition" => {
                let name = args.as_str().ok_or("Condition names a condition")?;
                self.conditions
                    .get(name)
                    .copied()
                    .ok_or_else(|| format!("condition {name} not evaluated yet").into())
            }
            other => Err(format!("unknown condition function {other}").into()),
        }
    }

    /// `value` without its `!If`s (the branch the conditions choose); `None` for
    /// `!Ref AWS::NoValue`.
    fn chosen(&self, value: &'a Value) -> Result<Option<&'a Value>, Error> {
        match intrinsic(value) {
            Some(("If", args)) => {
                let list = args.as_sequence().ok_or("If takes a list")?;
                let [name, yes, no] = list.as_slice() else {
                    return Err("If takes a condition and two values".into());
                };
                let name = name.as_str().ok_or("If names a condition")?;
                let holds = *self
                    .conditions
                    .get(name)
                    .ok_or_else(|| format!("unknown condition {name}"))?;
                self.chosen(if holds { yes } else { no })
            }
            Some(("Ref", name)) if name.as_str() == Some("AWS::NoValue") => Ok(None),
            _ => Ok(Some(value)),
        }
    }

    /// A string value with its intrinsics resolved.
    fn string(&self, value: &Value) -> Result<String, Error> {
        match value {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            _ => match intrinsic(value) {
                Some(("Ref", name)) => self.reference(name.as_str().ok_or("Ref takes a name")?),
                Some(("GetAtt", target)) => {
                    let (resource, attribute) = match target {
                        Value::String(s) => {
                            s.split_once('.').ok_or("GetAtt takes Resource.Attribute")?
                        }
                        Value::Sequence(list) => match list.as_slice() {
                            [Value::String(r), Value::String(a)] => (r.as_str(), a.as_str()),
                            _ => return Err("GetAtt takes [Resource, Attribute]".into()),
                        },
                        _ => return Err("GetAtt takes Resource.Attribute".into()),
                    };
                    self.attribute(resource, attribute)
                }
                Some(("Sub", args)) => {
                    let (text, variables) = match args {
                        Value::String(s) => (s.as_str(), None),
                        Value::Sequence(list) => match list.as_slice() {
                            [Value::String(s), vars] => (s.as_str(), vars.as_mapping()),
                            _ => return Err("Sub takes a string and a map".into()),
                        },
                        _ => return Err("Sub takes a string".into()),
                    };
                    self.substitute(text, variables)
                }
                Some(("Join", args)) => {
                    let list = args.as_sequence().ok_or("Join takes a list")?;
                    let [Value::String(separator), Value::Sequence(parts)] = list.as_slice() else {
                        return Err("Join takes a separator and a list".into());
                    };
                    let mut strings = Vec::new();
                    for part in parts {
                        if let Some(part) = self.chosen(part)? {
                            strings.push(self.string(part)?);
                        }
                    }
                    Ok(strings.join(separator))
                }
                Some(("If", _)) => match self.chosen(value)? {
                    Some(chosen) => self.string(chosen),
                    None => Err("a string resolved to AWS::NoValue".into()),
                },
                Some((other, _)) => Err(format!("intrinsic {other} is not modelled").into()),
                None => Err(format!("not a string: {value:?}").into()),
            },
        }
    }

    fn substitute(
        &self,
        text: &str,
        variables: Option<&serde_yaml::Mapping>,
    ) -> Result<String, Error> {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after.find('}').ok_or("an unclosed ${ in Sub")?;
            let name = &after[..end];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else if let Some(value) = variables.and_then(|v| v.get(name)) {
                out.push_str(&self.string(value)?);
            } else if let Some((resource, attribute)) = name.split_once('.')
                && !name.starts_with("AWS::")
            {
                out.push_str(&self.attribute(resource, attribute)?);
            } else {
                out.push_str(&self.reference(name)?);
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn reference(&self, name: &str) -> Result<String, Error> {
        match name {
            "AWS::Partition" => return Ok(PARTITION.into()),
            "AWS::Region" => return Ok(REGION.into()),
            "AWS::AccountId" => return Ok(ACCOUNT_ID.into()),
            "AWS::URLSuffix" => return Ok("amazonaws.com".into()),
            "AWS::StackName" => return Ok("taskline-test".into()),
            _ => {}
        }
        if let Some(value) = self.parameters.get(name) {
            return Ok(value.clone());
        }
        match self.resource_type(name)? {
            "AWS::DynamoDB::Table" => self.table_name(name),
            // A secret's Ref is its ARN (Secrets Manager appends a random suffix).
            "AWS::SecretsManager::Secret" => Ok(format!(
                "arn:{PARTITION}:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:{name}-AbCdEf"
            )),
            other => Err(format!("Ref of a {other} is not modelled").into()),
        }
    }

    fn attribute(&self, resource: &str, attribute: &str) -> Result<String, Error> {
        match (self.resource_type(resource)?, attribute) {
            ("AWS::DynamoDB::Table", "Arn") => Ok(table_arn(&self.table_name(resource)?)),
            (other, _) => {
                Err(format!("GetAtt {resource}.{attribute} of a {other} is not modelled").into())
            }
        }
    }

    fn resource_type(&self, name: &str) -> Result<&str, Error> {
        self.resources
            .get(name)
            .and_then(|r| r.get("Type"))
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{name} is neither a parameter nor a resource").into())
    }

    fn table_name(&self, logical_id: &str) -> Result<String, Error> {
        self.tables
            .get(logical_id)
            .cloned()
            .ok_or_else(|| format!("the test has no table for {logical_id}").into())
    }

    /// The statements of a function's `Policies` property.
    fn policies(&self, policies: &Value) -> Result<Vec<Statement>, Error> {
        let items: Vec<&Value> = match policies {
            Value::Sequence(list) => list.iter().collect(),
            single => vec![single],
        };
        let mut statements = Vec::new();
        for item in items {
            let Some(item) = self.chosen(item)? else {
                continue;
            };
            match item {
                Value::String(managed) => {
                    return Err(format!("the managed policy {managed} is not modelled").into());
                }
                Value::Mapping(map) if map.contains_key("Statement") => {
                    statements.extend(self.document(item)?);
                }
                Value::Mapping(map) if map.len() == 1 => {
                    let (name, parameters) = map.iter().next().ok_or("an empty policy")?;
                    let name = name.as_str().ok_or("a policy template's name")?;
                    statements.extend(self.policy_template(name, parameters)?);
                }
                other => return Err(format!("a policy of no known form: {other:?}").into()),
            }
        }
        Ok(statements)
    }

    fn document(&self, document: &Value) -> Result<Vec<Statement>, Error> {
        let statements = match document.get("Statement") {
            Some(Value::Sequence(list)) => list.iter().collect(),
            Some(single) => vec![single],
            None => Vec::new(),
        };
        let mut out = Vec::new();
        for statement in statements {
            let Some(statement) = self.chosen(statement)? else {
                continue;
            };
            for unsupported in [
                "NotAction",
                "NotResource",
                "Condition",
                "Principal",
                "NotPrincipal",
            ] {
                if statement.get(unsupported).is_some() {
                    return Err(format!("a statement's {unsupported} is not modelled").into());
                }
            }
            let effect = match statement.get("Effect").and_then(Value::as_str) {
                Some("Allow") => Effect::Allow,
                Some("Deny") => Effect::Deny,
                other => return Err(format!("a statement's Effect {other:?}").into()),
            };
            out.push(Statement {
                effect,
                actions: self.strings(statement.get("Action"))?,
                resources: self.strings(statement.get("Resource"))?,
            });
        }
        Ok(out)
    }

    /// A string or a list of strings (each resolved; `!If`s chosen).
    fn strings(&self, value: Option<&Value>) -> Result<Vec<String>, Error> {
        let Some(value) = value else {
            return Ok(Vec::new());
        };
        let Some(value) = self.chosen(value)? else {
            return Ok(Vec::new());
        };
        let items: Vec<&Value> = match value {
            Value::Sequence(list) => list.iter().collect(),
            single => vec![single],
        };
        let mut out = Vec::new();
        for item in items {
            if let Some(item) = self.chosen(item)? {
                out.push(self.string(item)?);
            }
        }
        Ok(out)
    }

    /// The statements SAM generates for a policy template (samtranslator's
    /// `policy_templates.json`); only the templates this project may use are modelled.
    fn policy_template(&self, name: &str, parameters: &Value) -> Result<Vec<Statement>, Error> {
        let parameter = |key: &str| -> Result<String, Error> {
            let value = parameters
                .get(key)
                .ok_or_else(|| format!("{name} needs {key}"))?;
            self.string(value)
        };
        let allow = |actions: &[&str], resources: Vec<String>| Statement {
            effect: Effect::Allow,
            actions: actions.iter().map(|a| a.to_string()).collect(),
            resources,
        };
        let table_and_indexes = |table: &str| {
            let arn = table_arn(table);
            vec![arn.clone(), format!("{arn}/index/*")]
        };
        Ok(match name {
            "AWSSecretsManagerGetSecretValuePolicy" => vec![allow(
                &["secretsmanager:GetSecretValue"],
                vec![parameter("SecretArn")?],
            )],
            "DynamoDBCrudPolicy" => vec![allow(
                &[
                    "dynamodb:GetItem",
                    "dynamodb:DeleteItem",
                    "dynamodb:PutItem",
                    "dynamodb:Scan",
                    "dynamodb:Query",
                    "dynamodb:UpdateItem",
                    "dynamodb:BatchWriteItem",
                    "dynamodb:BatchGetItem",
                    "dynamodb:DescribeTable",
                    "dynamodb:ConditionCheckItem",
                ],
                table_and_indexes(&parameter("TableName")?),
            )],
            "DynamoDBReadPolicy" => vec![allow(
                &[
                    "dynamodb:GetItem",
                    "dynamodb:Scan",
                    "dynamodb:Query",
                    "dynamodb:BatchGetItem",
                    "dynamodb:DescribeTable",
                ],
                table_and_indexes(&parameter("TableName")?),
            )],
            "DynamoDBWritePolicy" => vec![allow(
                &[
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:BatchWriteItem",
                ],
                table_and_indexes(&parameter("TableName")?),
            )],
            other => return Err(format!("the SAM policy template {other} is not modelled").into()),
        })
    }
}

/// A YAML tag's name without its `!` (`!Sub` -> `Sub`).
fn tag_name(tag: &serde_yaml::value::Tag) -> &'static str {
    const INTRINSICS: &[&str] = &[
        "Ref",
        "Sub",
        "GetAtt",
        "Join",
        "If",
        "Equals",
        "Not",
        "And",
        "Or",
        "Condition",
        "Select",
        "Split",
        "FindInMap",
        "ImportValue",
        "Base64",
        "GetAZs",
        "Cidr",
    ];
    INTRINSICS
        .iter()
        .find(|name| tag == *name)
        .copied()
        .unwrap_or("an unknown tag")
}

/// The function and argument of an intrinsic, in either form: the YAML short form
/// (`!Sub x`) or the long one (`{"Fn::Sub": x}`, `{"Ref": x}`).
fn intrinsic(value: &Value) -> Option<(&str, &Value)> {
    match value {
        Value::Tagged(tagged) => Some((tag_name(&tagged.tag), &tagged.value)),
        Value::Mapping(map) if map.len() == 1 => {
            let (key, argument) = map.iter().next()?;
            let key = key.as_str()?;
            let name = if key == "Ref" || key == "Condition" {
                key
            } else {
                key.strip_prefix("Fn::")?
            };
            Some((name, argument))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(yaml: &str) -> Policy {
        let template: Value = serde_yaml::from_str(yaml).unwrap();
        let tables = HashMap::from([("Table".to_string(), "test-table".to_string())]);
        let stack = Stack::new(&template, &tables).unwrap();
        let policies = &template["Resources"]["Fn"]["Properties"]["Policies"];
        Policy {
            function: "Fn".into(),
            statements: stack.policies(policies).unwrap(),
        }
    }

    const TEMPLATE: &str = r#"
Parameters:
  Indexes: { Type: String, Default: "yes" }
  Extra: { Type: String, Default: "" }
Conditions:
  HasIndexes: !Equals [!Ref Indexes, "yes"]
  HasExtra: !Not [!Equals [!Ref Extra, ""]]
Resources:
  Table: { Type: AWS::DynamoDB::Table }
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - Statement:
            - Effect: Allow
              Action: [dynamodb:GetItem, dynamodb:PutItem, "dynamodb:Batch*"]
              Resource: !GetAtt Table.Arn
            - Effect: Allow
              Action: dynamodb:Query
              Resource:
                - !If [HasIndexes, !Sub "${Table.Arn}/index/by_due", !Ref AWS::NoValue]
            - Effect: Deny
              Action: dynamodb:BatchWriteItem
              Resource: "*"
        - !If
          - HasExtra
          - DynamoDBCrudPolicy: { TableName: !Ref Table }
          - !Ref AWS::NoValue
"#;

    fn call(action: &str, resource: &str) -> Permission {
        Permission::new(action, resource)
    }

    #[test]
    fn a_call_inside_the_statements_is_allowed_and_one_outside_denied() {
        let p = policy(TEMPLATE);
        let table = table_arn("test-table");
        assert!(p.allows(&call("dynamodb:GetItem", &table)));
        // Actions are case-insensitive; wildcards match.
        assert!(p.allows(&call("DynamoDB:getitem", &table)));
        assert!(p.allows(&call("dynamodb:BatchGetItem", &table)));
        // Not granted at all, on another table, or on the table rather than the index.
        assert!(!p.allows(&call("dynamodb:DeleteItem", &table)));
        assert!(!p.allows(&call("dynamodb:GetItem", &table_arn("other"))));
        assert!(!p.allows(&call("dynamodb:Query", &table)));
        assert!(p.allows(&call("dynamodb:Query", &format!("{table}/index/by_due"))));
        assert!(!p.allows(&call(
            "dynamodb:Query",
            &format!("{table}/index/by_priority")
        )));
        // An explicit Deny wins over the Allow of `dynamodb:Batch*`.
        assert!(!p.allows(&call("dynamodb:BatchWriteItem", &table)));
    }

    #[test]
    fn conditions_choose_the_statements_with_the_parameters_defaults() {
        // HasExtra is false by default: the CRUD template is not granted.
        let p = policy(TEMPLATE);
        assert!(!p.allows(&call("dynamodb:Scan", &table_arn("test-table"))));
        let with_extra = policy(&TEMPLATE.replace(r#"Default: """#, r#"Default: "on""#));
        assert!(with_extra.allows(&call("dynamodb:Scan", &table_arn("test-table"))));
        assert!(with_extra.allows(&call(
            "dynamodb:Query",
            &format!("{}/index/anything", table_arn("test-table"))
        )));
        let without_indexes = policy(&TEMPLATE.replace(r#"Default: "yes""#, r#"Default: "no""#));
        assert!(!without_indexes.allows(&call(
            "dynamodb:Query",
            &format!("{}/index/by_due", table_arn("test-table"))
        )));
    }

    #[test]
    fn what_the_model_does_not_know_is_an_error() {
        let template: Value = serde_yaml::from_str(TEMPLATE).unwrap();
        let tables = HashMap::from([("Table".to_string(), "t".to_string())]);
        let stack = Stack::new(&template, &tables).unwrap();
        for policies in [
            "AmazonDynamoDBFullAccess",
            "- SQSPollerPolicy: { QueueName: q }",
            "- Statement: [{Effect: Allow, NotAction: 'dynamodb:*', Resource: '*'}]",
            "- Statement: [{Effect: Allow, Action: 'dynamodb:*', Resource: '*', Condition: {}}]",
        ] {
            let value: Value = serde_yaml::from_str(policies).unwrap();
            assert!(stack.policies(&value).is_err(), "{policies}");
        }
    }

    #[test]
    fn sdk_inputs_need_the_actions_iam_checks() {
        use aws_sdk_dynamodb::types::{ConditionCheck, Put, TransactWriteItem};
        use aws_smithy_runtime_api::client::interceptors::context::Input;
        let table = table_arn("t");
        let query = QueryInput::builder()
            .table_name("t")
            .index_name("by_due")
            .build()
            .unwrap();
        let (operation, needed) = required_permissions(&Input::erase(query)).unwrap();
        assert_eq!(operation, "Query");
        assert_eq!(
            needed,
            [call("dynamodb:Query", &format!("{table}/index/by_due"))]
        );
        let transaction = TransactWriteItemsInput::builder()
            .transact_items(
                TransactWriteItem::builder()
                    .put(
                        Put::builder()
                            .table_name("t")
                            .set_item(Some(HashMap::new()))
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .transact_items(
                TransactWriteItem::builder()
                    .condition_check(
                        ConditionCheck::builder()
                            .table_name("t")
                            .set_key(Some(HashMap::new()))
                            .condition_expression("attribute_exists(pk)")
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .build()
            .unwrap();
        let (_, needed) = required_permissions(&Input::erase(transaction)).unwrap();
        assert_eq!(
            needed,
            [
                call("dynamodb:PutItem", &table),
                call("dynamodb:ConditionCheckItem", &table)
            ]
        );
        let describe = aws_sdk_dynamodb::operation::describe_table::DescribeTableInput::builder()
            .table_name("t")
            .build()
            .unwrap();
        assert!(required_permissions(&Input::erase(describe)).is_err());
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("a*c", "abbbc"));
        assert!(wildcard_match("a?c", "abc"));
        assert!(!wildcard_match("a?c", "abbc"));
        assert!(wildcard_match("*", ""));
        assert!(!wildcard_match("arn:x", "arn:x/index/y"));
        assert!(wildcard_match("arn:x/index/*", "arn:x/index/y"));
    }

    #[test]
    fn the_template_of_the_repository_is_fully_modelled() {
        let tables = HashMap::from([("TasklineTable".to_string(), "t".to_string())]);
        let policies =
            function_policies(&crate::repo_root().join("template.yaml"), &tables).unwrap();
        assert_eq!(
            policies.len(),
            taskline::config::variables::Function::ALL.len(),
            "{:?}",
            policies.keys()
        );
        assert_eq!(
            function_of_binary(&crate::repo_root().join("template.yaml"), "login").unwrap(),
            "LoginFunction"
        );
    }
}
