//! Black-box acceptance tests of the `tinyvex` binary: they only run the
//! binary and read the raw fixture files (`../shared/fixtures`, or
//! `$TINYVEX_FIXTURES`); expectations are computed from those files by the
//! plain code in `expected.rs`, never by Tinyvex's own crates.

#[macro_use]
mod util;

mod bad_input;
mod check;
mod claude_fixtures;
mod claude_incremental;
mod codex_fixtures;
mod corpus;
mod crash;
mod deleted_sources;
mod expected;
mod export_round_trip;
mod gemini_fixtures;
mod idempotence;
mod incremental;
mod live_agents;
mod opencode_fixtures;
mod real_agents;
mod real_claude;
mod real_codex;
mod real_export;
mod real_others;
mod rules;
mod search;
mod two_way;
mod web_ui;
