//! The API's route table is declared in four places that must agree: the functions' ROUTES
//! (what the code serves), openapi.yaml (what clients read), the `cargo lambda watch` router in
//! Cargo.toml (local) and template.yaml's HttpApi events (deployed). These tests keep them in step.
//! Likewise the keys each function loads (its `KEYS`) and the secrets template.yaml hands it.

use std::collections::BTreeSet;

use devtools::repo_root;
use lambda_http::http::Method;
use serde_yaml::Value;
use taskline::config::SecretName;
use taskline::http::served;

/// Each function with the `(path template, method)` pairs its route table serves.
fn functions() -> [(&'static str, Vec<(&'static str, Method)>); 6] {
    [
        ("register", served(register::ROUTES)),
        ("login", served(login::ROUTES)),
        ("refresh", served(refresh::ROUTES)),
        ("tasks", served(tasks::ROUTES)),
        ("account", served(account::ROUTES)),
        ("recovery", served(recovery::ROUTES)),
    ]
}

fn served_by_all() -> BTreeSet<(String, String)> {
    functions()
        .into_iter()
        .flat_map(|(_, routes)| routes)
        .map(|(template, m)| (template.to_string(), m.as_str().to_ascii_lowercase()))
        .collect()
}

pub(crate) fn yaml(file: &str) -> Value {
    let text = std::fs::read_to_string(repo_root().join(file)).unwrap();
    serde_yaml::from_str(&text).unwrap()
}

/// The resource of template.yaml building `function`'s binary.
pub(crate) fn function_resource<'a>(template: &'a Value, function: &str) -> &'a Value {
    template["Resources"]
        .as_mapping()
        .unwrap()
        .values()
        .find(|r| r["Metadata"]["BuildProperties"]["Binary"].as_str() == Some(function))
        .unwrap_or_else(|| panic!("no function resource builds {function}"))
}

#[test]
fn openapi_documents_exactly_the_served_routes() {
    let openapi = yaml("openapi.yaml");
    let methods = ["get", "post", "put", "patch", "delete"];
    let documented: BTreeSet<(String, String)> = openapi["paths"]
        .as_mapping()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            let path = path.as_str().unwrap().to_string();
            methods
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(move |m| (path.clone(), m.to_string()))
        })
        .collect();
    assert_eq!(documented, served_by_all());
}

