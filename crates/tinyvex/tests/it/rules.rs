//! The small field rules of `docs/providers/codex.md`, written out plainly
//! for the tests (no code shared with `tinyvex-providers`). Where the page
//! leaves a detail open, the choice made here is noted.

use serde_json::Value;

/// Shells whose `[<shell>, "-lc"|"-c", X]` argv is only a wrapper around `X`.
/// The page's example is `["bash","-lc",X]`; the 0.40 fixtures also use `zsh`.
const WRAPPER_SHELLS: &[&str] = &["bash", "zsh", "sh"];

/// Tool names whose arguments carry a shell command (`tool_kind` `shell`).
pub const SHELL_TOOLS: &[&str] = &[
    "shell",
    "shell_command",
    "exec_command",
    "local_shell",
    "container.exec",
];

/// Prefixes of injected context (legacy files' user messages), as listed on the page.
const INJECTED: &[&str] = &[
    "<environment_context>",
    "<user_instructions>",
    "# AGENTS.md instructions",
    "<INSTRUCTIONS>",
    "<skills_instructions>",
    "<permissions instructions>",
    "<collaboration_mode>",
    "<turn_aborted>",
    "<user_shell_command>",
];

const REQUEST_MARKER: &str = "## My request for Codex:";

/// Token figures: `[input, cached_input, output, reasoning_output, total]`.
pub type Figures = [i64; 5];

/// Complete lines (ending in `\n`) with their byte offsets, newline excluded;
/// a trailing partial line is not a record yet.
pub fn complete_lines(data: &[u8]) -> Vec<(u64, &[u8])> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, b) in data.iter().enumerate() {
        if *b == b'\n' {
            out.push((start as u64, &data[start..i]));
            start = i + 1;
        }
    }
    out
}

/// A line as a JSON object; `None` for an invalid line (not UTF-8, empty, not an object).
pub fn parse_object(line: &[u8]) -> Option<Value> {
    let text = std::str::from_utf8(line).ok()?;
    if text.trim().is_empty() {
        return None;
    }
    serde_json::from_str::<Value>(text)
        .ok()
        .filter(Value::is_object)
}

/// A string field, owned.
pub fn s(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_string)
}

/// "Empty texts make no item" (whitespace-only counts as empty).
pub fn non_empty(t: String) -> Option<String> {
    (!t.trim().is_empty()).then_some(t)
}

/// The `text` of every part whose `type` is one of `types` (any type when empty), joined.
pub fn part_texts(parts: Option<&Value>, types: &[&str], sep: &str) -> String {
    let Some(parts) = parts.and_then(Value::as_array) else {
        return String::new();
    };
    parts
        .iter()
        .filter(|p| {
            types.is_empty()
                || p.get("type")
                    .and_then(Value::as_str)
                    .is_some_and(|t| types.contains(&t))
        })
        .filter_map(|p| p.get("text").and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join(sep)
}

/// True when a legacy user message is injected context rather than a prompt.
pub fn is_injected(text: &str) -> bool {
    INJECTED.iter().any(|p| text.trim().starts_with(p))
}

/// The uuid at the end of `rollout-…-<uuid>.jsonl`.
pub fn uuid_in_name(name: &str) -> Option<String> {
    let stem = name.strip_suffix(".jsonl")?;
    let tail = stem.get(stem.len().checked_sub(36)?..)?;
    let shape_ok = tail.chars().enumerate().all(|(i, c)| {
        if [8, 13, 18, 23].contains(&i) {
            c == '-'
        } else {
            c.is_ascii_hexdigit()
        }
    });
    shape_ok.then(|| tail.to_string())
}

/// Title: cut after the IDE marker, first non-empty line, whitespace
/// collapsed, at most 120 characters (then `…`).
pub fn title_of(prompt: &str) -> Option<String> {
    let text = match prompt.find(REQUEST_MARKER) {
        Some(i) => &prompt[i + REQUEST_MARKER.len()..],
        None => prompt,
    };
    let line = text.split('\n').find(|l| !l.trim().is_empty())?;
    let collapsed = line.split_whitespace().collect::<Vec<_>>().join(" ");
    let chars: Vec<char> = collapsed.chars().collect();
    if chars.len() <= 120 {
        return Some(collapsed);
    }
    let cut: String = chars[..120].iter().collect();
    Some(format!("{}…", cut.trim_end()))
}

/// A command as a string, or an argv: `[<shell>, -lc, X]` → `X`, else joined with spaces.
pub fn command_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Array(a) => {
            let argv: Vec<&str> = a.iter().filter_map(Value::as_str).collect();
            if argv.len() == 3 {
                let shell = argv[0].rsplit('/').next().unwrap_or(argv[0]);
                if WRAPPER_SHELLS.contains(&shell) && (argv[1] == "-lc" || argv[1] == "-c") {
                    return Some(argv[2].to_string());
                }
            }
            (!argv.is_empty()).then(|| argv.join(" "))
        }
        _ => None,
    }
}

