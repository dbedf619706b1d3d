//! The integration tests of this crate, one binary (one link, one process per test run): the
//! real handlers on DynamoDB Local, the mails through a real maildev.

mod common;
mod mail_down;
mod reset;
mod verify;
