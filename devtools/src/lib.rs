//! Development and test support, never deployed: Amazon DynamoDB Local, tables created from
//! template.yaml, and a harness that drives the functions' handlers with real API Gateway
//! events against a fresh table per test.

pub mod dynamodb_local;
pub mod harness;
pub mod iam;
pub mod maildev;
pub mod openapi;
pub mod seed;
pub mod tables;

use std::path::PathBuf;

/// The repository root (where template.yaml and .tools/ live).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("devtools lives one level below the repository root")
        .to_path_buf()
}

/// A TCP port that was free a moment ago.
pub fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}
