//! Tinyvex benchmarks: generators of realistic Codex rollout and Claude Code transcript
//! ([`claude`]) corpora of any size, validators for them, and a whole-process ingest
//! benchmark runner. The binary `tinyvex-bench` is the CLI over these; `benchsuite/README.md`
//! says how to run it and what the figures mean.
//!
//! Generation: [`corpus::generate`] plans files and draws a [`session::Profile`] for each;
//! a [`session::Session`] writes its turns line by line with the [`json`] writer, [`text`]
//! and a seeded [`rng::Rng`]. [`append::append`] continues existing files.
//! Measuring: [`runner::run`] drives `tinyvex` through [`measure`] and writes [`report`]s;
//! [`latency::run`] times `tinyvex serve` end to end (append → WebSocket `changes`, and startup);
//! [`search_bench::run`] measures full-text search (index cost on ingest, query latency, how
//! soon a new item is searchable).
//! With the `compare-search` feature, `search_compare` measures SQLite FTS5 against tantivy on
//! a store's items (`docs/search-engine-choice.md`).

pub mod append;
pub mod claude;
pub mod clock;
pub mod corpus;
pub mod json;
pub mod latency;
pub mod latency_client;
pub mod latency_report;
pub mod measure;
pub mod report;
pub mod rng;
pub mod runner;
pub mod search_bench;
#[cfg(feature = "compare-search")]
pub mod search_compare;
pub mod search_live;
pub mod search_queries;
pub mod search_report;
pub mod session;
pub mod size;
pub mod text;
pub mod validate;
