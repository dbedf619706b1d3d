//! The library every taskline function shares. Layers point only down, with no cycle
//! (`scripts/module-deps.sh` checks it):
//!
//! - leaves: [`domain`] (ids and the one timestamp type), [`cookie`] (cookie syntax),
//!   [`text`] (text rules), [`aws`] (AWS clients), [`config`] (environment, read once),
//!   [`error`] (the one error type), [`fields`] (reading the fields of a JSON input);
//! - domain: [`auth`] (tokens, passwords, credentials; no I/O of its own), [`tasks`],
//!   [`categories`];
//! - the store, [`store`] (DynamoDB);
//! - [`mail`]: the mails the API sends, and the [`mail::Outbox`] a function that sends them
//!   is given (the SMTP transport is a crate of its own, linked only by those functions);
//! - [`http`]: the edge (routing, CORS, bodies, responses, problem+json, the refresh cookie,
//!   the request log line);
//! - [`app`]: [`App`] (built once at cold start, authenticates requests) and [`run`], the
//!   `main` of every function.

/// The allocator of every binary that links this library (the five functions, their tests and
/// the dev tools). A request allocates a few thousand small blocks (SDK requests, responses,
/// items); glibc malloc was 10-14% of a request's CPU in the profile, and with mimalloc a
/// listing takes about a fifth fewer instructions (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod app;
pub mod auth;
pub mod aws;
pub mod categories;
pub mod config;
pub mod cookie;
pub mod domain;
pub mod error;
pub mod fields;
pub mod http;
pub mod mail;
pub mod services;
pub mod store;
pub mod tasks;
pub mod telemetry;
pub mod text;

pub use app::{App, run, run_with_outbox};
pub use aws::{AWS_ATTEMPT_TIMEOUT, AWS_OPERATION_TIMEOUT, dynamodb_client};
