//! Tool calls and their outputs: `exec_command`/`shell`, `apply_patch`, `update_plan`,
//! web search, MCP tools (see `shared/formats.md` §1.6).

use std::fmt::Write as _;

use super::turn::Action;
use super::{Format, Session};
use crate::json::object_string;
use crate::text::{self, OutputKind};

/// A tool call whose output is still to be written.
pub(super) enum Pending {
    Exec {
        call_id: String,
        cmd: String,
        output: String,
        exit: u32,
        legacy_json: bool,
    },
    Patch {
        call_id: String,
        paths: Vec<(String, String)>,
    },
    Plain {
        call_id: String,
        output: String,
        array: bool,
    },
    None,
}

impl Session<'_> {
    /// Writes a tool call's response item(s); its output comes later from [`Session::output`].
    pub(super) fn call(&mut self, action: Action) -> Pending {
        let f = self.p.format;
        let call_id = text::call_id(self.rng);
        let id = matches!(f, Format::Legacy | Format::Paginated).then(|| self.hex_id("fc"));
        let pt = self.passthrough();
        let cwd = self.p.cwd.clone();
        let (name, args, pending) = match action {
            Action::Patch if f == Format::Legacy => return self.call(Action::Exec),
            Action::Exec | Action::Parallel | Action::WriteStdin | Action::Patch => {
                let (cmd, kind) = match action {
                    Action::WriteStdin if f >= Format::Current => {
                        (String::new(), OutputKind::Tests)
                    }
                    Action::Patch => {
                        let len = self.size(900.0, 1.0, 200, 30_000);
                        let (body, paths) = text::patch(self.rng, len);
                        if f >= Format::Current {
                            return self.custom_patch(call_id, body, paths);
                        }
                        (body, OutputKind::Listing)
                    }
                    _ => text::command(self.rng),
                };
                let len = self.size(700.0, 1.6, 20, 100_000);
                let output = text::output(self.rng, kind, len);
                let exit = if self.rng.chance(0.9) { 0 } else { 1 };
                let legacy_json = f <= Format::V040;
                let args = if cmd.starts_with("*** Begin Patch") {
                    object_string(|o| {
                        o.strs("command", &["apply_patch", &cmd])
                            .str("workdir", &cwd);
                    })
                } else if legacy_json {
                    object_string(|o| {
                        o.strs("command", &["bash", "-lc", &cmd])
                            .str("workdir", &cwd);
                    })
                } else if cmd.is_empty() {
                    let sid = self.rng.range(1, 90);
                    object_string(|o| {
                        o.num("session_id", sid)
                            .str("chars", "")
                            .num("yield_time_ms", 30_000);
                    })
                } else {
                    object_string(|o| {
                        o.str("cmd", &cmd)
                            .str("workdir", &cwd)
                            .num("yield_time_ms", 10_000)
                            .num("max_output_tokens", 10_000);
                    })
                };
                let name = if legacy_json {
                    "shell"
                } else if cmd.is_empty() {
                    "write_stdin"
                } else {
                    "exec_command"
                };
                (
                    name.to_string(),
                    args,
                    Pending::Exec {
                        call_id: call_id.clone(),
                        cmd,
                        output,
                        exit,
                        legacy_json,
                    },
                )
            }
            Action::Plan => {
                let n = 2 + self.rng.below(6);
                let steps: Vec<String> = (0..n)
                    .map(|_| {
                        let len = 30 + self.rng.below(60);
                        text::prose(self.rng, len)
                    })
                    .collect();
                let explanation = text::prose(self.rng, 80);
                let args = object_string(|o| {
                    o.str("explanation", &explanation).arr("plan", |a| {
                        for (i, s) in steps.iter().enumerate() {
                            a.obj(|p| {
                                let status = if i < n / 2 {
                                    "completed"
                                } else if i == n / 2 {
                                    "in_progress"
                                } else {
                                    "pending"
                                };
                                p.str("step", s).str("status", status);
                            });
                        }
                    });
                });
                (
                    "update_plan".into(),
                    args,
                    Pending::Plain {
                        call_id: call_id.clone(),
                        output: "Plan updated".into(),
                        array: false,
                    },
                )
            }
            Action::WebSearch if f >= Format::Current => return self.web_search(),
            Action::WebSearch | Action::Mcp => {
                let q = text::prose(self.rng, 30);
                let args = object_string(|o| {
                    o.str("query", &q)
                        .str("repo", "acme/monorepo")
                        .num("per_page", 20);
                });
                let len = self.size(1_500.0, 1.0, 100, 40_000);
                let output = text::prose(self.rng, len);
                let array = self.rng.chance(0.5);
                (
                    "mcp__github__search_issues".into(),
                    args,
                    Pending::Plain {
                        call_id: call_id.clone(),
                        output,
                        array,
                    },
                )
            }
        };
        self.line("response_item", |o| {
            o.str("type", "function_call");
            if let Some(id) = &id {
                o.str("id", id);
            }
            o.str("name", &name)
                .str("arguments", &args)
                .str("call_id", &call_id);
            if let Some(t) = &pt {
                o.obj("internal_chat_message_metadata_passthrough", |m| {
                    m.str("turn_id", t);
                });
            }
        });
        pending
    }

    fn custom_patch(
        &mut self,
        call_id: String,
        body: String,
        paths: Vec<(String, String)>,
    ) -> Pending {
        let pt = self.passthrough();
        let id = pt
            .as_ref()
            .map(|_| format!("ctc_{:016x}", self.rng.next_u64()));
        self.line("response_item", |o| {
            o.str("type", "custom_tool_call");
            if let Some(id) = &id {
                o.str("id", id);
            } else {
                o.str("status", "completed");
            }
            o.str("call_id", &call_id)
                .str("name", "apply_patch")
                .str("input", &body);
            if let Some(t) = &pt {
                o.obj("internal_chat_message_metadata_passthrough", |m| {
                    m.str("turn_id", t);
                });
            }
        });
        Pending::Patch { call_id, paths }
    }

    fn web_search(&mut self) -> Pending {
        let len = 20 + self.rng.below(70);
        let q = text::prose(self.rng, len);
        let id = self.hex_id("ws");
        if self.p.format == Format::Paginated {
            self.item_completed("WebSearch", |o| {
                o.str("id", &id).str("query", &q).obj("action", |a| {
                    a.str("type", "search").str("query", &q);
                });
            });
        }
        self.line("response_item", |o| {
            o.str("type", "web_search_call")
                .str("status", "completed")
                .obj("action", |a| {
                    a.str("type", "search")
                        .str("query", &q)
                        .strs("queries", &[&q]);
                });
        });
        Pending::None
    }

    /// Writes the output of a call (and, in paginated mode, its `item_completed` first).
    pub(super) fn output(&mut self, p: Pending) {
        let paginated = self.p.format == Format::Paginated;
        let (kind, call_id, text, array) = match p {
            Pending::None => return,
            Pending::Exec {
                call_id,
                cmd,
                output,
                exit,
                legacy_json,
            } => {
                let secs = self.rng.unit() * 3.0;
                if paginated {
                    let (cwd, pid) = (
                        format!("file://{}", self.p.cwd),
                        self.rng.range(1_000, 99_999).to_string(),
                    );
                    self.item_completed("CommandExecution", |o| {
                        o.str("id", &call_id)
                            .str("process_id", &pid)
                            .strs("command", &["/bin/bash", "-lc", &cmd]);
                        o.str("cwd", &cwd).arr("parsed_cmd", |a| {
                            a.obj(|c| {
                                c.str("type", "unknown").str("cmd", &cmd);
                            });
                        });
                        o.str("source", "unified_exec_startup")
                            .str("status", if exit == 0 { "completed" } else { "failed" });
                        o.str("aggregated_output", &output)
                            .num("exit_code", exit.into())
                            .obj("duration", |d| {
                                d.num("secs", secs as u64)
                                    .num("nanos", (secs.fract() * 1e9) as u64);
                            });
                    });
                }
                let text = if legacy_json {
                    object_string(|o| {
                        o.str("output", &output).obj("metadata", |m| {
                            m.num("exit_code", exit.into())
                                .float("duration_seconds", secs, 1);
                        });
                    })
                } else {
                    format!(
                        "Chunk ID: {:06x}\nWall time: {secs:.4} seconds\nProcess exited with code {exit}\nOriginal token count: {}\nOutput:\n{output}",
                        self.rng.below(0xff_ffff),
                        output.len() / 4
                    )
                };
                ("function_call_output", call_id, text, false)
            }
            Pending::Patch { call_id, paths } => {
                let mut files = String::new();
                for (p, _) in &paths {
                    let _ = writeln!(files, "M {p}");
                }
                if paginated {
                    let cwd = self.p.cwd.clone();
                    let files = files.clone();
                    self.item_completed("FileChange", |o| {
                        o.str("id", &call_id).obj("changes", |c| {
                            for (p, diff) in &paths {
                                c.obj(&format!("{cwd}/{p}"), |ch| {
                                    ch.str("type", "update").str("unified_diff", diff);
                                });
                            }
                        });
                        o.str("status", "completed")
                            .str(
                                "stdout",
                                &format!("Success. Updated the following files:\n{files}"),
                            )
                            .str("stderr", "");
                    });
                }
                let text = format!("Exit code: 0\nWall time: 0 seconds\nOutput:\nSuccess. Updated the following files:\n{files}");
                ("custom_tool_call_output", call_id, text, false)
            }
            Pending::Plain {
                call_id,
                output,
                array,
            } => ("function_call_output", call_id, output, array),
        };
        let id = paginated.then(|| self.hex_id("fco"));
        let pt = self.passthrough();
        self.line("response_item", |o| {
            o.str("type", kind);
            if let Some(id) = &id {
                o.str("id", id);
            }
            o.str("call_id", &call_id);
            if array {
                o.arr("output", |a| {
                    a.obj(|c| {
                        c.str("type", "input_text").str("text", &text);
                    });
                });
            } else {
                o.str("output", &text);
            }
            if let Some(t) = &pt {
                o.obj("internal_chat_message_metadata_passthrough", |m| {
                    m.str("turn_id", t);
                });
            }
        });
    }
}
