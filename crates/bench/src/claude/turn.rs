//! Turns of a conversation: API requests, tool results, sub-agents, errors, compaction
//! and summaries.

use std::path::PathBuf;

use crate::json::{object, object_string};
use crate::rng::Rng;
use crate::text;

use super::conv::{msg_id, signature, Block, Call, Conv};
use super::tools::{MAIN_TOOLS, SUB_TOOLS};
use super::Gen;

impl Conv {
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

    pub(super) fn result(&mut self, c: &Call) {
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

    /// Writes a sub-agent file; returns its report, id, duration, tokens and tool count.
    pub(super) fn sub_agent(
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

    pub(super) fn api_error(&mut self) {
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
    pub(super) fn turn(&mut self, max_requests: usize) {
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

    pub(super) fn summaries(&mut self) {
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
