//! Tool-call details: which family a tool is, its command line, its output
//! text and exit code. Codex has changed each of these several times, so
//! every function here accepts all the shapes listed in `formats.md` §1.6.

use serde_json::Value;
use tinyvex_model::ToolStatus;

/// The family of a tool by name (`docs/providers/codex.md`, "Tool calls").
pub(crate) fn tool_kind(name: &str, custom: bool) -> &'static str {
    match name {
        "shell" | "shell_command" | "exec_command" | "local_shell" | "container.exec" => "shell",
        "apply_patch" => "patch",
        "update_plan" => "plan",
        "web_search" => "web_search",
        n if n.starts_with("mcp__") => "mcp",
        _ if custom => "custom",
        _ => "function",
    }
}

/// The command line of a shell-like call from its parsed arguments.
pub(crate) fn command_from_args(args: &Value) -> Option<String> {
    if let Some(cmd) = args.get("cmd").and_then(Value::as_str) {
        return Some(cmd.to_string());
    }
    command_from_value(args.get("command")?)
}

/// A command given as a string or as an argv array; `[sh, -lc, X]` → `X`.
pub(crate) fn command_from_value(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Array(parts) => {
            let parts: Vec<&str> = parts.iter().filter_map(Value::as_str).collect();
            if parts.len() == 3 && matches!(parts[1], "-lc" | "-c") {
                return Some(parts[2].to_string());
            }
            (!parts.is_empty()).then(|| parts.join(" "))
        }
        _ => None,
    }
}

/// An output as text plus the exit code it states, from any of the shapes:
/// a plain string, an array of content parts, or (≤ 0.4x) a JSON string
/// `{"output": .., "metadata": {"exit_code": ..}}`. Takes the value by
/// move: outputs can be megabytes, and the string is kept, not copied.
pub(crate) fn output_text_and_exit(output: Value) -> (String, Option<i64>) {
    match output {
        Value::String(s) => {
            if s.starts_with('{') {
                if let Ok(Value::Object(obj)) = serde_json::from_str::<Value>(&s) {
                    if let Some(inner) = obj.get("output").and_then(Value::as_str) {
                        let code = obj
                            .get("metadata")
                            .and_then(|m| m.get("exit_code"))
                            .and_then(Value::as_i64);
                        return (inner.to_string(), code);
                    }
                }
            }
            let code = exit_code_from_text(&s);
            (s, code)
        }
        Value::Array(parts) => {
            let text = parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n");
            let code = exit_code_from_text(&text);
            (text, code)
        }
        Value::Null => (String::new(), None),
        other => (other.to_string(), None),
    }
}

/// `Exit code: N` or `Process exited with code N` in the header lines of a
/// tool output (before `Output:`).
pub(crate) fn exit_code_from_text(text: &str) -> Option<i64> {
    for line in text.lines().take(8) {
        if line == "Output:" {
            break;
        }
        let rest = line
            .strip_prefix("Exit code: ")
            .or_else(|| line.strip_prefix("Process exited with code "));
        if let Some(rest) = rest {
            return rest.trim().parse().ok();
        }
    }
    None
}

/// Status after an output arrived.
pub(crate) fn status_for_exit(code: Option<i64>) -> ToolStatus {
    match code {
        Some(c) if c != 0 => ToolStatus::Failed,
        _ => ToolStatus::Completed,
    }
}

/// A status word as Codex writes it (`completed`, `in_progress`, `failed`, ...).
pub(crate) fn parse_status(s: &str) -> Option<ToolStatus> {
    Some(match s {
        "completed" | "Completed" => ToolStatus::Completed,
        "in_progress" | "inProgress" | "InProgress" | "incomplete" => ToolStatus::InProgress,
        "failed" | "Failed" => ToolStatus::Failed,
        "declined" | "Declined" => ToolStatus::Declined,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn commands() {
        assert_eq!(
            command_from_args(&json!({"cmd": "ls -la"})).as_deref(),
            Some("ls -la")
        );
        assert_eq!(
            command_from_args(&json!({"command": ["bash", "-lc", "echo hi"]})).as_deref(),
            Some("echo hi")
        );
        assert_eq!(
            command_from_args(&json!({"command": ["rg", "foo"]})).as_deref(),
            Some("rg foo")
        );
        assert_eq!(
            command_from_args(&json!({"command": "git status"})).as_deref(),
            Some("git status")
        );
        assert_eq!(command_from_args(&json!({"path": "x"})), None);
    }

    #[test]
    fn outputs_and_exit_codes() {
        let old =
            json!("{\"output\":\"hi\\n\",\"metadata\":{\"exit_code\":2,\"duration_seconds\":0.1}}");
        assert_eq!(output_text_and_exit(old), ("hi\n".to_string(), Some(2)));
        let text = json!("Exit code: 1\nWall time: 0.2 seconds\nOutput:\nboom");
        assert_eq!(output_text_and_exit(text).1, Some(1));
        let unified = json!("Chunk ID: 1\nWall time: 0.1\nProcess exited with code 0\nOutput:\nok");
        assert_eq!(output_text_and_exit(unified).1, Some(0));
        let arr = json!([{"type": "input_text", "text": "a"}, {"type": "input_text", "text": "b"}]);
        assert_eq!(output_text_and_exit(arr), ("a\nb".to_string(), None));
        assert_eq!(exit_code_from_text("Output:\nExit code: 3"), None);
    }
}