#[test]
fn local_router_sends_every_path_to_the_function_that_serves_it() {
    let manifest: toml::Table = std::fs::read_to_string(repo_root().join("Cargo.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let router = manifest["workspace"]["metadata"]["lambda"]["watch"]["router"]
        .as_table()
        .unwrap();
    for (function, routes) in functions() {
        for (template, _) in routes {
            assert_eq!(
                router.get(template).and_then(|v| v.as_str()),
                Some(function),
                "{template} should be routed to {function}",
            );
        }
    }
    // Everything else reaches the catch-all, which answers 404 problem+json.
    assert_eq!(router["/{*rest}"].as_str(), Some("account"));
}

#[test]
fn deployed_api_binds_every_path_to_the_function_that_serves_it() {
    let template = yaml("template.yaml");
    for (function, routes) in functions() {
        let resource = function_resource(&template, function);
        let paths: BTreeSet<&str> = resource["Properties"]["Events"]
            .as_mapping()
            .unwrap()
            .values()
            .filter(|e| e["Type"].as_str() == Some("HttpApi"))
            .filter_map(|e| e["Properties"]["Path"].as_str())
            .collect();
        for (template, _) in routes {
            assert!(
                paths.contains(template),
                "{function} is not bound to {template} in template.yaml",
            );
        }
    }
}

const KEYS: &[(&str, &[SecretName])] = &[
    ("register", register::KEYS),
    ("login", login::KEYS),
    ("refresh", refresh::KEYS),
    ("tasks", tasks::KEYS),
    ("account", account::KEYS),
    ("recovery", recovery::KEYS),
];

/// The secret resource of template.yaml holding a key (or, for the external provider's
/// optional secret, the parameter naming the operator's own secret).
fn secret_resource(key: SecretName) -> &'static str {
    match key {
        SecretName::Jwt => "JwtSecret",
        SecretName::Cursor => "CursorSecret",
        SecretName::Origin => "OriginVerifySecret",
        SecretName::External => "ExternalJwtSecretArn",
        SecretName::Smtp => "SmtpPasswordArn",
    }
}

/// Whether `name` is the variable holding a key's secret ARN.
fn is_secret_arn(name: &str) -> bool {
    SecretName::ALL.iter().any(|key| key.vars().1 == name)
}

/// A policy as granted when its `!If` condition holds (a key granted only when configured).
fn when_configured(policy: &Value) -> &Value {
    match policy {
        Value::Tagged(tagged) if tagged.tag == "If" => tagged
            .value
            .as_sequence()
            .and_then(|branches| branches.get(1))
            .unwrap_or(policy),
        other => other,
    }
}

/// The logical id a `!Ref` names.
fn reference(value: &Value) -> Option<&str> {
    match value {
        Value::Tagged(tagged) if tagged.tag == "Ref" => tagged.value.as_str(),
        _ => None,
    }
}

#[test]
fn each_function_is_given_and_granted_exactly_the_secrets_of_its_keys() {
    let template = yaml("template.yaml");
    let globals = &template["Globals"]["Function"]["Environment"]["Variables"];
    let global_arns: Vec<&str> = globals
        .as_mapping()
        .unwrap()
        .keys()
        .filter_map(Value::as_str)
        .filter(|name| is_secret_arn(name))
        .collect();
    assert!(
        global_arns.is_empty(),
        "Globals hand every function {global_arns:?}"
    );
    for (function, keys) in KEYS {
        let resource = function_resource(&template, function);
        let expected: BTreeSet<(&str, &str)> = keys
            .iter()
            .map(|key| (key.vars().1, secret_resource(*key)))
            .collect();

        let variables: BTreeSet<(&str, &str)> = resource["Properties"]["Environment"]["Variables"]
            .as_mapping()
            .into_iter()
            .flatten()
            .filter_map(|(name, value)| Some((name.as_str()?, value)))
            .filter(|(name, _)| is_secret_arn(name))
            .map(|(name, value)| (name, reference(value).unwrap_or("?")))
            .collect();
        assert_eq!(variables, expected, "secret variables of {function}");
        // A key's value itself is never in the environment (the checkov waiver says so).
        let plain: Vec<&str> = resource["Properties"]["Environment"]["Variables"]
            .as_mapping()
            .into_iter()
            .flatten()
            .filter_map(|(name, _)| name.as_str())
            .filter(|name| SecretName::ALL.iter().any(|key| key.vars().0 == *name))
            .collect();
        assert!(
            plain.is_empty(),
            "{function} is given {plain:?} in its environment"
        );

        let policies = resource["Properties"]["Policies"].as_sequence().unwrap();
        let granted: BTreeSet<&str> = policies
            .iter()
            .map(when_configured)
            .filter_map(|p| p.get("AWSSecretsManagerGetSecretValuePolicy"))
            .map(|p| reference(&p["SecretArn"]).unwrap_or("?"))
            .collect();
        let wanted: BTreeSet<&str> = expected.iter().map(|(_, secret)| *secret).collect();
        assert_eq!(granted, wanted, "secrets {function} may read");
        // No inline statement grants Secrets Manager beside those policies, but for the one
        // that lets a function with several keys read them in one call (one Secrets Manager
        // round trip per cold start): it reads only secrets GetSecretValue is granted on.
        let text = serde_yaml::to_string(policies).unwrap();
        const BATCH: &str = "secretsmanager:BatchGetSecretValue";
        assert_eq!(
            text.contains(BATCH),
            keys.len() > 1,
            "{function}: {BATCH} granted exactly when it reads more than one key"
        );
        assert!(
            !text.replace(BATCH, "").contains("secretsmanager:"),
            "{function} has an inline Secrets Manager grant"
        );
    }
}

/// The index names a `!Sub "${TasklineTable.Arn}/index/<name>"` resource grants.
fn granted_indexes(statement: &Value) -> BTreeSet<String> {
    let resources = match &statement["Resource"] {
        Value::Sequence(list) => list.clone(),
        single => vec![single.clone()],
    };
    resources
        .iter()
        .filter_map(|r| match r {
            Value::Tagged(tagged) if tagged.tag == "Sub" => tagged.value.as_str(),
            _ => None,
        })
        .filter_map(|arn| arn.strip_prefix("${TasklineTable.Arn}/index/"))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_sort_indexes_the_store_reads_are_the_tables_and_the_tasks_function_may_query_them() {
    let template = yaml("template.yaml");
    let table = &template["Resources"]["TasklineTable"]["Properties"];
    // Every index of a stack deployed with the defaults (the upgrade parameter's `!If` too).
    let declared: BTreeSet<String> = table["GlobalSecondaryIndexes"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(devtools::tables::with_defaults)
        .filter_map(|index| index["IndexName"].as_str().map(str::to_string))
        .collect();
    let read: BTreeSet<String> = [taskline::store::DUE_INDEX, taskline::store::PRIORITY_INDEX]
        .map(str::to_string)
        .into();
    assert_eq!(declared, read, "indexes of the table");
    let tasks = function_resource(&template, "tasks");
    let granted: BTreeSet<String> = tasks["Properties"]["Policies"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|p| p["Statement"].as_sequence())
        .flatten()
        .filter(|s| s["Action"].as_str() == Some("dynamodb:Query"))
        .flat_map(granted_indexes)
        .collect();
    assert_eq!(granted, read, "indexes the tasks function may Query");
}

/// The managed origin request policy `Managed-AllViewerExceptHostHeader`: every viewer header
/// but `Host` (API Gateway routes by its own host name) and every CloudFront header, among them
/// `CloudFront-Viewer-Address`.
const ALL_VIEWER_EXCEPT_HOST_AND_CLOUDFRONT_HEADERS: &str = "b689b0a8-53d0-40ab-baf2-68738e2966ac";

#[test]
fn behind_cloudfront_the_api_origin_carries_the_origin_secret_and_the_viewer_address() {
    let template = yaml("template.yaml");
    let resources = &template["Resources"];
    let config = &resources["SiteDistribution"]["Properties"]["DistributionConfig"];

    // The secret: generated at deploy, as long as the configuration requires.
    let secret = secret_resource(SecretName::Origin);
    let generated = &resources[secret]["Properties"]["GenerateSecretString"];
    assert_eq!(resources[secret]["Type"], "AWS::SecretsManager::Secret");
    assert!(
        generated["PasswordLength"].as_u64().unwrap() >= taskline::config::MIN_SECRET_BYTES as u64
    );
    assert!(
        resources[secret].get("Condition").is_none(),
        "the functions are handed the secret whether or not the site is deployed"
    );

    // The API origin sends it as the custom header the functions compare.
    let api = config["Origins"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|origin| origin["Id"] == "api")
        .expect("the API origin");
    let headers = api["OriginCustomHeaders"].as_sequence().unwrap();
    let custom = headers
        .iter()
        .find(|h| {
            h["HeaderName"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(taskline::http::ORIGIN_VERIFY_HEADER))
        })
        .expect("the origin secret header");
    match &custom["HeaderValue"] {
        Value::Tagged(tagged) if tagged.tag == "Sub" => assert_eq!(
            tagged.value.as_str(),
            Some(format!("{{{{resolve:secretsmanager:${{{secret}}}}}}}").as_str())
        ),
        other => panic!("the header's value must resolve the secret at deploy: {other:?}"),
    }

    // Every behaviour routed to the API forwards CloudFront's viewer address (and not Host).
    let behaviours = config["CacheBehaviors"].as_sequence().unwrap();
    let to_api: Vec<&Value> = behaviours
        .iter()
        .filter(|b| b["TargetOriginId"] == "api")
        .collect();
    assert!(
        to_api
            .iter()
            .any(|b| b["PathPattern"].as_str() == Some("/v1/*"))
    );
    for behaviour in to_api {
        assert_eq!(
            behaviour["OriginRequestPolicyId"].as_str(),
            Some(ALL_VIEWER_EXCEPT_HOST_AND_CLOUDFRONT_HEADERS),
            "{:?} must forward {}",
            behaviour["PathPattern"],
            taskline::http::VIEWER_ADDRESS_HEADER
        );
    }

    // The functions that budget by the client's address hold the secret.
    for (function, keys) in [
        ("register", register::KEYS),
        ("login", login::KEYS),
        ("recovery", recovery::KEYS),
    ] {
        assert!(keys.contains(&SecretName::Origin), "{function}");
    }
}
