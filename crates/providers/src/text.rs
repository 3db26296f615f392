//! Text helpers shared by providers: titles, injected context.

use tinyvex_model::{one_line_title, LineError, ParsedEvent, RawRecord};

/// Longest title kept, in characters.
pub(crate) const TITLE_MAX_CHARS: usize = 120;

/// Codex's VS Code extension prefixes prompts with IDE context; the real
/// request follows this marker (Codex's own `USER_MESSAGE_BEGIN`).
const CODEX_REQUEST_MARKER: &str = "## My request for Codex:";

/// A thread title from the first real user prompt.
pub(crate) fn title_from_prompt(text: &str) -> Option<String> {
    let text = match text.find(CODEX_REQUEST_MARKER) {
        Some(i) => &text[i + CODEX_REQUEST_MARKER.len()..],
        None => text,
    };
    one_line_title(text, TITLE_MAX_CHARS)
}

/// Prefixes of user-role messages that the agent injected (instructions,
/// environment) rather than the user typed.
const INJECTED_PREFIXES: &[&str] = &[
    "<environment_context>",
    "<user_instructions>",
    "# AGENTS.md instructions",
    "<INSTRUCTIONS>",
    "<skills_instructions>",
    "<apps_instructions>",
    "<plugins_instructions>",
    "<permissions instructions>",
    "<collaboration_mode>",
    "<turn_aborted>",
    "<user_shell_command>",
];

/// True when a user-role message is context the agent injected.
pub(crate) fn is_injected_context(text: &str) -> bool {
    let t = text.trim_start();
    INJECTED_PREFIXES.iter().any(|p| t.starts_with(p))
}

/// The text of one source line: valid UTF-8, without a trailing `\r`, not
/// blank. Anything else is a [`LineError`] at `offset`.
pub(crate) fn line_text(offset: u64, line: &[u8]) -> Result<&str, LineError> {
    let bad = |message: String| LineError { offset, message };
    let text = std::str::from_utf8(line).map_err(|e| bad(format!("invalid UTF-8: {e}")))?;
    let text = text.trim_end_matches('\r');
    if text.trim().is_empty() {
        return Err(bad("empty line".to_string()));
    }
    Ok(text)
}

/// The raw-log record of a line that is not a JSON object: its first 4 KiB,
/// enough to see what went wrong without storing a huge broken line.
pub(crate) fn invalid_record(offset: u64, text: &str) -> ParsedEvent {
    let mut end = text.len().min(4096);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    ParsedEvent::Raw(RawRecord {
        offset,
        kind: "invalid".into(),
        text: text[..end].to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_strips_ide_context() {
        let t = "# Context from my IDE setup:\n## Open tabs:\n- a.rs\n\n## My request for Codex:\nfix   the build\nplease";
        assert_eq!(title_from_prompt(t).as_deref(), Some("fix the build"));
        assert_eq!(
            title_from_prompt("  hello\nworld").as_deref(),
            Some("hello")
        );
    }

    #[test]
    fn injected_context_is_recognised() {
        assert!(is_injected_context(
            "  <environment_context>\n<cwd>/x</cwd>"
        ));
        assert!(!is_injected_context("please list files"));
    }
}
