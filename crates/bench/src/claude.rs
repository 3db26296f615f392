//! Claude Code corpora: a `CLAUDE_CONFIG_DIR` with `projects/<escaped cwd>/<sessionId>.jsonl`
//! session files, `agent-<8hex>.jsonl` sub-agent files next to them (1.0.x/2.0.x) and 2.1.x
//! `<sessionId>/subagents/agent-<id>.jsonl` + `.meta.json`. Shapes from `shared/formats.md` §2
//! and the real fixtures in `shared/fixtures/claude/`. Deterministic for a given seed.
//!
//! A session is a chain of turns: a prompt, then an agent loop of API requests, each written
//! as one `assistant` line per content block (thinking, text, tool_use) sharing `message.id`
//! and `requestId` with a repeated `usage`, followed by one `user` line per tool result (with
//! the structured `toolUseResult`). Around them: `summary`, `file-history-snapshot`,
//! `queue-operation`, `attachment`, `progress`, `system` (`api_error`, `compact_boundary`),
//! `ai-title` and `last-prompt` lines, as the CLI version would write them.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::append::AppendReport;
use crate::clock::{date_ms, parse_rfc3339, rfc3339, Millis};
use crate::corpus::{GenOptions, Tally};
use crate::json::{object, object_string, Obj};
use crate::rng::Rng;
use crate::text;
use crate::validate::CheckReport;

/// Claude Code generation: decides the sub-agent layout and which bookkeeping lines exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Gen {
    /// 1.0.6x–1.0.128: `summary` lines, `agent-<8hex>.jsonl` sub-agent files, `Task`.
    V1,
    /// 2.0.x: adds `file-history-snapshot`, `progress`, `queue-operation`.
    V20,
    /// 2.1.x: adds `attachment`, `ai-title`, `last-prompt`, `subagents/` layout, `Agent`.
    V21,
}

impl Gen {
    /// Short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Gen::V1 => "1.0.x",
            Gen::V20 => "2.0.x",
            Gen::V21 => "2.1.x",
        }
    }

    fn of_version(v: &str) -> Gen {
        if v.starts_with("2.1.") || v.starts_with("2.2") || v.starts_with('3') {
            Gen::V21
        } else if v.starts_with("2.") {
            Gen::V20
        } else {
            Gen::V1
        }
    }
}

/// Share of sessions per generation, in percent.
pub const GEN_MIX: [(Gen, u32); 3] = [(Gen::V1, 25), (Gen::V20, 30), (Gen::V21, 45)];

/// What was generated.
#[derive(Debug, Clone)]
pub struct ClaudeReport {
    /// Totals over every `.jsonl` file (session and sub-agent files).
    pub total: Tally,
    /// Totals per generation (a session with its sub-agent files).
    pub by_gen: BTreeMap<Gen, Tally>,
    /// Sessions (the rest of `total.files` are sub-agent files).
    pub sessions: usize,
    /// Projects (folders under `projects/`).
    pub projects: usize,
    /// Smallest and largest file.
    pub min_max_file: (u64, u64),
    /// Wall time.
    pub elapsed: Duration,
}

impl ClaudeReport {
    /// A JSON summary.
    pub fn to_json(&self) -> Value {
        let by: serde_json::Map<String, Value> = self
            .by_gen
            .iter()
            .map(|(g, t)| {
                (
                    g.name().to_string(),
                    serde_json::json!({"files": t.files, "bytes": t.bytes, "lines": t.lines}),
                )
            })
            .collect();
        serde_json::json!({
            "agent": "claude", "files": self.total.files, "sessions": self.sessions,
            "projects": self.projects, "bytes": self.total.bytes, "lines": self.total.lines,
            "by_version": by, "smallest_file": self.min_max_file.0, "largest_file": self.min_max_file.1,
            "seconds": self.elapsed.as_secs_f64(),
        })
    }
}

/// Everything fixed for one session (and its sub-agents).
#[derive(Debug, Clone)]
struct Profile {
    gen: Gen,
    session_id: String,
    cwd: String,
    branch: String,
    version: String,
    model: &'static str,
    entrypoint: &'static str,
}

const USERS: &[&str] = &["dev", "alice", "jnarowski", "mchen", "sam", "r.ortiz"];
const REPOS: &[&str] = &[
    "tinyvex",
    "monorepo-v2",
    "billing_service",
    "web-dashboard",
    "ml.pipeline",
    "infra",
    "mobile-app",
    "cli-tools",
    "docs-site",
    "payments",
    "search-api",
    "data_ingest",
];
const SUBDIRS: &[&str] = &[
    "",
    "",
    "",
    "apps/web",
    "crates/core",
    "services/api",
    "packages/ui",
];
const BRANCHES: &[&str] = &[
    "main",
    "main",
    "master",
    "feat/team-optimization",
    "fix/cursor-offsets",
    "refactor/store",
    "HEAD",
    "",
];