/// The command of a shell-like call from its parsed arguments: `cmd`, else `command`.
pub fn command_from_args(args: &Value) -> Option<String> {
    s(args.get("cmd")).or_else(|| args.get("command").and_then(command_of))
}

/// Output text and the exit code it carries (metadata of a ≤0.4x JSON
/// output, else a header line).
pub fn output_of(v: Option<&Value>) -> (String, Option<i64>) {
    match v {
        Some(Value::String(text)) => {
            if let Ok(Value::Object(obj)) = serde_json::from_str::<Value>(text) {
                if let Some(inner) = obj.get("output").and_then(Value::as_str) {
                    let code = obj
                        .get("metadata")
                        .and_then(|m| m.get("exit_code"))
                        .and_then(Value::as_i64);
                    return (inner.to_string(), code);
                }
            }
            (text.clone(), header_exit_code(text))
        }
        Some(parts @ Value::Array(_)) => {
            let text = part_texts(Some(parts), &["input_text"], "\n");
            let code = header_exit_code(&text);
            (text, code)
        }
        // Not specified by the page; no fixture has one.
        _ => (String::new(), None),
    }
}

/// `Exit code: N` / `Process exited with code N` among the header lines
/// (those before an `Output:` line; all lines when there is none).
pub fn header_exit_code(text: &str) -> Option<i64> {
    for line in text.split('\n') {
        if line == "Output:" {
            return None;
        }
        let rest = line
            .strip_prefix("Exit code: ")
            .or_else(|| line.strip_prefix("Process exited with code "));
        if let Some(n) = rest.and_then(|r| r.trim().parse().ok()) {
            return Some(n);
        }
    }
    None
}

/// The five token figures of a Codex usage object (missing = 0).
pub fn figures(v: &Value) -> Figures {
    let f = |k: &str| v.get(k).and_then(Value::as_i64).unwrap_or(0);
    [
        f("input_tokens"),
        f("cached_input_tokens"),
        f("output_tokens"),
        f("reasoning_output_tokens"),
        f("total_tokens"),
    ]
}

#[cfg(test)]
mod self_tests {
    use super::*;
    use crate::util::rfc3339_ms;

    #[test]
    fn rules_sanity() {
        let t = "# Context\n## My request for Codex:\n  fix   the\tbuild \nmore";
        assert_eq!(title_of(t).as_deref(), Some("fix the build"));
        assert_eq!(
            title_of(&"x".repeat(121)).unwrap(),
            format!("{}…", "x".repeat(120))
        );
        assert_eq!(title_of(&"x".repeat(120)).unwrap(), "x".repeat(120));
        assert_eq!(title_of(" \n "), None);
        assert_eq!(
            command_of(&serde_json::json!(["zsh", "-lc", "ls"])).as_deref(),
            Some("ls")
        );
        assert_eq!(
            command_of(&serde_json::json!(["rg", "x"])).as_deref(),
            Some("rg x")
        );
        let old = Value::String(r#"{"output":"hi\n","metadata":{"exit_code":2}}"#.into());
        assert_eq!(output_of(Some(&old)), ("hi\n".to_string(), Some(2)));
        let text =
            Value::String("Chunk ID: 1\nProcess exited with code 3\nOutput:\nExit code: 9".into());
        assert_eq!(output_of(Some(&text)).1, Some(3));
        assert_eq!(header_exit_code("Output:\nExit code: 9"), None);
        let name = "rollout-2026-01-01T00-00-00-3e07b835-e400-4771-a4a9-12db1c523ff2.jsonl";
        assert_eq!(
            uuid_in_name(name).as_deref(),
            Some("3e07b835-e400-4771-a4a9-12db1c523ff2")
        );
        assert_eq!(uuid_in_name("rollout-0.135.0-exec-redacted.jsonl"), None);
        assert_eq!(
            complete_lines(b"a\nbc\nd"),
            vec![(0, &b"a"[..]), (2, &b"bc"[..])]
        );
        assert_eq!(rfc3339_ms("1970-01-02T00:00:01.5Z"), Some(86_401_500));
        let t = "2026-11-21T22:35:30.174Z";
        assert_eq!(crate::util::ms_to_rfc3339(rfc3339_ms(t).unwrap()), t);
        assert_eq!(
            rfc3339_ms("2026-11-21T22:35:30.174+01:00"),
            rfc3339_ms("2026-11-21T21:35:30.174Z")
        );
    }
}
