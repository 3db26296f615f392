//! Emitters for each record shape except tool calls (`tools.rs`), per format
//! (see `shared/formats.md` §1.3–1.9).

use std::fmt::Write as _;

use super::{Format, Session, Usage};
use crate::clock::rfc3339;
use crate::json::Obj;
use crate::text;

fn usage_obj(o: &mut Obj, u: &Usage, cache_write: bool) {
    o.num("input_tokens", u.input)
        .num("cached_input_tokens", u.cached);
    if cache_write {
        o.num("cache_write_input_tokens", 0);
    }
    o.num("output_tokens", u.output)
        .num("reasoning_output_tokens", u.reasoning)
        .num("total_tokens", u.input + u.output);
}

pub(super) fn content(o: &mut Obj, kind: &str, text: &str) {
    o.arr("content", |a| {
        a.obj(|c| {
            c.str("type", kind).str("text", text);
        });
    });
}

impl Session<'_> {
    pub(super) fn hex_id(&mut self, prefix: &str) -> String {
        format!("{prefix}_{:016x}", self.rng.next_u64())
    }

    pub(super) fn passthrough(&self) -> Option<String> {
        (self.p.format == Format::Paginated).then(|| self.turn_id.clone())
    }

    /// The `session_meta` line (the bare meta object plus a state record for legacy files).
    pub(super) fn meta(&mut self) {
        let p = self.p.clone();
        let ts = rfc3339(p.start_ms);
        let window = text::uuid_v7(self.rng, p.start_ms);
        let git = |o: &mut Obj| {
            o.obj("git", |g| {
                g.str("commit_hash", &p.git_commit)
                    .str("branch", &p.git_branch);
                if p.format != Format::Legacy {
                    g.str("repository_url", "git@github.com:acme/monorepo.git");
                }
            });
        };
        self.line("session_meta", |o| {
            match p.format {
                Format::Legacy => {
                    o.str("id", &p.id)
                        .str("timestamp", &ts)
                        .null("instructions");
                }
                Format::V040 => {
                    o.str("id", &p.id).str("timestamp", &ts).str("cwd", &p.cwd);
                    o.str("originator", p.originator)
                        .str("cli_version", &p.cli_version)
                        .null("instructions");
                }
                Format::Current | Format::Paginated => {
                    let paginated = p.format == Format::Paginated;
                    if paginated {
                        o.bool("account_scoped", true).str("session_id", &p.id);
                    }
                    o.str("id", &p.id).str("timestamp", &ts).str("cwd", &p.cwd);
                    if paginated {
                        o.strs("runtime_workspace_roots", &[&p.cwd]);
                    }
                    o.str("originator", p.originator)
                        .str("cli_version", &p.cli_version)
                        .str("source", p.source);
                    if paginated {
                        o.str("thread_source", "user");
                    }
                    o.str("model_provider", "openai");
                    if let Some(b) = &p.base_instructions {
                        o.obj("base_instructions", |bi| {
                            bi.str("text", b);
                        });
                    }
                    if paginated {
                        o.str("history_mode", "paginated")
                            .obj("context_window", |c| {
                                c.str("window_id", &window);
                            });
                    }
                }
            }
            git(o);
        });
        if p.format == Format::Legacy {
            self.state_record();
        }
    }

    /// `{"record_type":"state"}` (legacy files only).
    pub(super) fn state_record(&mut self) {
        self.line("", |o| {
            o.str("record_type", "state");
        });
    }

    pub(super) fn task_started(&mut self) {
        let (tid, secs, paginated) = (
            self.turn_id.clone(),
            self.now / 1000,
            self.p.format == Format::Paginated,
        );
        self.line("event_msg", |o| {
            o.str("type", "task_started");
            if paginated {
                o.obj("turn_attribution", |a| {
                    a.str("turn_id", &tid)
                        .str("turn_trigger", "user")
                        .null("parent_turn_id");
                    a.null("initiating_agent_path").str("root_turn_id", &tid);
                });
            }
            o.str("turn_id", &tid);
            if paginated {
                o.str("root_turn_id", &tid).num("started_at", secs);
            }
            o.num("model_context_window", 258_400)
                .str("collaboration_mode_kind", "default");
        });
    }

    pub(super) fn task_complete(&mut self, last: &str) {
        let (tid, paginated) = (self.turn_id.clone(), self.p.format == Format::Paginated);
        let duration = self.rng.range(2_000, 600_000);
        let (now, ttft) = (self.now, self.rng.range(300, 9_000));
        self.line("event_msg", |o| {
            o.str("type", "task_complete");
            if paginated {
                o.str("root_turn_id", &tid);
            }
            o.str("turn_id", &tid).str("last_agent_message", last);
            if paginated {
                o.num("started_at", (now - duration) / 1000)
                    .num("completed_at", now / 1000);
                o.num("duration_ms", duration)
                    .num("time_to_first_token_ms", ttft);
            }
        });
    }

    pub(super) fn turn_aborted(&mut self) {
        let tid = (self.p.format == Format::Current).then(|| self.turn_id.clone());
        self.line("event_msg", |o| {
            o.str("type", "turn_aborted");
            if let Some(t) = &tid {
                o.str("turn_id", t);
            }
            o.str("reason", "interrupted");
        });
    }

    pub(super) fn turn_context(&mut self) {
        let p = self.p.clone();
        let tid = self.turn_id.clone();
        self.line("turn_context", |o| {
            if p.format != Format::V040 {
                o.str("turn_id", &tid);
            }
            if p.format == Format::Paginated {
                o.str("root_turn_id", &tid)
                    .arr("disabled_plugin_ids", |_| {});
            }
            o.str("cwd", &p.cwd);
            o.str(
                "approval_policy",
                if p.format == Format::Paginated {
                    "never"
                } else {
                    "on-request"
                },
            );
            if p.format == Format::V040 {
                o.obj("sandbox_policy", |s| {
                    s.str("mode", "workspace-write");
                });
            } else if p.format == Format::Current {
                o.obj("sandbox_policy", |s| {
                    s.str("type", "workspace-write")
                        .strs("writable_roots", &[&p.cwd]);
                    s.bool("network_access", false)
                        .bool("exclude_tmpdir_env_var", false)
                        .bool("exclude_slash_tmp", false);
                });
            } else {
                o.str("approvals_reviewer", "user")
                    .obj("permission_profile", |s| {
                        s.str("type", "disabled");
                    });
            }
            o.str("model", p.model);
            if p.format != Format::V040 {
                o.obj("collaboration_mode", |c| {
                    c.str("mode", "default").obj("settings", |s| {
                        s.str("model", p.model)
                            .str("reasoning_effort", p.effort)
                            .null("developer_instructions");
                    });
                });
            }
            match p.format {
                Format::Paginated => {
                    o.str("multi_agent_version", "v1")
                        .bool("realtime_active", false)
                        .str("summary", "none");
                    o.obj("sandbox_policy", |s| {
                        s.str("type", "danger-full-access");
                    });
                }
                _ => {
                    o.str("effort", p.effort).str("summary", "auto");
                }
            }
            if p.format == Format::Current {
                if let Some(u) = &p.user_instructions {
                    o.str("user_instructions", u);
                }
                if let Some(d) = &p.developer_instructions {
                    o.str("developer_instructions", d);
                }
                o.obj("truncation_policy", |t| {
                    t.str("mode", "tokens").num("limit", 10_000);
                });
            }
        });
    }

    pub(super) fn thread_settings_applied(&mut self) {
        let p = self.p.clone();
        self.line("event_msg", |o| {
            o.str("type", "thread_settings_applied")
                .str("thread_id", &p.id);
            o.obj("thread_settings", |s| {
                s.str("model", p.model)
                    .str("model_provider_id", "openai")
                    .str("approval_policy", "never");
                s.str("cwd", &p.cwd)
                    .strs("runtime_workspace_roots", &[&p.cwd])
                    .arr("disabled_plugin_ids", |_| {});
            });
        });
    }

    fn message(&mut self, role: &str, text: &str, phase: Option<&str>, id: Option<String>) {
        let kind = if role == "assistant" {
            "output_text"
        } else {
            "input_text"
        };
        let pt = self.passthrough();
        self.line("response_item", |o| {
            o.str("type", "message");
            if let Some(id) = &id {
                o.str("id", id);
            }
            o.str("role", role);
            content(o, kind, text);
            if let Some(ph) = phase {
                o.str("phase", ph);
            }
            if let Some(t) = &pt {
                o.obj("internal_chat_message_metadata_passthrough", |m| {
                    m.str("turn_id", t);
                });
            }
        });
    }

    /// Injected context at the start of a thread (environment, AGENTS.md, skills, world state).
    pub(super) fn context_messages(&mut self) {
        let cwd = self.p.cwd.clone();
        let env = format!("<environment_context>\n  <cwd>{cwd}</cwd>\n  <shell>zsh</shell>\n</environment_context>");
        match self.p.format {
            Format::Legacy => {
                if self.p.minor >= 25 {
                    self.message("user", &env, None, None);
                }
            }
            Format::V040 => self.message("user", &env, None, None),
            Format::Current => {
                let perms = format!(
                    "<permissions instructions>\n{}\n</permissions instructions>",
                    text::prose(self.rng, 2_500)
                );
                self.message("developer", &perms, None, None);
                if let Some(u) = self.p.user_instructions.clone() {
                    let t = format!("# AGENTS.md instructions for {cwd}\n\n<INSTRUCTIONS>\n{u}\n</INSTRUCTIONS>");
                    self.message("user", &t, None, None);
                }
                self.message("user", &env, None, None);
            }
            Format::Paginated => {
                let skills = format!(
                    "<skills_instructions>\n## Skills\n{}\n</skills_instructions>",
                    text::prose(self.rng, 5_800)
                );
                let id = self.hex_id("msg");
                self.message("developer", &skills, None, Some(id));
                let id = self.hex_id("msg");
                self.message("user", &env, None, Some(id));
                let body = text::prose(self.rng, 5_000);
                self.line("world_state", |o| {
                    o.bool("full", true).obj("state", |s| {
                        s.obj("agents_md", |_| {}).bool("apps_instructions", false);
                        s.obj("environments", |e| {
                            e.obj("environments", |l| {
                                l.obj("local", |x| {
                                    x.str("cwd", &cwd)
                                        .str("status", "available")
                                        .str("shell", "bash");
                                });
                            });
                        });
                        s.obj("host_skills", |h| {
                            h.str("body", &body);
                        });
                    });
                });
            }
        }
    }

    /// The user's prompt: the response item plus its event (user_message / item_completed).
    pub(super) fn user_prompt(&mut self) {
        let len = self.size(160.0, 1.1, 8, 8_000);
        let mut prompt = text::prose(self.rng, len);
        if self.p.originator == "codex_vscode" && self.rng.chance(0.5) {
            let mut ide = String::from("# Context from my IDE setup:\n\n## Open tabs:\n");
            for _ in 0..1 + self.rng.below(6) {
                let path = text::path(self.rng);
                let _ = writeln!(ide, "- {}: {path}", path.rsplit('/').next().unwrap_or(""));
            }
            prompt = format!("{ide}\n## My request for Codex:\n{prompt}\n");
        }
        let paginated = self.p.format == Format::Paginated;
        let id = paginated.then(|| self.hex_id("msg"));
        self.message("user", &prompt, None, id);
        match self.p.format {
            Format::Legacy => {}
            Format::V040 => self.line("event_msg", |o| {
                o.str("type", "user_message")
                    .str("message", &prompt)
                    .str("kind", "plain");
            }),
            Format::Current => self.line("event_msg", |o| {
                o.str("type", "user_message").str("message", &prompt);
                o.arr("images", |_| {})
                    .arr("local_images", |_| {})
                    .arr("text_elements", |_| {});
            }),
            Format::Paginated => {
                let id = text::uuid_v7(self.rng, self.now);
                self.item_completed("UserMessage", |o| {
                    o.str("id", &id).arr("content", |a| {
                        a.obj(|c| {
                            c.str("type", "text")
                                .str("text", &prompt)
                                .arr("text_elements", |_| {});
                        });
                    });
                });
            }
        }
    }

    pub(super) fn item_completed(&mut self, kind: &str, item: impl FnOnce(&mut Obj)) {
        let (thread, tid, ms) = (self.p.id.clone(), self.turn_id.clone(), self.now);
        let took = self.rng.range(0, 400);
        self.line("event_msg", |o| {
            o.str("type", "item_completed")
                .str("thread_id", &thread)
                .str("turn_id", &tid);
            o.obj("item", |i| {
                i.str("type", kind);
                item(i);
            });
            o.num("started_at_ms", ms.saturating_sub(took))
                .num("completed_at_ms", ms);
        });
    }

    /// A reasoning summary (event or item_completed, then the response item).
    pub(super) fn reasoning(&mut self) {
        let mut summary = text::title(self.rng);
        let long = if self.p.format == Format::V040 {
            0.3
        } else {
            0.15
        };
        if self.rng.chance(long) {
            summary.push_str("\n\n");
            let n = 100 + self.rng.below(700);
            summary.push_str(&text::prose(self.rng, n));
        }
        let enc = match self.p.format {
            Format::Legacy | Format::Paginated if self.rng.chance(0.5) => None,
            Format::V040 => Some(self.size(1_500.0, 0.8, 300, 40_000)),
            _ => Some(self.size(1_300.0, 0.7, 300, 18_000)),
        }
        .map(|n| text::blob(self.rng, n));
        let id =
            matches!(self.p.format, Format::Legacy | Format::Paginated).then(|| self.hex_id("rs"));
        match self.p.format {
            Format::Legacy => {}
            Format::V040 | Format::Current => self.line("event_msg", |o| {
                o.str("type", "agent_reasoning").str("text", &summary);
            }),
            Format::Paginated => {
                let id = id.clone().unwrap_or_default();
                self.item_completed("Reasoning", |o| {
                    o.str("id", &id)
                        .strs("summary_text", &[&summary])
                        .arr("raw_content", |_| {});
                });
            }
        }
        let pt = self.passthrough();
        self.line("response_item", |o| {
            o.str("type", "reasoning");
            if let Some(id) = &id {
                o.str("id", id);
            }
            o.arr("summary", |a| {
                a.obj(|s| {
                    s.str("type", "summary_text").str("text", &summary);
                });
            });
            o.null("content")
                .opt_str("encrypted_content", enc.as_deref());
            if let Some(t) = &pt {
                o.obj("internal_chat_message_metadata_passthrough", |m| {
                    m.str("turn_id", t);
                });
            }
        });
    }

    /// An assistant message of about `len` bytes (event + response item); returns its text.
    pub(super) fn assistant(&mut self, phase: Option<&str>, len: usize) -> String {
        let final_answer = phase == Some("final_answer");
        let msg = if final_answer {
            text::markdown(self.rng, len)
        } else {
            text::prose(self.rng, len)
        };
        let phase = if matches!(self.p.format, Format::Current | Format::Paginated) {
            phase
        } else {
            None
        };
        let id =
            matches!(self.p.format, Format::Legacy | Format::Paginated).then(|| self.hex_id("msg"));
        match self.p.format {
            Format::Legacy => {}
            Format::V040 | Format::Current => self.line("event_msg", |o| {
                o.str("type", "agent_message").str("message", &msg);
                if let Some(ph) = phase {
                    o.str("phase", ph);
                }
            }),
            Format::Paginated => {
                let id = id.clone().unwrap_or_default();
                self.item_completed("AgentMessage", |o| {
                    o.str("id", &id);
                    content(o, "Text", &msg);
                    o.opt_str("phase", phase);
                });
            }
        }
        self.message("assistant", &msg, phase, id);
        msg
    }

    /// `event_msg:token_count` (`None`: rate limits only). Legacy files have none.
    pub(super) fn token_count(&mut self, last: Option<Usage>) {
        let (f, totals) = (self.p.format, self.totals);
        if f == Format::Legacy {
            return;
        }
        let used = self.rng.below(100) as f64;
        let resets = self.now / 1000 + 3_600;
        self.line("event_msg", |o| {
            o.str("type", "token_count");
            match last {
                None => o.null("info"),
                Some(u) => o.obj("info", |i| {
                    i.obj("total_token_usage", |x| {
                        usage_obj(x, &totals, f == Format::Paginated)
                    });
                    i.obj("last_token_usage", |x| {
                        usage_obj(x, &u, f == Format::Paginated)
                    });
                    i.num(
                        "model_context_window",
                        if f == Format::V040 { 272_000 } else { 258_400 },
                    );
                }),
            };
            o.obj("rate_limits", |r| {
                if f == Format::V040 {
                    r.float("primary_used_percent", used, 1).float(
                        "secondary_used_percent",
                        used / 4.0,
                        1,
                    );
                    r.num("primary_window_minutes", 299)
                        .num("secondary_window_minutes", 10_079);
                } else {
                    r.str("limit_id", "codex").null("limit_name");
                    r.obj("primary", |p| {
                        p.float("used_percent", used, 1)
                            .num("window_minutes", 300)
                            .num("resets_at", resets);
                    });
                    r.null("secondary").null("credits").null("plan_type");
                }
            });
        });
    }

    /// `token_usage_record` (paginated files).
    pub(super) fn usage_record(&mut self, u: Usage) {
        let (thread, tid, totals) = (self.p.id.clone(), self.turn_id.clone(), self.totals);
        let resp = format!("resp_{}", text::alnum(self.rng, 24));
        self.line("token_usage_record", |o| {
            o.str("thread_id", &thread)
                .str("turn_id", &tid)
                .str("session_id", &thread)
                .str("root_turn_id", &tid);
            o.str("response_id", &resp);
            o.obj("usage", |x| usage_obj(x, &u, true));
            o.obj("thread_token_usage", |x| usage_obj(x, &totals, true));
        });
    }

    /// A context compaction: `compacted` with a replacement history, then `context_compacted`.
    pub(super) fn compacted(&mut self) {
        let n = 2 + self.rng.below(6);
        let texts: Vec<String> = (0..n)
            .map(|i| text::prose(self.rng, if i % 2 == 0 { 150 } else { 1_500 }))
            .collect();
        self.context_tokens = 12_000;
        self.line("compacted", |o| {
            o.str("message", "").arr("replacement_history", |a| {
                for (i, t) in texts.iter().enumerate() {
                    let (role, kind) = if i % 2 == 0 {
                        ("user", "input_text")
                    } else {
                        ("assistant", "output_text")
                    };
                    a.obj(|m| {
                        m.str("type", "message").str("role", role);
                        content(m, kind, t);
                    });
                }
            });
        });
        self.line("event_msg", |o| {
            o.str("type", "context_compacted");
        });
    }
}
