//! One module per target: a [`crate::dialect::Dialect`], the hooks it overrides, and its
//! [`crate::registry::TargetInfo`].

use crate::registry::TargetInfo;

pub mod carbonblack;
pub mod clickhouse;
pub mod cortexxdr;
pub mod duckdb;
pub mod elastic;
pub mod eql;
pub mod esql;
pub mod kusto;
pub mod logpoint;
pub mod logscale;
pub mod loki;
pub mod lucene;
pub mod opensearch;
pub mod ppl;
pub mod qradar;
pub mod secops;
pub mod sentinelone;
pub mod spark;
pub mod spl2;
pub mod splunk;
pub mod splunk_dm;
pub mod sql;
pub mod sqlite;
pub mod sumologic;

/// Every target, in the order `--list-targets` shows them.
pub static ALL: &[&TargetInfo] = &[
    &splunk::TARGET,
    &splunk_dm::TARGET,
    &spl2::TARGET,
    &lucene::TARGET,
    &opensearch::TARGET,
    &ppl::TARGET,
    &eql::TARGET,
    &esql::TARGET,
    &kusto::TARGET,
    &loki::TARGET,
    &sqlite::TARGET,
    &duckdb::TARGET,
    &clickhouse::TARGET,
    &spark::TARGET,
    &sentinelone::TARGET,
    &cortexxdr::TARGET,
    &carbonblack::TARGET,
    &logscale::TARGET,
    &logpoint::TARGET,
    &sumologic::TARGET,
    &qradar::TARGET,
    &secops::TARGET,
];
