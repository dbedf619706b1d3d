//! The tests of the local tooling and of the contract between the functions, openapi.yaml and
//! the deployment, one binary.

mod contract;
mod events;
mod privilege;
mod timeouts;
