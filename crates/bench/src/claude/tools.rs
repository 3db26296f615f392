//! Tool calls of the agent loop: drawing a call, its input and its result.

use crate::json::{object_string, Obj};
use crate::text;

use super::conv::{numbered, Call, Conv};
use super::Gen;

pub(super) const MAIN_TOOLS: &[(&str, u32)] = &[
    ("Bash", 32),
    ("Read", 25),
    ("Edit", 15),
    ("Write", 4),
    ("Grep", 8),
    ("Glob", 4),
    ("TodoWrite", 6),
    ("Task", 2),
];
pub(super) const SUB_TOOLS: &[(&str, u32)] =
    &[("Bash", 30), ("Read", 40), ("Grep", 20), ("Glob", 10)];

impl Conv {
    /// Draws a tool call and its result.
    pub(super) fn tool(&mut self, tools: &[(&'static str, u32)]) -> Call {
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
}
