//! Login latency benchmark (run by scripts/bench-login.sh, which starts the stack).
//!
//!   bench-login --base-url URL --dynamodb-endpoint URL --table NAME [--logins N (100)]
//!
//! Seeds accounts directly through the store (hashing with the service's own argon2id
//! parameters), then times sequential `POST /v1/auth/login` requests over HTTP, client side:
//! successful logins, wrong passwords (one per account, so throttling never kicks in) and
//! unknown emails. Prints p50/p90/p99/max per scenario.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use devtools::tables;
use serde_json::json;
use taskline::auth::{Email, Password, User, UserName, hash_password};
use taskline::store::Store;

type Error = Box<dyn std::error::Error + Send + Sync>;

const PASSWORD: &str = "benchmark password 1";

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-login: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn seed(store: &Store, email: &str) -> Result<(), Error> {
    let user = User::new(Email::parse(email)?, UserName::parse("Bench")?);
    let hash = hash_password(Password::parse(PASSWORD)?).await?;
    // An email already registered by an earlier run is fine: its password is the same.
    store.accounts().create(&user, hash).await?;
    Ok(())
}

/// Times one login; asserts its status.
async fn login(
    client: &reqwest::Client,
    base_url: &str,
    email: &str,
    password: &str,
    expected: u16,
) -> Result<Duration, Error> {
    let started = Instant::now();
    let response = client
        .post(format!("{base_url}/v1/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await?;
    let status = response.status().as_u16();
    response.bytes().await?;
    let elapsed = started.elapsed();
    if status != expected {
        return Err(format!("login of {email} answered {status}, expected {expected}").into());
    }
    Ok(elapsed)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1000.0
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let mean = samples.iter().map(Duration::as_secs_f64).sum::<f64>() / samples.len() as f64;
    println!(
        "{name:<22} n={:<4} p50={:>7.1} ms  p90={:>7.1} ms  p99={:>7.1} ms  max={:>7.1} ms  mean={:>7.1} ms",
        samples.len(),
        percentile(&samples, 0.50),
        percentile(&samples, 0.90),
        percentile(&samples, 0.99),
        percentile(&samples, 1.0),
        mean * 1000.0
    );
}

async fn run(args: Vec<String>) -> Result<(), Error> {
    let base_url = flag(&args, "--base-url").ok_or("--base-url is required")?;
    let endpoint = flag(&args, "--dynamodb-endpoint").ok_or("--dynamodb-endpoint is required")?;
    let table = flag(&args, "--table").ok_or("--table is required")?;
    let logins: usize = flag(&args, "--logins")
        .unwrap_or_else(|| "100".into())
        .parse()?;
    let store = Store::new(tables::local_client(&endpoint).await, table);
    let run_id = uuid::Uuid::now_v7().simple().to_string();

    eprintln!("bench-login: seeding {} accounts", logins + 1);
    let main_email = format!("bench-{run_id}@example.com");
    seed(&store, &main_email).await?;
    let others: Vec<String> = (0..logins)
        .map(|i| format!("bench-{run_id}-{i}@example.com"))
        .collect();
    for email in &others {
        seed(&store, email).await?;
    }

    let client = reqwest::Client::new();
    // The first request starts the function (cold start, and the build of `cargo lambda
    // watch` if the binary is stale): reported on its own, never mixed into the percentiles.
    let cold = login(&client, &base_url, &main_email, PASSWORD, 200).await?;
    println!(
        "first login (cold)     {:.1} ms (includes any build)",
        cold.as_secs_f64() * 1000.0
    );
    for _ in 0..3 {
        login(&client, &base_url, &main_email, PASSWORD, 200).await?;
    }

    let mut ok = Vec::with_capacity(logins);
    let mut wrong = Vec::with_capacity(logins);
    let mut unknown = Vec::with_capacity(logins);
    // Interleaved, so that any drift of the machine's load hits every scenario alike.
    for (i, other) in others.iter().enumerate() {
        ok.push(login(&client, &base_url, &main_email, PASSWORD, 200).await?);
        wrong.push(login(&client, &base_url, other, "not the password", 401).await?);
        let nobody = format!("nobody-{run_id}-{i}@example.com");
        unknown.push(login(&client, &base_url, &nobody, PASSWORD, 401).await?);
    }
    report("login 200", ok);
    report("wrong password 401", wrong);
    report("unknown email 401", unknown);
    Ok(())
}
