//! Local-stack helper used by scripts/dev.sh and scripts/test.sh.
//!
//!   taskline-dev dynamodb-local --port N [--db-path DIR]   run DynamoDB Local (in memory without --db-path)
//!   taskline-dev create-tables --endpoint URL [--name NAME]  create template.yaml's table(s), idempotent
//!   taskline-dev free-port                                  print a free TCP port
//!   taskline-dev seed-tasks --endpoint URL --name TABLE --user UUID --count N
//!                                                           N tasks for a user without any (scripts/bench.py)
//!   taskline-dev backfill-indexes --name TABLE [--endpoint URL]
//!                                                           write the sort-index keys of tasks written before
//!                                                           the indexes existed (run once after deploying them;
//!                                                           without --endpoint: the AWS account of the environment)

use std::os::unix::process::CommandExt;
use std::process::ExitCode;

use devtools::dynamodb_local::{self, Storage};
use devtools::{free_port, repo_root, tables};

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result: Result<(), Box<dyn std::error::Error + Send + Sync>> = match args
        .first()
        .map(String::as_str)
    {
        Some("dynamodb-local") => {
            let port: u16 = flag(&args, "--port")
                .unwrap_or_else(|| "8000".into())
                .parse()
                .unwrap_or(8000);
            let storage = match flag(&args, "--db-path") {
                Some(dir) => Storage::Directory(dir.into()),
                None => Storage::InMemory,
            };
            // Replace this process with the JVM so that signals reach it directly.
            match dynamodb_local::command(port, &storage) {
                Ok(mut cmd) => Err(cmd.exec().into()),
                Err(e) => Err(e.into()),
            }
        }
        Some("create-tables") => create_tables(&args).await,
        Some("free-port") => free_port().map(|p| println!("{p}")).map_err(Into::into),
        Some("seed-tasks") => seed_tasks(&args).await,
        Some("backfill-indexes") => backfill_indexes(&args).await,
        _ => Err(
            "usage: taskline-dev dynamodb-local|create-tables|free-port|seed-tasks|backfill-indexes (see source)"
                .into(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("taskline-dev: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn create_tables(args: &[String]) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let endpoint = flag(args, "--endpoint").ok_or("--endpoint is required")?;
    let client = tables::local_client(&endpoint).await;
    for table in tables::from_template(&repo_root().join("template.yaml"))? {
        let name = flag(args, "--name").unwrap_or_else(|| table.logical_id.clone());
        table.create(&client, &name).await?;
        eprintln!("taskline-dev: table {name} ready ({})", table.logical_id);
    }
    Ok(())
}

async fn seed_tasks(args: &[String]) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let endpoint = flag(args, "--endpoint").ok_or("--endpoint is required")?;
    let table = flag(args, "--name").ok_or("--name is required")?;
    let user = flag(args, "--user")
        .and_then(|user| taskline::auth::UserId::parse(&user))
        .ok_or("--user UUID is required")?;
    let count: usize = flag(args, "--count")
        .ok_or("--count is required")?
        .parse()?;
    let client = tables::local_client(&endpoint).await;
    let tasks = devtools::seed::tasks(count, 3, |i| format!("Seeded task {i}"));
    let counts = devtools::seed::seed_tasks(&client, &table, user, &tasks).await?;
    eprintln!("taskline-dev: {} tasks seeded for {user}", counts.total);
    Ok(())
}

async fn backfill_indexes(args: &[String]) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let table = flag(args, "--name").ok_or("--name TABLE is required")?;
    let client = match flag(args, "--endpoint") {
        Some(endpoint) => tables::local_client(&endpoint).await,
        None => aws_sdk_dynamodb::Client::new(
            &aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await,
        ),
    };
    let report = taskline::store::Store::new(client, table.clone())
        .backfill_index_keys()
        .await?;
    eprintln!(
        "taskline-dev: {table}: index keys written on {} tasks, {} left (changed meanwhile or unreadable), {} pages scanned",
        report.updated, report.skipped, report.pages
    );
    Ok(())
}
