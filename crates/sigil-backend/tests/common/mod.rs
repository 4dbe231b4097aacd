//! Helpers shared by the integration tests.

#![allow(dead_code)]

pub mod engine;
pub mod oracle;
pub mod validity;