/// The escaped form of a cwd used as the project folder name: every non-alphanumeric
/// character becomes `-`.
pub fn escape_cwd(cwd: &str) -> String {
    cwd.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// The project working directories of a corpus (a few dozen, fixed by the seed).
fn projects(seed: u64) -> Vec<String> {
    let mut r = Rng::derive(seed ^ 0xC1A0, 0);
    let mut out: Vec<String> = Vec::new();
    while out.len() < 36 {
        let user = r.pick(USERS);
        let repo = r.pick(REPOS);
        let sub = r.pick(SUBDIRS);
        let base = match r.below(3) {
            0 => format!("/Users/{user}/Dev/{repo}"),
            1 => format!("/home/{user}/src/{repo}"),
            _ => format!("/home/{user}/work/{repo}"),
        };
        let cwd = if sub.is_empty() {
            base
        } else {
            format!("{base}/{sub}")
        };
        if !out.contains(&cwd) {
            out.push(cwd);
        }
    }
    out
}

fn profile(rng: &mut Rng, projects: &[String]) -> (Profile, Millis) {
    let weights: Vec<u32> = GEN_MIX.iter().map(|(_, w)| *w).collect();
    let gen = GEN_MIX[rng.weighted(&weights)].0;
    let frac = rng.unit();
    let (from, to, version) = match gen {
        Gen::V1 => (
            date_ms(2025, 7, 1),
            date_ms(2025, 9, 28),
            format!("1.0.{}", 60 + (frac * 68.0) as u32),
        ),
        Gen::V20 => (
            date_ms(2025, 10, 1),
            date_ms(2025, 12, 31),
            format!("2.0.{}", (frac * 76.0) as u32),
        ),
        Gen::V21 => (
            date_ms(2026, 1, 5),
            date_ms(2026, 11, 20),
            format!("2.1.{}", (frac * 330.0) as u32),
        ),
    };
    let start = from + ((to - from) as f64 * frac) as u64;
    // Zipf-like: a few projects get most sessions.
    let i = ((projects.len() as f64) * rng.unit().powi(2)) as usize;
    let model = match gen {
        Gen::V1 => *rng.pick(&["claude-sonnet-4-20250514", "claude-opus-4-1-20250805"]),
        Gen::V20 => *rng.pick(&[
            "claude-sonnet-4-5-20250929",
            "claude-sonnet-4-5-20250929",
            "claude-opus-4-5-20251101",
        ]),
        Gen::V21 => *rng.pick(&["claude-opus-4-6", "claude-opus-4-6", "claude-sonnet-4-6"]),
    };
    let entrypoint = if rng.chance(0.8) {
        "cli"
    } else {
        "claude-vscode"
    };
    (
        Profile {
            gen,
            session_id: text::uuid_v4(rng),
            cwd: projects[i.min(projects.len() - 1)].clone(),
            branch: (*rng.pick(BRANCHES)).to_string(),
            version,
            model,
            entrypoint,
        },
        start,
    )
}

/// One tool call of the agent loop, with everything its result line needs.
struct Call {
    id: String,
    name: &'static str,
    input: String,
    assistant_uuid: String,
    result: String,
    is_error: bool,
    tool_use_result: String,
    /// `Bash` output shown in `progress` lines while it ran.
    progress: Option<String>,
    duration_ms: u64,
}

enum Block {
    Thinking(String, String),
    Text(String),
    ToolUse(usize),
}

/// Writes one conversation (a session file or a sub-agent file).
struct Conv {
    p: Profile,
    rng: Rng,
    /// `Some(agentId)` in a sub-agent file.
    agent: Option<String>,
    out: Vec<u8>,
    now: Millis,
    leaf: Option<String>,
    /// Sub-agent files, paths relative to the project folder.
    files: Vec<(PathBuf, Vec<u8>)>,
    spawn_agents: bool,
    budget: u64,
    turns: usize,
    /// Todos of the last TodoWrite (for `oldTodos`).
    todos: Vec<(String, &'static str)>,
}

fn msg_id(rng: &mut Rng) -> String {
    format!("msg_01{}", text::alnum(rng, 22))
}

fn signature(rng: &mut Rng, len: usize) -> String {
    const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(len + 2);
    s.push_str("Er");
    while s.len() < len {
        let mut x = rng.next_u64();
        for _ in 0..10 {
            s.push(B64[(x & 63) as usize] as char);
            x >>= 6;
        }
    }
    s.truncate(len - len % 4);
    s
}

fn numbered(body: &str, start: usize) -> String {
    let mut s = String::with_capacity(body.len() + body.len() / 8);
    for (i, l) in body.lines().enumerate() {
        let _ = writeln!(s, "{:>6}\u{2192}{l}", start + i);
    }
    s
}

impl Conv {
    fn new(p: Profile, rng: Rng, agent: Option<String>, now: Millis, budget: u64) -> Self {
        Conv {
            spawn_agents: agent.is_none(),
            p,
            rng,
            agent,
            out: Vec::with_capacity(budget.min(64 << 20) as usize + 4096),
            now,
            leaf: None,
            files: Vec::new(),
            budget,
            turns: 0,
            todos: Vec::new(),
        }
    }

    fn bytes(&self) -> u64 {
        self.out.len() as u64 + self.files.iter().map(|f| f.1.len() as u64).sum::<u64>()
    }

    fn over(&self) -> bool {
        self.bytes() >= self.budget
    }

    fn tick(&mut self, lo: u64, hi: u64) -> String {
        self.now += self.rng.range(lo, hi);
        rfc3339(self.now)
    }

    fn uuid(&mut self) -> String {
        text::uuid_v4(&mut self.rng)
    }

    /// The fields every conversation line starts with.
    fn head(p: &Profile, agent: Option<&str>, o: &mut Obj, parent: Option<&str>) {
        o.opt_str("parentUuid", parent)
            .bool("isSidechain", agent.is_some())
            .str("userType", "external");
        if p.gen == Gen::V21 {
            o.str("entrypoint", p.entrypoint);
        }
        o.str("cwd", &p.cwd)
            .str("sessionId", &p.session_id)
            .str("version", &p.version)
            .str("gitBranch", &p.branch);
        if let Some(a) = agent {
            o.str("agentId", a);
        }
    }

    fn line(&mut self, f: impl FnOnce(&Profile, Option<&str>, &mut Obj)) {
        let (p, agent) = (&self.p, self.agent.as_deref());
        object(&mut self.out, |o| f(p, agent, o));
        self.out.push(b'\n');
    }

    /// A conversation line chained to the current leaf; returns its uuid.
    fn chained(&mut self, uuid: Option<String>, f: impl FnOnce(&mut Obj)) -> String {
        let uuid = uuid.unwrap_or_else(|| self.uuid());
        let parent = self.leaf.take();
        let (p, agent) = (&self.p, self.agent.as_deref());
        object(&mut self.out, |o| {
            Self::head(p, agent, o, parent.as_deref());
            f(o);
            o.str("uuid", &uuid);
        });
        self.out.push(b'\n');
        self.leaf = Some(uuid.clone());
        uuid
    }

    fn user_text(&mut self, content: &str, meta: bool, extra: bool) -> String {
        let ts = self.tick(2_000, 600_000);
        let uuid = self.uuid();
        let prompt_id = self.uuid();
        let gen = self.p.gen;
        self.chained(Some(uuid), |o| {
            o.str("type", "user");
            o.obj("message", |m| {
                m.str("role", "user").str("content", content);
            });
            if meta {
                o.bool("isMeta", true);
            }
            if extra && gen != Gen::V1 {
                o.str("permissionMode", "default");
            }
            if extra && gen == Gen::V21 {
                o.str("promptId", &prompt_id);
            }
            o.str("timestamp", &ts);
        })
    }

    fn prompt_text(&mut self) -> String {
        let r = &mut self.rng;
        let n = r.lognormal(260.0, 1.1, 12, 12_000);
        match r.below(10) {
            0 => text::markdown(r, n),
            1 => {
                let mut s = text::prose(r, n.min(400));
                s.push_str("\n\n```\n");
                let k = 3 + r.below(40);
                let kind = *r.pick(&[text::OutputKind::CompileError, text::OutputKind::Tests]);
                s.push_str(&text::output(r, kind, k * 60));
                s.push_str("```");
                s
            }
            _ => text::prose(r, n),
        }
    }

    fn snapshot(&mut self, message_id: &str) {
        let ts = rfc3339(self.now);
        let files: Vec<String> = (0..self.rng.below(4))
            .map(|_| text::path(&mut self.rng))
            .collect();
        let hashes: Vec<String> = files
            .iter()
            .map(|_| format!("{:016x}", self.rng.next_u64()))
            .collect();
        let update = self.turns > 0 && self.rng.chance(0.3);
        self.line(|_, _, o| {
            o.str("type", "file-history-snapshot")
                .str("messageId", message_id)
                .obj("snapshot", |s| {
                    s.str("messageId", message_id)
                        .obj("trackedFileBackups", |b| {
                            for (f, h) in files.iter().zip(&hashes) {
                                b.obj(f, |e| {
                                    e.str("backupFileName", &format!("{h}@v2"))
                                        .num("version", 2)
                                        .str("backupTime", &ts);
                                });
                            }
                        })
                        .str("timestamp", &ts);
                })
                .bool("isSnapshotUpdate", update);
        });
    }

    fn queue(&mut self, op: &str, content: Option<&str>) {
        let ts = self.tick(1, 50);
        self.line(|p, _, o| {
            o.str("type", "queue-operation")
                .str("operation", op)
                .str("timestamp", &ts)
                .str("sessionId", &p.session_id);
            if let Some(c) = content {
                o.str("content", c);
            }
        });
    }

    fn attachment(&mut self) {
        let ts = self.tick(1, 30);
        let r = &mut self.rng;
        let kind = *r.pick(&[
            "todo_reminder",
            "hook_success",
            "deferred_tools_delta",
            "skill_listing",
            "date",
            "edited_text_file",
        ]);
        let n = r.lognormal(700.0, 0.9, 60, 9_000);
        let body = text::prose(r, n);
        let file = text::path(r);
        self.chained(None, |o| {
            o.obj("attachment", |a| {
                a.str("type", kind);
                match kind {
                    "deferred_tools_delta" => {
                        a.strs(
                            "addedNames",
                            &[
                                "CronCreate",
                                "Monitor",
                                "SendMessage",
                                "TaskStop",
                                "WebFetch",
                                "WebSearch",
                            ],
                        );
                    }
                    "edited_text_file" => {
                        a.str("filename", &file).str("snippet", &body);
                    }
                    "hook_success" => {
                        a.str("hookName", "SessionStart:startup")
                            .str("hookEvent", "SessionStart")
                            .str("content", &body)
                            .num("exitCode", 0);
                    }
                    _ => {
                        a.str("content", &body);
                    }
                }
            });
            o.str("type", "attachment").str("timestamp", &ts);
            o.arr("rendered", |a| {
                a.obj(|r| {
                    r.str(
                        "content",
                        &format!("<system-reminder>\n{body}\n</system-reminder>"),
                    );
                });
            });
        });
    }

    fn usage(&mut self, out_tokens: u64) -> String {
        let r = &mut self.rng;
        let cache_read = r.range(8_000, 180_000);
        let cache_create = if r.chance(0.3) {
            r.range(200, 30_000)
        } else {
            r.range(0, 2_000)
        };
        let input = r.range(1, 40);
        let gen = self.p.gen;
        object_string(|u| {
            u.num("input_tokens", input)
                .num("cache_creation_input_tokens", cache_create)
                .num("cache_read_input_tokens", cache_read);
            if gen != Gen::V1 {
                u.obj("cache_creation", |c| {
                    c.num("ephemeral_5m_input_tokens", cache_create)
                        .num("ephemeral_1h_input_tokens", 0);
                });
            }
            u.num("output_tokens", out_tokens)
                .str("service_tier", "standard");
            if gen == Gen::V21 {
                u.obj("server_tool_use", |s| {
                    s.num("web_search_requests", 0).num("web_fetch_requests", 0);
                })
                .str("inference_geo", "")
                .raw("iterations", "[]")
                .str("speed", "standard");
            }
        })
    }

    /// One API response: one line per block, then the tool results. Returns the text blocks'
    /// combined text (the sub-agent's report) when there is no tool call.
    fn request(&mut self, last: bool, tools: &[(&'static str, u32)]) -> String {
        let mut blocks = Vec::new();
        let mut calls: Vec<Call> = Vec::new();
        if self.rng.chance(0.55) {
            let n = self.rng.lognormal(500.0, 1.0, 30, 12_000);
            let t = text::prose(&mut self.rng, n);
            let s = self.rng.lognormal(700.0, 0.5, 200, 4_000);
            blocks.push(Block::Thinking(t, signature(&mut self.rng, s)));
        }
        let mut final_text = String::new();
        if last || self.rng.chance(0.35) {
            let n = if last {
                self.rng.lognormal(900.0, 1.0, 40, 12_000)
            } else {
                self.rng.lognormal(150.0, 0.8, 20, 2_000)
            };
            let t = if last && self.rng.chance(0.6) {
                text::markdown(&mut self.rng, n)
            } else {
                text::prose(&mut self.rng, n)
            };
            final_text = t.clone();
            blocks.push(Block::Text(t));
        }
        if !last {
            let k = if self.rng.chance(0.2) {
                2 + self.rng.below(3)
            } else {
                1
            };
            for _ in 0..k {
                let c = self.tool(tools);
                blocks.push(Block::ToolUse(calls.len()));
                calls.push(c);
            }
        }
        let out_tokens = self.rng.range(20, 3_000);
        let usage = self.usage(out_tokens);
        let mid = msg_id(&mut self.rng);
        let rid = format!("req_011C{}", text::alnum(&mut self.rng, 20));
        let model = self.p.model;
        let nblocks = blocks.len();
        for (i, b) in blocks.iter().enumerate() {
            let ts = self.tick(300, 20_000);
            let uuid = self.uuid();
            let stop = (i + 1 == nblocks).then_some(if last { "end_turn" } else { "tool_use" });
            if let Block::ToolUse(c) = b {
                calls[*c].assistant_uuid = uuid.clone();
            }
            let calls = &calls;
            self.chained(Some(uuid), |o| {
                o.obj("message", |m| {
                    m.str("id", &mid)
                        .str("type", "message")
                        .str("role", "assistant")
                        .str("model", model);
                    m.arr("content", |a| {
                        a.obj(|c| match b {
                            Block::Thinking(t, s) => {
                                c.str("type", "thinking")
                                    .str("thinking", t)
                                    .str("signature", s);
                            }
                            Block::Text(t) => {
                                c.str("type", "text").str("text", t);
                            }
                            Block::ToolUse(k) => {
                                let call = &calls[*k];
                                c.str("type", "tool_use")
                                    .str("id", &call.id)
                                    .str("name", call.name)
                                    .raw("input", &call.input);
                            }
                        });
                    });
                    m.opt_str("stop_reason", stop)
                        .null("stop_sequence")
                        .raw("usage", &usage);
                });
                o.str("requestId", &rid)
                    .str("type", "assistant")
                    .str("timestamp", &ts);
            });
        }
        for c in &calls {
            self.result(c);
        }
        final_text
    }

    fn result(&mut self, c: &Call) {
        if let Some(p) = &c.progress {
            if self.p.gen != Gen::V1 {
                let n = 1 + self.rng.below(4);
                let lines: Vec<&str> = p.lines().collect();
                for i in 0..n {
                    let ts = self.tick(1_000, 3_000);
                    let upto = (lines.len() * (i + 1) / (n + 1)).min(lines.len());
                    let shown = lines[upto.saturating_sub(5)..upto].join("\n");
                    self.chained(None, |o| {
                        o.obj("data", |d| {
                            d.str("type", "bash_progress")
                                .str("output", &shown)
                                .str("fullOutput", &shown)
                                .num("elapsedTimeSeconds", 1 + i as u64 * 2)
                                .num("totalLines", upto as u64);
                        })
                        .str("toolUseID", &format!("bash-progress-{i}"))
                        .str("parentToolUseID", &c.id)
                        .str("type", "progress")
                        .str("timestamp", &ts);
                    });
                }
            }
        }
        self.now += c.duration_ms;
        let ts = self.tick(5, 400);
        let gen = self.p.gen;
        self.chained(None, |o| {
            o.str("type", "user").obj("message", |m| {
                m.str("role", "user").arr("content", |a| {
                    a.obj(|b| {
                        b.str("tool_use_id", &c.id)
                            .str("type", "tool_result")
                            .str("content", &c.result);
                        if c.is_error {
                            b.bool("is_error", true);
                        }
                    });
                });
            });
            o.str("timestamp", &ts);
            o.raw("toolUseResult", &c.tool_use_result);
            if gen == Gen::V21 {
                o.str("sourceToolAssistantUUID", &c.assistant_uuid);
            }
        });
    }

    /// Draws a tool call and its result.
    fn tool(&mut self, tools: &[(&'static str, u32)]) -> Call {
        let weights: Vec<u32> = tools.iter().map(|t| t.1).collect();
        let mut name = tools[self.rng.weighted(&weights)].0;
        if name == "Task" && self.p.gen == Gen::V21 {
            name = "Agent";
        }
        let id = format!("toolu_01{}", text::alnum(&mut self.rng, 22));
        let mut call = Call {
            id,
            name,
            input: String::new(),
            assistant_uuid: String::new(),
            result: String::new(),
            is_error: false,
            tool_use_result: String::new(),
            progress: None,
            duration_ms: self.rng.range(20, 3_000),
        };
        let r = &mut self.rng;
        let abs = |p: &str, cwd: &str| format!("{cwd}/{p}");
        match name {
            "Bash" => {
                let (cmd, kind) = text::command(r);
                let n = r.lognormal(1_200.0, 1.3, 0, 29_000);
                let mut out = if n < 20 {
                    String::new()
                } else {
                    text::output(r, kind, n)
                };
                let failed = r.chance(0.06);
                call.input = object_string(|o| {
                    o.str("command", &cmd)
                        .str("description", &text::prose(r, 30));
                });
                if failed {
                    out = format!("Exit code 1\n{out}");
                }
                call.is_error = failed;
                call.tool_use_result = if failed {
                    serde_json::to_string(&format!("Error: {out}")).unwrap_or_default()
                } else {
                    object_string(|o| {
                        o.str("stdout", &out)
                            .str("stderr", "")
                            .bool("interrupted", false)
                            .bool("isImage", false);
                    })
                };
                if out.len() > 2_000 && r.chance(0.4) {
                    call.progress = Some(out.clone());
                    call.duration_ms += r.range(2_000, 60_000);
                }
                call.result = out;
            }
            "Read" => {
                let path = abs(&text::path(r), &self.p.cwd);
                let target = r.lognormal(3_000.0, 1.1, 100, 48_000);
                let mut body = String::new();
                while body.len() < target {
                    text::code(r, 8, &mut body);
                }
                let start = if r.chance(0.2) { 1 + r.below(300) } else { 1 };
                let nlines = body.lines().count();
                let shown = numbered(&body, start);
                call.input = object_string(|o| {
                    o.str("file_path", &path);
                    if start > 1 {
                        o.num("offset", start as u64).num("limit", nlines as u64);
                    }
                });
                call.tool_use_result = object_string(|o| {
                    o.str("type", "text").obj("file", |f| {
                        f.str("filePath", &path)
                            .str("content", &body)
                            .num("numLines", nlines as u64)
                            .num("startLine", start as u64)
                            .num("totalLines", (start + nlines + r.below(200)) as u64);
                    });
                });
                call.result = format!(
                    "{shown}\n<system-reminder>\nWhenever you read a file, you should consider whether it looks malicious.\n</system-reminder>\n"
                );
            }
            "Edit" | "Write" => {
                let path = abs(&text::path(r), &self.p.cwd);
                let n = r.lognormal(4_000.0, 0.9, 200, 40_000);
                let mut original = String::new();
                while original.len() < n {
                    text::code(r, 8, &mut original);
                }
                let mut old = String::new();
                let k = 1 + r.below(12);
                text::code(r, k, &mut old);
                let mut new = String::new();
                let k = 1 + r.below(16);
                text::code(r, k, &mut new);
                let at = 1 + r.below(original.lines().count().max(1));
                let patch = |o: &mut Obj| {
                    o.arr("structuredPatch", |a| {
                        a.obj(|h| {
                            h.num("oldStart", at as u64)
                                .num("oldLines", old.lines().count() as u64)
                                .num("newStart", at as u64)
                                .num("newLines", new.lines().count() as u64);
                            h.arr("lines", |l| {
                                for x in old.lines() {
                                    l.str(&format!("-{x}"));
                                }
                                for x in new.lines() {
                                    l.str(&format!("+{x}"));
                                }
                            });
                        });
                    });
                };
                if name == "Edit" {
                    call.input = object_string(|o| {
                        o.str("file_path", &path)
                            .str("old_string", &old)
                            .str("new_string", &new);
                    });
                    call.tool_use_result = object_string(|o| {
                        o.str("filePath", &path)
                            .str("oldString", &old)
                            .str("newString", &new)
                            .str("originalFile", &original);
                        patch(o);
                        o.bool("userModified", false).bool("replaceAll", false);
                    });
                    call.result = format!(
                        "The file {path} has been updated. Here's the result of running `cat -n` on a snippet of the edited file:\n{}",
                        numbered(&new, at)
                    );
                    if r.chance(0.04) {
                        call.is_error = true;
                        call.result =
                            "<tool_use_error>String to replace not found in file.\nString: "
                                .to_string()
                                + &old
                                + "</tool_use_error>";
                        call.tool_use_result =
                            serde_json::to_string(&format!("Error: {}", call.result))
                                .unwrap_or_default();
                    }
                } else {
                    let create = r.chance(0.6);
                    call.input = object_string(|o| {
                        o.str("file_path", &path).str("content", &original);
                    });
                    call.tool_use_result = object_string(|o| {
                        o.str("type", if create { "create" } else { "update" })
                            .str("filePath", &path)
                            .str("content", &original);
                        patch(o);
                    });
                    call.result = if create {
                        format!("File created successfully at: {path}")
                    } else {
                        format!("The file {path} has been updated.")
                    };
                }
            }
            "Grep" | "Glob" => {
                let k = r.count(8.0, 0, 200);
                let files: Vec<String> = (0..k).map(|_| abs(&text::path(r), &self.p.cwd)).collect();
                let refs: Vec<&str> = files.iter().map(String::as_str).collect();
                let content_mode = name == "Grep" && r.chance(0.4);
                let pattern = text::ident(r);
                let body = if content_mode {
                    let n = r.lognormal(1_500.0, 1.0, 50, 30_000);
                    text::output(r, text::OutputKind::Grep, n)
                } else if k == 0 {
                    "No files found".to_string()
                } else {
                    format!("Found {k} files\n{}", files.join("\n"))
                };
                let dur = r.range(5, 900);
                call.input = object_string(|o| {
                    if name == "Grep" {
                        o.str("pattern", &pattern).str(
                            "output_mode",
                            if content_mode {
                                "content"
                            } else {
                                "files_with_matches"
                            },
                        );
                        if content_mode {
                            o.bool("-n", true);
                        }
                    } else {
                        o.str(
                            "pattern",
                            &format!("**/*{pattern}*.{}", ["rs", "ts", "tsx", "py"][r.below(4)]),
                        );
                    }
                });
                call.tool_use_result = object_string(|o| {
                    if content_mode {
                        o.str("mode", "content")
                            .num("numFiles", 0)
                            .raw("filenames", "[]")
                            .str("content", &body)
                            .num("numLines", body.lines().count() as u64);
                    } else {
                        if name == "Grep" {
                            o.str("mode", "files_with_matches");
                        }
                        o.strs("filenames", &refs)
                            .num("durationMs", dur)
                            .num("numFiles", k as u64)
                            .bool("truncated", false);
                    }
                });
                call.result = body;
            }
            "TodoWrite" => {
                let n = 2 + r.below(7);
                let done = r.below(n + 1);
                let todos: Vec<(String, &'static str)> = (0..n)
                    .map(|i| {
                        let status = match i.cmp(&done) {
                            std::cmp::Ordering::Less => "completed",
                            std::cmp::Ordering::Equal => "in_progress",
                            std::cmp::Ordering::Greater => "pending",
                        };
                        let l = 20 + r.below(60);
                        (text::prose(r, l), status)
                    })
                    .collect();
                let write = |a: &mut crate::json::Arr, t: &[(String, &str)]| {
                    for (c, s) in t {
                        a.obj(|o| {
                            o.str("content", c).str("status", s).str("activeForm", c);
                        });
                    }
                };
                call.input = object_string(|o| {
                    o.arr("todos", |a| write(a, &todos));
                });
                let old = std::mem::take(&mut self.todos);
                call.tool_use_result = object_string(|o| {
                    o.arr("oldTodos", |a| write(a, &old));
                    o.arr("newTodos", |a| write(a, &todos));
                });
                call.result = "Todos have been modified successfully. Ensure that you continue to use the todo list to track your progress. Please proceed with the current tasks if applicable".into();
                self.todos = todos;
            }
            _ => {
                // Task / Agent: a sub-agent with its own file.
                let desc = text::prose(r, 25);
                let n = r.lognormal(600.0, 0.8, 80, 5_000);
                let prompt = text::prose(r, n);
                let kind = *r.pick(&["general-purpose", "general-purpose", "Explore", "Plan"]);
                let child_seed = r.next_u64();
                let (report, agent_id, dur, tokens, tool_count) =
                    self.sub_agent(&prompt, kind, &call.id, child_seed);
                call.duration_ms = dur;
                call.input = object_string(|o| {
                    o.str("description", &desc)
                        .str("prompt", &prompt)
                        .str("subagent_type", kind);
                });
                let gen = self.p.gen;
                call.tool_use_result = object_string(|o| {
                    o.str("status", "completed")
                        .str("prompt", &prompt)
                        .arr("content", |a| {
                            a.obj(|t| {
                                t.str("type", "text").str("text", &report);
                            });
                        })
                        .num("totalDurationMs", dur)
                        .num("totalTokens", tokens)
                        .num("totalToolUseCount", tool_count);
                    if gen == Gen::V21 {
                        o.str("agentId", &agent_id);
                    }
                });
                call.result = report;
            }
        }
        call
    }

    /// Writes a sub-agent file; returns its report, id, duration, tokens and tool count.
    fn sub_agent(
        &mut self,
        prompt: &str,
        kind: &str,
        tool_use_id: &str,
        seed: u64,
    ) -> (String, String, u64, u64, u64) {
        let mut rng = Rng::new(seed);
        let agent_id = if self.p.gen == Gen::V21 {
            format!("a{:016x}", rng.next_u64())
        } else {
            format!("{:08x}", rng.next_u64() as u32)
        };
        let remaining = self.budget.saturating_sub(self.bytes());
        let budget =
            (rng.lognormal(40_000.0, 1.0, 4_000, 600_000) as u64).min(remaining.max(4_000));
        let start = self.now;
        let mut child = Conv::new(self.p.clone(), rng, Some(agent_id.clone()), start, budget);
        child.user_text(prompt, false, false);
        let mut report = String::new();
        let mut tools = 0u64;
        for i in 0..40 {
            let last = i > 0 && (child.over() || child.rng.chance(0.15)) || i == 39;
            let before = child.out.len();
            report = child.request(last, SUB_TOOLS);
            if !last {
                tools += child.out[before..]
                    .windows(12)
                    .filter(|w| w == b"\"tool_use_id")
                    .count() as u64;
            } else {
                break;
            }
        }
        let dur = child.now - start;
        self.now = child.now;
        let rel = if self.p.gen == Gen::V21 {
            let dir = PathBuf::from(&self.p.session_id).join("subagents");
            let meta = object_string(|o| {
                o.str("agentType", kind)
                    .num("spawnDepth", 1)
                    .str("toolUseId", tool_use_id);
            });
            self.files.push((
                dir.join(format!("agent-{agent_id}.meta.json")),
                meta.into_bytes(),
            ));
            dir.join(format!("agent-{agent_id}.jsonl"))
        } else {
            PathBuf::from(format!("agent-{agent_id}.jsonl"))
        };
        let tokens = self.rng.range(5_000, 120_000);
        self.files.push((rel, child.out));
        (report, agent_id, dur, tokens, tools)
    }

    fn api_error(&mut self) {
        let ts = self.tick(500, 5_000);
        let attempt = 1 + self.rng.below(5) as u64;
        let wait = 500 * (1 << attempt);
        self.chained(None, |o| {
            o.str("type", "system")
                .str("subtype", "api_error")
                .str("level", "error")
                .obj("error", |e| {
                    e.num("status", 529).obj("error", |x| {
                        x.str("type", "overloaded_error")
                            .str("message", "Overloaded");
                    });
                })
                .num("retryInMs", wait)
                .num("retryAttempt", attempt)
                .num("maxRetries", 10)
                .str("timestamp", &ts);
        });
    }

    fn compaction(&mut self) {
        let ts = self.tick(1_000, 30_000);
        let logical = self.leaf.take();
        let uuid = self.uuid();
        let pre = self.rng.range(150_000, 190_000);
        let (p, agent) = (&self.p, self.agent.as_deref());
        object(&mut self.out, |o| {
            Self::head(p, agent, o, None);
            o.str("type", "system")
                .str("subtype", "compact_boundary")
                .str("content", "Conversation compacted")
                .bool("isMeta", false)
                .str("timestamp", &ts)
                .str("uuid", &uuid)
                .str("level", "info")
                .obj("compactMetadata", |m| {
                    m.str("trigger", "auto").num("preTokens", pre);
                })
                .opt_str("logicalParentUuid", logical.as_deref());
        });
        self.out.push(b'\n');
        self.leaf = Some(uuid);
        let n = self.rng.lognormal(6_000.0, 0.5, 1_500, 20_000);
        let summary = format!(
            "This session is being continued from a previous conversation that ran out of context. The conversation is summarized below:\n{}",
            text::markdown(&mut self.rng, n)
        );
        let ts = self.tick(100, 2_000);
        self.chained(None, |o| {
            o.str("type", "user")
                .obj("message", |m| {
                    m.str("role", "user").str("content", &summary);
                })
                .bool("isVisibleInTranscriptOnly", true)
                .bool("isCompactSummary", true)
                .str("timestamp", &ts);
        });
    }

    /// One human turn: the prompt, the agent loop, the bookkeeping around it.
    fn turn(&mut self, max_requests: usize) {
        let gen = self.p.gen;
        let main = self.agent.is_none();
        if main && self.rng.chance(0.04) {
            // A slash command: its expansion is an isMeta line.
            let cmd = *self
                .rng
                .pick(&["/review", "/init", "/pr-comments", "/compact"]);
            let args = text::prose(&mut self.rng, 30);
            self.user_text(
                &format!("<command-message>{}</command-message>\n<command-name>{cmd}</command-name>\n<command-args>{args}</command-args>", &cmd[1..]),
                false,
                true,
            );
            let n = self.rng.lognormal(1_500.0, 0.6, 200, 6_000);
            let body = text::markdown(&mut self.rng, n);
            self.user_text(&body, true, false);
        }
        let prompt = self.prompt_text();
        let prompt_uuid = self.uuid();
        if main && gen != Gen::V1 {
            self.snapshot(&prompt_uuid);
        }
        if main && gen == Gen::V21 && self.rng.chance(0.5) {
            self.queue("enqueue", Some(&prompt));
            self.queue("dequeue", None);
        }
        // The prompt line (its uuid was drawn above for the snapshot).
        let ts = self.tick(5_000, 900_000);
        let prompt_id = self.uuid();
        self.chained(Some(prompt_uuid), |o| {
            o.str("type", "user").obj("message", |m| {
                m.str("role", "user");
                if gen == Gen::V1 {
                    m.str("content", &prompt);
                } else {
                    m.arr("content", |a| {
                        a.obj(|b| {
                            b.str("type", "text").str("text", &prompt);
                        });
                    });
                }
            });
            o.str("timestamp", &ts);
            if gen != Gen::V1 {
                o.str("permissionMode", "default");
            }
            if gen == Gen::V21 {
                o.str("promptId", &prompt_id);
            }
        });
        if gen == Gen::V21 {
            for _ in 0..self.rng.below(3) {
                self.attachment();
            }
        }
        let n = self.rng.count(7.0, 1, 60).min(max_requests.max(1));
        for i in 0..n {
            if self.rng.chance(0.01) {
                self.api_error();
            }
            if main && gen != Gen::V1 && self.rng.chance(0.02) {
                self.queue("enqueue", Some("also check the tests"));
                self.queue("remove", None);
            }
            let last = i + 1 == n || self.over();
            let tools = if self.spawn_agents {
                MAIN_TOOLS
            } else {
                SUB_TOOLS
            };
            self.request(last, tools);
            if last {
                break;
            }
        }
        self.turns += 1;
        if main && gen == Gen::V21 {
            if self.turns == 1 || self.rng.chance(0.1) {
                let t = text::title(&mut self.rng);
                let t = t.trim_matches('*').to_string();
                let sid = self.p.session_id.clone();
                self.line(|_, _, o| {
                    o.str("type", "ai-title")
                        .str("aiTitle", &t)
                        .str("sessionId", &sid);
                });
            }
            if self.rng.chance(0.7) {
                let leaf = self.leaf.clone().unwrap_or_default();
                let short: String = prompt.chars().take(200).collect();
                self.line(|p, _, o| {
                    o.str("type", "last-prompt")
                        .str("lastPrompt", &short)
                        .str("leafUuid", &leaf)
                        .str("sessionId", &p.session_id);
                });
            }
        }
        if main && self.turns > 3 && self.rng.chance(0.03) {
            self.compaction();
        }
    }

    fn summaries(&mut self) {
        for _ in 0..self.rng.below(4) {
            let t = text::title(&mut self.rng).trim_matches('*').to_string();
            let leaf = self.uuid();
            self.line(|_, _, o| {
                o.str("type", "summary")
                    .str("summary", &t)
                    .str("leafUuid", &leaf);
            });
        }
    }
}

const MAIN_TOOLS: &[(&str, u32)] = &[
    ("Bash", 32),
    ("Read", 25),
    ("Edit", 15),
    ("Write", 4),
    ("Grep", 8),
    ("Glob", 4),
    ("TodoWrite", 6),
    ("Task", 2),
];
const SUB_TOOLS: &[(&str, u32)] = &[("Bash", 30), ("Read", 40), ("Grep", 20), ("Glob", 10)];

/// Writes one whole session (and its sub-agent files) of about `budget` bytes.
fn session(p: Profile, rng: Rng, start: Millis, budget: u64) -> Conv {
    let mut c = Conv::new(p, rng, None, start, budget);
    if c.p.gen != Gen::V21 {
        c.summaries();
    }
    loop {
        c.turn(usize::MAX);
        if c.over() {
            break;
        }
        // Idle time between turns: minutes to a day.
        c.now += c.rng.range(10_000, 3_600_000);
    }
    c
}

/// Generates a Claude Code corpus under `opts.out/projects/`; `progress` is called after each
/// session with the bytes written so far.
pub fn generate(opts: &GenOptions, mut progress: impl FnMut(u64)) -> Result<ClaudeReport> {
    let started = Instant::now();
    let n = opts
        .files
        .unwrap_or_else(|| (opts.size / opts.avg_file_size.max(1)).max(1) as usize)
        .max(1);
    let avg = opts.size as f64 / n as f64;
    let sigma = 1.0;
    let mut plan_rng = Rng::derive(opts.seed ^ 0xC1A0DE, u64::MAX);
    let planned: Vec<f64> = (0..n)
        .map(|_| {
            plan_rng.lognormal(
                avg * (-sigma * sigma / 2.0f64).exp(),
                sigma,
                1,
                (avg * 40.0) as usize,
            ) as f64
        })
        .collect();
    let mut remaining_planned: f64 = planned.iter().sum();
    let projects = projects(opts.seed);
    let mut used_projects = HashSet::new();
    let mut report = ClaudeReport {
        total: Tally::default(),
        by_gen: BTreeMap::new(),
        sessions: 0,
        projects: 0,
        min_max_file: (u64::MAX, 0),
        elapsed: Duration::ZERO,
    };
    let (tx, rx) = std::sync::mpsc::sync_channel::<(PathBuf, Vec<u8>)>(16);
    let writer = std::thread::spawn(move || -> Result<()> {
        let mut created_dirs = HashSet::new();
        for (path, bytes) in rx {
            let dir = path.parent().expect("corpus paths have a parent");
            if created_dirs.insert(dir.to_path_buf()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
            std::fs::write(&path, &bytes).with_context(|| format!("writing {}", path.display()))?;
        }
        Ok(())
    });
    for (i, plan) in planned.iter().enumerate() {
        let remaining = opts.size.saturating_sub(report.total.bytes) as f64;
        let target = (plan * remaining / remaining_planned.max(1.0)).max(1.0) as u64;
        remaining_planned -= plan;
        let mut rng = Rng::derive(opts.seed ^ 0xC1A0DE, i as u64);
        let (p, start) = profile(&mut rng, &projects);
        let dir = opts.out.join("projects").join(escape_cwd(&p.cwd));
        used_projects.insert(dir.clone());
        let gen = p.gen;
        let main = dir.join(format!("{}.jsonl", p.session_id));
        let c = session(p, rng, start, target);
        let mut files = vec![(main, c.out)];
        files.extend(c.files.into_iter().map(|(rel, b)| (dir.join(rel), b)));
        report.sessions += 1;
        for (path, bytes) in files {
            let jsonl = path.extension().is_some_and(|e| e == "jsonl");
            let len = bytes.len() as u64;
            let lines = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
            if tx.send((path, bytes)).is_err() {
                break; // the writer failed: its error is returned below
            }
            if !jsonl {
                continue;
            }
            for t in [&mut report.total, report.by_gen.entry(gen).or_default()] {
                t.files += 1;
                t.bytes += len;
                t.lines += lines;
            }
            report.min_max_file = (
                report.min_max_file.0.min(len),
                report.min_max_file.1.max(len),
            );
        }
        progress(report.total.bytes);
    }
    drop(tx);
    writer
        .join()
        .map_err(|_| anyhow::anyhow!("the writer thread panicked"))??;
    report.projects = used_projects.len();
    report.elapsed = started.elapsed();
    Ok(report)
}

/// Every `.jsonl` file under `dir` (a `projects/` folder), sorted.
pub fn list_jsonl(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(e) => e,
            Err(e) if d != dir && e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e).with_context(|| format!("reading {}", d.display())),
        };
        for e in entries {
            let e = e?;
            let ty = e.file_type()?;
            if ty.is_dir() {
                stack.push(e.path());
            } else if ty.is_file() && e.file_name().to_string_lossy().ends_with(".jsonl") {
                out.push(e.path());
            }
        }
    }
    out.sort();
    Ok(out)
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| {
            if [8, 13, 18, 23].contains(&i) {
                b == b'-'
            } else {
                b.is_ascii_hexdigit()
            }
        })
}

/// Session files (`projects/<dir>/<uuid>.jsonl`), sorted.
pub fn list_sessions(config_dir: &Path) -> Result<Vec<PathBuf>> {
    let root = config_dir.join("projects");
    Ok(list_jsonl(&root)?
        .into_iter()
        .filter(|p| {
            p.parent().and_then(Path::parent) == Some(root.as_path())
                && p.file_stem().and_then(|s| s.to_str()).is_some_and(is_uuid)
        })
        .collect())
}

/// True when `dir` looks like a Claude config dir rather than a `CODEX_HOME`.
pub fn is_claude_corpus(dir: &Path) -> bool {
    dir.join("projects").is_dir() && !dir.join("sessions").is_dir()
}

/// `gen --append` for Claude corpora: continues `opts.files` session files with exactly
/// `opts.lines` lines each (new turns chained to the file's last line; no new sub-agents).
pub fn append(opts: &crate::append::AppendOptions) -> Result<AppendReport> {
    use std::io::{Read, Seek, SeekFrom, Write};
    let all = list_sessions(&opts.dir)?;
    if all.is_empty() {
        bail!("no session files under {}/projects", opts.dir.display());
    }
    let mut total_size = 0u64;
    for p in &all {
        total_size += std::fs::metadata(p)?.len();
    }
    let mut rng = Rng::derive(opts.seed ^ 0xC1A0DE, total_size);
    let mut idx: Vec<usize> = (0..all.len()).collect();
    let k = opts.files.min(all.len());
    for i in 0..k {
        let j = i + rng.below(idx.len() - i);
        idx.swap(i, j);
    }
    let mut report = AppendReport::default();
    for (n, &i) in idx[..k].iter().enumerate() {
        let path = &all[i];
        let file_rng = Rng::derive(rng.next_u64(), n as u64);
        let mut f = std::fs::File::open(path)?;
        let len = f.metadata()?.len();
        let start = len.saturating_sub(2 << 20);
        f.seek(SeekFrom::Start(start))?;
        let mut tail = Vec::new();
        f.read_to_end(&mut tail)?;
        let tail = String::from_utf8_lossy(&tail);
        let mut lines: Vec<&str> = tail.lines().collect();
        if start > 0 && !lines.is_empty() {
            lines.remove(0);
        }
        let sid = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        let mut p = Profile {
            gen: Gen::V21,
            session_id: sid,
            cwd: String::new(),
            branch: String::new(),
            version: String::new(),
            model: "claude-opus-4-6",
            entrypoint: "cli",
        };
        let (mut now, mut leaf) = (0, None);
        for l in &lines {
            let Ok(v) = serde_json::from_str::<Value>(l) else {
                continue;
            };
            let s = |k: &str| v.get(k).and_then(Value::as_str);
            if let Some(t) = s("timestamp").and_then(parse_rfc3339) {
                now = now.max(t);
            }
            if let Some(u) = s("uuid") {
                leaf = Some(u.to_string());
            }
            if let Some(x) = s("cwd") {
                p.cwd = x.to_string();
            }
            if let Some(x) = s("version") {
                p.version = x.to_string();
            }
            if let Some(x) = s("gitBranch") {
                p.branch = x.to_string();
            }
            if let Some(m) = v.pointer("/message/model").and_then(Value::as_str) {
                p.model = MODELS
                    .iter()
                    .copied()
                    .find(|k| *k == m)
                    .unwrap_or("claude-opus-4-6");
            }
            if s("entrypoint") == Some("claude-vscode") {
                p.entrypoint = "claude-vscode";
            }
        }
        if p.cwd.is_empty() || p.version.is_empty() {
            bail!(
                "{} does not look like a Claude Code session",
                path.display()
            );
        }
        p.gen = Gen::of_version(&p.version);
        let mut c = Conv::new(p, file_rng, None, now + 60_000, u64::MAX);
        c.spawn_agents = false;
        c.leaf = leaf;
        c.turns = 1;
        while c.out.iter().filter(|&&b| b == b'\n').count() < opts.lines {
            c.turn(usize::MAX);
        }
        let cut = c
            .out
            .iter()
            .enumerate()
            .filter(|(_, &b)| b == b'\n')
            .nth(opts.lines.saturating_sub(1))
            .map_or(0, |(i, _)| i + 1);
        let bytes = if opts.lines == 0 {
            &[][..]
        } else {
            &c.out[..cut]
        };
        std::fs::OpenOptions::new()
            .append(true)
            .open(path)?
            .write_all(bytes)
            .with_context(|| format!("appending to {}", path.display()))?;
        report.bytes += bytes.len() as u64;
        report.lines += opts.lines;
        report.files.push((path.clone(), bytes.len() as u64));
    }
    Ok(report)
}

const MODELS: &[&str] = &[
    "claude-sonnet-4-20250514",
    "claude-opus-4-1-20250805",
    "claude-sonnet-4-5-20250929",
    "claude-opus-4-5-20251101",
    "claude-opus-4-6",
    "claude-sonnet-4-6",
];

/// Checks every `.jsonl` under `config_dir/projects`: JSON objects, `sessionId` = file name
/// for session files, sub-agent files all sidechain with their `agentId` (and a valid
/// `.meta.json` in the 2.1 layout), `parentUuid`s point to earlier lines, every `tool_result`
/// answers an earlier `tool_use` of the same file, timestamps are RFC 3339.
pub fn check_corpus(config_dir: &Path) -> Result<CheckReport> {
    let mut r = CheckReport::default();
    for path in list_jsonl(&config_dir.join("projects"))? {
        let bytes = std::fs::read(&path)?;
        check_file(&path, &bytes, &mut r);
    }
    Ok(r)
}

/// Checks one Claude file's bytes, adding to `r`.
pub fn check_file(path: &Path, bytes: &[u8], r: &mut CheckReport) {
    r.files += 1;
    r.bytes += bytes.len() as u64;
    if !bytes.is_empty() && !bytes.ends_with(b"\n") {
        r.error(path, "last line has no newline".into());
    }
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_string();
    let agent = stem.strip_prefix("agent-").map(str::to_string);
    let in_subagents = path
        .parent()
        .and_then(Path::file_name)
        .is_some_and(|n| n == "subagents");
    if agent.is_none() && !is_uuid(&stem) {
        r.error(
            path,
            "file name is neither <uuid>.jsonl nor agent-<id>.jsonl".into(),
        );
    }
    if let (Some(a), true) = (&agent, in_subagents) {
        let meta = path.with_file_name(format!("agent-{a}.meta.json"));
        match std::fs::read(&meta) {
            Ok(b) if serde_json::from_slice::<Value>(&b).is_ok_and(|v| v.is_object()) => {}
            Ok(_) => r.error(path, format!("{} is not a JSON object", meta.display())),
            Err(_) => r.error(path, format!("no {}", meta.display())),
        }
    }
    let parent_dir_session = in_subagents
        .then(|| {
            path.parent()?
                .parent()?
                .file_name()?
                .to_str()
                .map(str::to_string)
        })
        .flatten();
    let mut uuids: HashSet<String> = HashSet::new();
    let mut tool_uses: HashSet<String> = HashSet::new();
    let mut session: Option<String> = None;
    for (n, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        r.lines += 1;
        let v: Value = match serde_json::from_slice(line) {
            Ok(v @ Value::Object(_)) => v,
            Ok(_) => {
                r.error(path, format!("line {}: not an object", n + 1));
                continue;
            }
            Err(e) => {
                r.error(path, format!("line {}: {e}", n + 1));
                continue;
            }
        };
        let ty = v["type"].as_str().unwrap_or("?");
        let content = v.pointer("/message/content");
        let first_block = content
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .and_then(|b| b["type"].as_str());
        let kind = match (ty, first_block) {
            ("system", _) => format!("system:{}", v["subtype"].as_str().unwrap_or("?")),
            ("assistant", Some(b)) => format!("assistant:{b}"),
            ("user", Some("tool_result")) => "user:tool_result".into(),
            ("attachment", _) => format!(
                "attachment:{}",
                v["attachment"]["type"].as_str().unwrap_or("?")
            ),
            _ => ty.to_string(),
        };
        *r.kinds.entry(kind).or_default() += 1;
        if let Some(sid) = v.get("sessionId").and_then(Value::as_str) {
            if agent.is_none() && sid != stem {
                r.error(
                    path,
                    format!("line {}: sessionId {sid} is not the file name", n + 1),
                );
            }
            match &session {
                Some(s) if s != sid => {
                    r.error(path, format!("line {}: sessionId {sid} after {s}", n + 1))
                }
                None => {
                    if let Some(d) = &parent_dir_session {
                        if d != sid {
                            r.error(path, format!("sessionId {sid} is not the folder's {d}"));
                        }
                    }
                    session = Some(sid.to_string());
                }
                _ => {}
            }
        }
        if let Some(a) = &agent {
            if v.get("uuid").is_some() {
                if v["isSidechain"] != true {
                    r.error(
                        path,
                        format!("line {}: not isSidechain in a sub-agent file", n + 1),
                    );
                }
                if v["agentId"].as_str().is_some_and(|x| x != a) {
                    r.error(
                        path,
                        format!("line {}: agentId is not the file's {a}", n + 1),
                    );
                }
            }
        }
        if let Some(ts) = v.get("timestamp").and_then(Value::as_str) {
            if parse_rfc3339(ts).is_none() {
                r.error(path, format!("line {}: bad timestamp {ts}", n + 1));
            }
        }
        if let Some(p) = v.get("parentUuid").and_then(Value::as_str) {
            if !uuids.contains(p) {
                r.error(
                    path,
                    format!("line {}: parentUuid {p} not seen before", n + 1),
                );
            }
        }
        if let Some(u) = v.get("uuid").and_then(Value::as_str) {
            uuids.insert(u.to_string());
        }
        for b in content.and_then(Value::as_array).into_iter().flatten() {
            match b["type"].as_str() {
                Some("tool_use") => {
                    if let Some(id) = b["id"].as_str() {
                        tool_uses.insert(id.to_string());
                    }
                }
                Some("tool_result") => {
                    let id = b["tool_use_id"].as_str().unwrap_or_default();
                    if !tool_uses.contains(id) {
                        r.error(
                            path,
                            format!("line {}: tool_result for unknown tool_use {id}", n + 1),
                        );
                    }
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_claude() {
        assert_eq!(escape_cwd("/Users/a/my_proj.v2"), "-Users-a-my-proj-v2");
        assert!(is_uuid("5ee6c91e-ba62-4bd1-8c46-b51d92651ce3"));
        assert!(!is_uuid("agent-1234abcd"));
    }

    #[test]
    fn real_fixtures_pass_the_check() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/fixtures/claude/projects/-home-dev-demo-claude");
        let Ok(bytes) = std::fs::read(dir.join("5ee6c91e-ba62-4bd1-8c46-b51d92651ce3.jsonl"))
        else {
            return; // fixtures not present in this checkout
        };
        let mut r = CheckReport::default();
        check_file(
            &dir.join("5ee6c91e-ba62-4bd1-8c46-b51d92651ce3.jsonl"),
            &bytes,
            &mut r,
        );
        assert!(r.lines > 10);
        assert_eq!(r.error_count, 0, "{:?}", r.errors);
    }
}

/// Which agent's corpus a command works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Agent {
    /// Codex rollouts in a `CODEX_HOME` (`sessions/…/rollout-*.jsonl`)
    Codex,
    /// Claude Code transcripts in a `CLAUDE_CONFIG_DIR` (`projects/<cwd>/<session>.jsonl`)
    Claude,
}

impl Agent {
    /// `explicit` when given, else what the layout of `dir` says.
    pub fn detect(explicit: Option<Agent>, dir: &Path) -> Agent {
        explicit.unwrap_or(if is_claude_corpus(dir) {
            Agent::Claude
        } else {
            Agent::Codex
        })
    }
}
