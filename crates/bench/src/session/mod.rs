//! One Codex session being written: its format and fixed properties ([`Profile`]), and the
//! running state ([`Session`]: clock, ordinals, token totals) that turns are generated from.
//!
//! Line shapes follow `shared/formats.md` §1 and the real rollouts in `shared/fixtures/codex/`;
//! the per-line emitters live in `items.rs` and `tools.rs`, the turn structure in `turn.rs`.

mod items;
mod tools;
mod turn;

use std::sync::Arc;

use crate::clock::{rfc3339, Millis};
use crate::json::{object, Obj};
use crate::rng::Rng;

/// Which generation of the rollout format a file is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// ≤0.30 (before 2025-09-09): bare meta line, `record_type: state`, bare response items.
    Legacy,
    /// ≈0.31–0.4x: envelope without `source`/`model_provider`, `shell` tool with JSON outputs,
    /// one `turn_context` per model request.
    V040,
    /// ≈0.5x–0.14x, legacy history mode: `base_instructions`, `exec_command`, `apply_patch`,
    /// `task_started`/`task_complete`, `compacted`.
    Current,
    /// 0.15x–0.169 paginated history mode: `ordinal`, `item_completed`, `world_state`,
    /// `token_usage_record`, response-item `metadata`.
    Paginated,
}

impl Format {
    /// Every format, oldest first.
    pub const ALL: [Format; 4] = [
        Format::Legacy,
        Format::V040,
        Format::Current,
        Format::Paginated,
    ];

    /// A short stable name (`legacy`, `v040`, `current`, `paginated`).
    pub fn name(self) -> &'static str {
        match self {
            Format::Legacy => "legacy",
            Format::V040 => "v040",
            Format::Current => "current",
            Format::Paginated => "paginated",
        }
    }
}

/// The fixed properties of one session (what its `session_meta` says, and per-session texts).
#[derive(Debug, Clone)]
pub struct Profile {
    /// Line format of the file.
    pub format: Format,
    /// Thread id (the uuid in the file name).
    pub id: String,
    /// Working directory.
    pub cwd: String,
    /// `cli_version`, e.g. `0.104.0`.
    pub cli_version: String,
    /// Minor version number (`104` for `0.104.0`), which decides some record types.
    pub minor: u32,
    /// `originator`.
    pub originator: &'static str,
    /// `source`.
    pub source: &'static str,
    /// Model slug written in `turn_context`.
    pub model: &'static str,
    /// Reasoning effort.
    pub effort: &'static str,
    /// Creation time.
    pub start_ms: Millis,
    /// `base_instructions.text` (shared by all sessions of a version).
    pub base_instructions: Option<Arc<str>>,
    /// AGENTS.md text repeated in `turn_context.user_instructions`.
    pub user_instructions: Option<Arc<str>>,
    /// Text repeated in `turn_context.developer_instructions`.
    pub developer_instructions: Option<Arc<str>>,
    /// Git commit hash.
    pub git_commit: String,
    /// Git branch.
    pub git_branch: String,
}

/// Cumulative or per-request token usage.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    /// Input tokens.
    pub input: u64,
    /// Cached input tokens.
    pub cached: u64,
    /// Output tokens.
    pub output: u64,
    /// Reasoning output tokens.
    pub reasoning: u64,
}

impl Usage {
    fn add(&mut self, o: Usage) {
        self.input += o.input;
        self.cached += o.cached;
        self.output += o.output;
        self.reasoning += o.reasoning;
    }
}

/// Where an existing file left off, to continue it (`gen --append`).
#[derive(Debug, Clone, Default)]
pub struct Resume {
    /// Last timestamp in the file.
    pub now: Millis,
    /// Next `ordinal` (paginated files).
    pub next_ordinal: u64,
    /// Last `metadata.history_sequence` (paginated files).
    pub history_seq: u64,
    /// Thread token totals so far.
    pub totals: Usage,
    /// Number of turns already in the file.
    pub turns: usize,
}

/// How much a session may still write.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Stop starting new work once this many bytes are written.
    pub bytes: u64,
    /// Never write more than this many lines.
    pub lines: usize,
}

/// A session being written into a byte buffer.
pub struct Session<'r> {
    rng: &'r mut Rng,
    p: Profile,
    out: Vec<u8>,
    lines: usize,
    now: Millis,
    next_ordinal: u64,
    history_seq: u64,
    totals: Usage,
    turns: usize,
    turn_id: String,
    context_tokens: u64,
    budget: Budget,
}

