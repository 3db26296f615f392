//! The script's items: what one scripted model answer is made of.

use serde_json::Value;

/// One output item of a scripted model answer. A model answer is a `Vec<Reply>`; each scripted
/// model request (see [`MockModel`]) consumes the next answer of the script, whatever its wire
/// protocol. The variants are named after Codex's items; each protocol maps them onto its own
/// shapes and the agent's own tool names (see the table in [`MockModel`]).
///
/// Ids are predictable: in answer `n` (1-based, counting every scripted model request) item `k`
/// (0-based) gets `call_id` `call_{n}_{k}` (Responses, Chat Completions, Gemini) or
/// `toolu_{n}_{k}` (Anthropic), and Responses item ids `msg_/rs_/fc_/ctc_{n}_{k}`.
///
/// [`MockModel`]: super::MockModel
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// Assistant message, `phase: "final_answer"`.
    Text(String),
    /// Assistant message, `phase: "commentary"` (interim narration before tool calls).
    Commentary(String),
    /// Reasoning item with one summary part.
    Reasoning { summary: String },
    /// Codex's shell tool: function call `exec_command` with `{"cmd": command}`. Codex runs it
    /// and sends the output back in the next request (`function_call_output`).
    ShellCall { command: String },
    /// Freeform `apply_patch` custom tool call (`*** Begin Patch ... *** End Patch`).
    ApplyPatch(String),
    /// Function call `update_plan` with `{"plan":[{step,status}], "explanation"?}`. Codex 0.169
    /// `exec` does not advertise this tool; see the crate report for how it reacts.
    Plan {
        explanation: Option<String>,
        steps: Vec<PlanStep>,
    },
    /// Any other function call (`arguments` is serialized to the JSON string the API sends).
    FunctionCall { name: String, arguments: Value },
    /// A raw output item, streamed as-is (`output_item.added` + `output_item.done`).
    Item(Value),
    /// Answer the request with this HTTP status and an OpenAI-style error body instead of a
    /// stream. Put it alone in its answer.
    ApiError { status: u16, message: String },
}

impl Reply {
    pub fn text(text: impl Into<String>) -> Self {
        Reply::Text(text.into())
    }
    pub fn commentary(text: impl Into<String>) -> Self {
        Reply::Commentary(text.into())
    }
    pub fn reasoning(summary: impl Into<String>) -> Self {
        Reply::Reasoning {
            summary: summary.into(),
        }
    }
    pub fn shell(command: impl Into<String>) -> Self {
        Reply::ShellCall {
            command: command.into(),
        }
    }
    pub fn apply_patch(patch: impl Into<String>) -> Self {
        Reply::ApplyPatch(patch.into())
    }
    pub fn plan<S: Into<String>>(steps: impl IntoIterator<Item = (S, PlanStatus)>) -> Self {
        let steps = steps.into_iter().map(|(step, status)| PlanStep {
            step: step.into(),
            status,
        });
        Reply::Plan {
            explanation: None,
            steps: steps.collect(),
        }
    }
    pub fn api_error(status: u16, message: impl Into<String>) -> Self {
        Reply::ApiError {
            status,
            message: message.into(),
        }
    }
}

/// One step of an `update_plan` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanStep {
    pub step: String,
    pub status: PlanStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanStatus {
    Pending,
    InProgress,
    Completed,
}

impl PlanStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PlanStatus::Pending => "pending",
            PlanStatus::InProgress => "in_progress",
            PlanStatus::Completed => "completed",
        }
    }
}
