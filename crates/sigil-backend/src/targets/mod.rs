//! One module per target: a [`crate::dialect::Dialect`] and the hooks it overrides.

pub mod carbonblack;
pub mod cortexxdr;
pub mod elastic;
pub mod eql;
pub mod esql;
pub mod kql;
pub mod lucene;
pub mod sentinelone;
pub mod splunk;
pub mod sqlite;
