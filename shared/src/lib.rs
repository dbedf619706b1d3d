//! The library every taskline function shares. Layers point only down, with no cycle
//! (`scripts/module-deps.sh` checks it):
//!
//! - leaves: [`domain`] (ids and the one timestamp type), [`cookie`] (cookie syntax),
//!   [`text`] (text rules), [`aws`] (AWS clients), [`config`] (environment, read once),
//!   [`error`] (the one error type), [`fields`] (reading the fields of a JSON input);
//! - domain: [`auth`] (tokens, passwords, credentials; no I/O of its own), [`tasks`],
//!   [`categories`];
//! - the store, [`store`] (DynamoDB);
//! - [`http`]: the edge (routing, CORS, bodies, responses, problem+json, the refresh cookie,
//!   the request log line);
//! - [`app`]: [`App`] (built once at cold start, authenticates requests) and [`run`], the
//!   `main` of every function.

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
pub mod store;
pub mod tasks;
pub mod telemetry;
pub mod text;

pub use app::{App, DuringDeletion, run};
pub use aws::{AWS_ATTEMPT_TIMEOUT, AWS_OPERATION_TIMEOUT, dynamodb_client};
