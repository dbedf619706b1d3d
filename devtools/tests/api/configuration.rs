//! The environment variables are declared once, in the table of
//! `shared/src/config/variables.rs`; the documents that repeat them are held to it here:
//! README.md's Configuration table (every variable, with its default), template.yaml (every
//! variable a function reads is set for it, a secret as its ARN) and scripts/dev.sh (what
//! `make dev` sets), as well as the keys each function declares (`KEYS`) and the test harness.

use std::collections::BTreeSet;

use devtools::repo_root;
use serde_yaml::Value;
use taskline::config::SecretName;
use taskline::config::variables::{DefaultValue, Dev, Function, Kind, Reader, VARIABLES, Variable};

use crate::contract::{function_resource, yaml};

/// The name of a variable as a deployed function is given it: a secret by its ARN.
fn deployed_name(variable: &Variable) -> &'static str {
    match variable.kind {
        Kind::Secret { arn } => arn,
        _ => variable.name,
    }
}

fn lookup(name: &str) -> Option<&'static Variable> {
    VARIABLES
        .iter()
        .find(|v| v.name == name || deployed_name(v) == name)
}

/// The words in backticks of a Markdown table cell.
fn quoted(cell: &str) -> Vec<&str> {
    cell.split('`').skip(1).step_by(2).collect()
}

/// A variable's name in a README cell: upper case, digits and `_`.
fn is_variable_name(word: &str) -> bool {
    word.starts_with(|c: char| c.is_ascii_uppercase())
        && word
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// The rows of README.md's Configuration table: (the variables it names, its default cell).
fn readme_rows() -> Vec<(Vec<String>, String)> {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let section = readme
        .split("\n## Configuration\n")
        .nth(1)
        .expect("README.md has a \"## Configuration\" section");
    section
        .lines()
        .skip_while(|line| !line.starts_with('|'))
        .take_while(|line| line.starts_with('|'))
        .skip(2) // the header and its separator
        .map(|row| {
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            assert_eq!(
                cells.len(),
                5,
                "README.md, Configuration: a row of 3 cells: {row}"
            );
            let names = quoted(cells[1])
                .into_iter()
                .filter(|word| is_variable_name(word))
                .map(str::to_string)
                .collect();
            (names, cells[3].to_string())
        })
        .collect()
}

#[test]
fn readme_documents_every_variable_of_the_table_with_its_default() {
    let rows = readme_rows();
    for (names, _) in &rows {
        for name in names {
            assert!(
                lookup(name).is_some(),
                "README.md's Configuration table documents {name}, which is not in the table of \
                 variables (shared/src/config/variables.rs)"
            );
        }
    }
    for variable in VARIABLES {
        let (names, default) = rows
            .iter()
            .find(|(names, _)| names.iter().any(|n| n == variable.name))
            .unwrap_or_else(|| {
                panic!(
                    "{} is missing from README.md's Configuration table",
                    variable.name
                )
            });
        if variable.reader == Reader::LocalSdk {
            continue; // the SDK's own default, not the table's
        }
        // The n-th variable of a row has the n-th default in backticks of the row.
        let position = names
            .iter()
            .filter(|n| lookup(n).is_some_and(|v| v.name == n.as_str()))
            .position(|n| n == variable.name);
        let documented = position.and_then(|i| quoted(default).get(i).copied());
        let expected = match variable.default {
            DefaultValue::Text(text) => text.to_string(),
            DefaultValue::Integer(n) => n.to_string(),
            DefaultValue::Required | DefaultValue::Off => String::new(),
        };
        match variable.default {
            DefaultValue::Required => assert!(
                default.contains("required"),
                "README.md's Configuration table does not say {} is required: {default:?}",
                variable.name
            ),
            DefaultValue::Off => assert!(
                default.contains("off"),
                "README.md's Configuration table does not say {} is off by default: {default:?}",
                variable.name
            ),
            DefaultValue::Text(_) | DefaultValue::Integer(_) => assert_eq!(
                documented,
                Some(expected.as_str()),
                "the default of {} in README.md's Configuration table ({default:?}) is not the \
                 table's",
                variable.name
            ),
        }
    }
}

/// The variables template.yaml sets: for every function (Globals) and for `function`.
fn template_variables<'a>(
    template: &'a Value,
    function: &str,
) -> (BTreeSet<&'a str>, BTreeSet<&'a str>) {
    let names = |variables: &'a Value| -> BTreeSet<&'a str> {
        variables
            .as_mapping()
            .into_iter()
            .flatten()
            .filter_map(|(name, _)| name.as_str())
            .collect()
    };
    (
        names(&template["Globals"]["Function"]["Environment"]["Variables"]),
        names(&function_resource(template, function)["Properties"]["Environment"]["Variables"]),
    )
}

