//! The tests of the local tooling and of the contract between the functions, openapi.yaml and
//! the deployment (and of the configuration's documents to its table of variables), one binary.

mod configuration;
mod contract;
mod events;
mod privilege;
mod timeouts;
