//! The conversation writer: the line framing and bookkeeping lines every session and
//! sub-agent file shares.

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::clock::{rfc3339, Millis};
use crate::json::{object, object_string, Obj};
use crate::rng::Rng;
use crate::text;

use super::profile::Profile;
use super::Gen;

/// One tool call of the agent loop, with everything its result line needs.
pub(super) struct Call {
    pub(super) id: String,
    pub(super) name: &'static str,
    pub(super) input: String,
    pub(super) assistant_uuid: String,
    pub(super) result: String,
    pub(super) is_error: bool,
    pub(super) tool_use_result: String,
    /// `Bash` output shown in `progress` lines while it ran.
    pub(super) progress: Option<String>,
    pub(super) duration_ms: u64,
}

pub(super) enum Block {
    Thinking(String, String),
    Text(String),
    ToolUse(usize),
}

/// Writes one conversation (a session file or a sub-agent file).
pub(super) struct Conv {
    pub(super) p: Profile,
    pub(super) rng: Rng,
    /// `Some(agentId)` in a sub-agent file.
    pub(super) agent: Option<String>,
    pub(super) out: Vec<u8>,
    pub(super) now: Millis,
    pub(super) leaf: Option<String>,
    /// Sub-agent files, paths relative to the project folder.
    pub(super) files: Vec<(PathBuf, Vec<u8>)>,
    pub(super) spawn_agents: bool,
    pub(super) budget: u64,
    pub(super) turns: usize,
    /// Todos of the last TodoWrite (for `oldTodos`).
    pub(super) todos: Vec<(String, &'static str)>,
}

pub(super) fn msg_id(rng: &mut Rng) -> String {
    format!("msg_01{}", text::alnum(rng, 22))
}

pub(super) fn signature(rng: &mut Rng, len: usize) -> String {
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

pub(super) fn numbered(body: &str, start: usize) -> String {
    let mut s = String::with_capacity(body.len() + body.len() / 8);
    for (i, l) in body.lines().enumerate() {
        let _ = writeln!(s, "{:>6}\u{2192}{l}", start + i);
    }
    s
}

impl Conv {
    pub(super) fn new(
        p: Profile,
        rng: Rng,
        agent: Option<String>,
        now: Millis,
        budget: u64,
    ) -> Self {
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

    pub(super) fn bytes(&self) -> u64 {
        self.out.len() as u64 + self.files.iter().map(|f| f.1.len() as u64).sum::<u64>()
    }

    pub(super) fn over(&self) -> bool {
        self.bytes() >= self.budget
    }

    pub(super) fn tick(&mut self, lo: u64, hi: u64) -> String {
        self.now += self.rng.range(lo, hi);
        rfc3339(self.now)
    }

    pub(super) fn uuid(&mut self) -> String {
        text::uuid_v4(&mut self.rng)
    }

    /// The fields every conversation line starts with.
    pub(super) fn head(p: &Profile, agent: Option<&str>, o: &mut Obj, parent: Option<&str>) {
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

    pub(super) fn line(&mut self, f: impl FnOnce(&Profile, Option<&str>, &mut Obj)) {
        let (p, agent) = (&self.p, self.agent.as_deref());
        object(&mut self.out, |o| f(p, agent, o));
        self.out.push(b'\n');
    }

    /// A conversation line chained to the current leaf; returns its uuid.
    pub(super) fn chained(&mut self, uuid: Option<String>, f: impl FnOnce(&mut Obj)) -> String {
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

    pub(super) fn user_text(&mut self, content: &str, meta: bool, extra: bool) -> String {
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

    pub(super) fn prompt_text(&mut self) -> String {
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

    pub(super) fn snapshot(&mut self, message_id: &str) {
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

    pub(super) fn queue(&mut self, op: &str, content: Option<&str>) {
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

    pub(super) fn attachment(&mut self) {
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

    pub(super) fn usage(&mut self, out_tokens: u64) -> String {
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
}