#[test]
fn template_sets_every_variable_a_function_reads_and_only_those() {
    let template = yaml("template.yaml");
    for function in Function::ALL {
        let (globals, own) = template_variables(&template, function.name());
        for variable in VARIABLES {
            let name = deployed_name(variable);
            let set = globals.contains(name) || own.contains(name);
            match variable.reader {
                Reader::LocalSdk => assert!(
                    !set,
                    "template.yaml sets {name}, a variable of local development only"
                ),
                _ if variable.functions.contains(function) => assert!(
                    set,
                    "template.yaml does not set {name} for the {} function (Globals or its own \
                     Environment), which reads it",
                    function.name()
                ),
                _ => assert!(
                    !own.contains(name),
                    "template.yaml gives the {} function {name}, which it does not read (the \
                     table of variables says {:?})",
                    function.name(),
                    variable.functions
                ),
            }
        }
        for name in globals.iter().chain(&own) {
            assert!(
                lookup(name).is_some(),
                "template.yaml sets {name}, which is not in the table of variables \
                 (shared/src/config/variables.rs)"
            );
        }
    }
}

/// Whether `line` names `name` as a whole word (`JWT_ISSUER` is not in `EXTERNAL_JWT_ISSUER`).
fn mentions(line: &str, name: &str) -> bool {
    line.match_indices(name).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        let after = line[at + name.len()..].chars().next();
        let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        !word(before) && !word(after)
    })
}

#[test]
fn dev_sh_sets_every_required_variable_and_what_the_table_says() {
    let script = std::fs::read_to_string(repo_root().join("scripts/dev.sh")).unwrap();
    let code: Vec<&str> = script
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .collect();
    for variable in VARIABLES {
        let name = variable.name;
        let assigned = code
            .iter()
            .any(|line| mentions(line, name) && line.contains(&format!("{name}=")));
        let named = code.iter().any(|line| mentions(line, name));
        if variable.default == DefaultValue::Required {
            assert_eq!(
                variable.dev,
                Dev::Sets,
                "{name} is required: the table of variables must say scripts/dev.sh sets it"
            );
        }
        match variable.dev {
            Dev::Sets => assert!(assigned, "scripts/dev.sh does not set {name}"),
            Dev::PassesThrough => assert!(
                named && !assigned,
                "scripts/dev.sh should pass {name} through only when the caller sets it"
            ),
            Dev::Unset => assert!(
                !named,
                "scripts/dev.sh sets {name}, which the table of variables says it leaves unset"
            ),
        }
    }
}

#[test]
fn the_functions_declare_the_keys_the_table_says_they_read() {
    let keys = [
        (Function::Register, register::KEYS),
        (Function::Login, login::KEYS),
        (Function::Refresh, refresh::KEYS),
        (Function::Tasks, tasks::KEYS),
        (Function::Account, account::KEYS),
        (Function::Recovery, recovery::KEYS),
    ];
    for secret in SecretName::ALL {
        let declaring: Vec<Function> = keys
            .iter()
            .filter(|(_, keys)| keys.contains(secret))
            .map(|(function, _)| *function)
            .collect();
        assert_eq!(
            declaring,
            secret.variable().functions,
            "the functions whose KEYS hold {secret:?}, and those the table of variables says \
             read {}",
            secret.variable().name
        );
    }
}

#[test]
fn the_test_harness_sets_every_required_variable() {
    let vars = devtools::harness::test_vars("taskline");
    for variable in VARIABLES {
        if variable.default == DefaultValue::Required {
            assert!(
                vars.contains_key(variable.name),
                "devtools::harness::test_vars does not set {}, a required variable",
                variable.name
            );
        }
    }
}