impl<'r> Session<'r> {
    /// A new session ([`Session::fill`] writes its `session_meta` first) or a continuation of `resume`.
    pub fn new(p: Profile, rng: &'r mut Rng, resume: Option<Resume>, budget: Budget) -> Self {
        let r = resume.clone().unwrap_or(Resume {
            now: p.start_ms,
            ..Resume::default()
        });
        let context_tokens = 9_000 + r.totals.output.min(150_000);
        Session {
            rng,
            p,
            out: Vec::with_capacity(budget.bytes.min(64 << 20) as usize + 4096),
            lines: 0,
            now: r.now,
            next_ordinal: r.next_ordinal,
            history_seq: r.history_seq,
            totals: r.totals,
            turns: r.turns,
            turn_id: String::new(),
            context_tokens,
            budget,
        }
    }

    /// Writes turns until the budget is used (new files), then returns the bytes.
    pub fn fill(mut self) -> Vec<u8> {
        let new_file = self.turns == 0;
        if new_file {
            self.meta();
        }
        // A new file always gets one whole turn, however small its budget.
        while (new_file && self.turns == 0) || self.room_for_turn() {
            self.turn();
        }
        self.pad_lines();
        self.out
    }

    /// Bytes and lines written so far.
    pub fn written(&self) -> (usize, usize) {
        (self.out.len(), self.lines)
    }

    fn remaining_bytes(&self) -> u64 {
        self.budget.bytes.saturating_sub(self.out.len() as u64)
    }

    fn remaining_lines(&self) -> usize {
        self.budget.lines.saturating_sub(self.lines)
    }

    fn room_for_turn(&self) -> bool {
        self.remaining_bytes() > 12_000 && self.remaining_lines() >= 10
    }

    fn room_for_step(&self) -> bool {
        self.remaining_bytes() > 9_000 && self.remaining_lines() > turn::CLOSE_LINES
    }

    /// A size drawn from a log-normal, capped so the file stays close to its budget.
    fn size(&mut self, median: f64, sigma: f64, min: usize, max: usize) -> usize {
        let cap = (self.remaining_bytes().saturating_sub(8_000) as usize)
            .max(min)
            .min(max);
        self.rng.lognormal(median, sigma, min, cap)
    }

    fn tick(&mut self, lo_ms: u64, hi_ms: u64) {
        self.now += self.rng.range(lo_ms, hi_ms);
    }

    /// Writes one record. Envelope formats wrap `payload` as `{"timestamp","ordinal"?,"type","payload"}`
    /// (plus `metadata` on paginated response items); legacy files get the bare payload.
    fn line(&mut self, kind: &str, payload: impl FnOnce(&mut Obj)) {
        self.now += self.rng.range(0, 3);
        let ts = rfc3339(self.now);
        let format = self.p.format;
        let ordinal = (format == Format::Paginated).then(|| {
            self.next_ordinal += 1;
            self.next_ordinal - 1
        });
        let metadata = (format == Format::Paginated && kind == "response_item").then(|| {
            self.history_seq += 1;
            self.history_seq
        });
        let out = &mut self.out;
        if format == Format::Legacy {
            object(out, payload);
        } else {
            object(out, |o| {
                o.str("timestamp", &ts);
                if let Some(n) = ordinal {
                    o.num("ordinal", n);
                }
                o.str("type", kind).obj("payload", payload);
                if let Some(seq) = metadata {
                    o.obj("metadata", |m| {
                        m.num("history_sequence", seq)
                            .num("sampled_through_sequence", seq.saturating_sub(3))
                            .bool("client_authored", false);
                    });
                }
            });
        }
        self.out.push(b'\n');
        self.lines += 1;
    }

    /// Token usage of one model request, added to the thread totals.
    fn request_usage(&mut self, output_bytes: usize) -> Usage {
        self.context_tokens += (output_bytes / 4) as u64 + self.rng.range(50, 400);
        let input = self.context_tokens.min(250_000);
        let u = Usage {
            input,
            cached: input / 128 * 128 * 8 / 10,
            output: (output_bytes / 4) as u64 + self.rng.range(20, 300),
            reasoning: self.rng.range(0, 6) * 64,
        };
        self.totals.add(u);
        u
    }

    /// Fills the line budget exactly (append mode) with extra `token_count`/state records,
    /// which real files also repeat between requests.
    fn pad_lines(&mut self) {
        if self.budget.lines == usize::MAX {
            return;
        }
        while self.lines < self.budget.lines {
            if self.p.format == Format::Legacy {
                self.line("", |o| {
                    o.str("record_type", "state");
                });
            } else {
                self.token_count(None);
            }
        }
    }
}
