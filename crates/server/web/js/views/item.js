// One item of a thread as DOM: messages (Markdown), reasoning (collapsed),
// tool calls (command, output, exit code), plans (checklists), token usage,
// errors. All session text enters the DOM as text nodes (dom.js, markdown.js).

import { h, formatInt } from "../dom.js";
import { render as markdown } from "../markdown.js";
import { highlight } from "../highlight.js";

const OUTPUT_LINES = 40;
const OUTPUT_CHARS = 6000;

/**
 * @param item an item row (docs/cli.md)
 * @param state {expanded: Set of item ids whose output is shown whole,
 *   onToggle(id): re-render request}
 */
export function renderItem(item, state) {
  const time = item.ts ? new Date(item.ts).toLocaleString() : "";
  const meta = h("div.item-meta", h("span.kind", label(item)), time && h("time", { datetime: item.ts, title: item.ts }, time));
  const body = bodyOf(item, state);
  return h(`article.item.item-${item.kind}`, { dataset: { id: item.id, seq: item.seq } }, meta, body);
}

function label(item) {
  switch (item.kind) {
    case "user": return "User";
    case "assistant": return "Assistant";
    case "reasoning": return "Reasoning";
    case "tool_call": return `Tool · ${item.name || item.tool_kind || "call"}`;
    case "plan": return "Plan";
    case "usage": return "Token usage";
    case "error": return "Error";
    default: return item.kind;
  }
}

function bodyOf(item, state) {
  switch (item.kind) {
    case "user":
    case "assistant":
      return h("div.markdown", markdown(item.text || ""));
    case "reasoning":
      return h("details.reasoning", h("summary", firstLine(item.text)), h("div.markdown", markdown(item.text || "")));
    case "tool_call":
      return toolCall(item, state);
    case "plan":
      return plan(item);
    case "usage":
      return usage(item.data || {});
    case "error":
      return h("div.error-text", item.text || "");
    default:
      return h("pre.plain", item.text || JSON.stringify(item.data ?? null));
  }
}

function firstLine(text) {
  const line = (text || "").split("\n").find((l) => l.trim()) || "";
  return line.length > 140 ? line.slice(0, 140) + "…" : line;
}

function toolCall(item, state) {
  const exit = item.exit_code;
  const status = item.status || "in_progress";
  const head = h("div.tool-head",
    h(`span.status.status-${status}`, status.replace("_", " ")),
    exit !== null && exit !== undefined && h(`span.exit.${exit === 0 ? "exit-ok" : "exit-fail"}`, `exit ${exit}`),
    item.tool_kind && h("span.tool-kind", item.tool_kind));
  const parts = [head];
  if (item.command) parts.push(h("pre.command", h("code", highlight(item.command, "sh"))));
  // A shell call's input is its command: shown once.
  if (item.input && (!item.command || item.tool_kind !== "shell")) {
    parts.push(h("details.tool-input", h("summary", "input"), h("pre", h("code", highlight(pretty(item.input), "json")))));
  }
  if (item.output !== null && item.output !== undefined) {
    parts.push(output(item, state));
  } else if (status === "in_progress") {
    parts.push(h("div.pending", "running…"));
  }
  return h("div.tool", parts);
}

function pretty(input) {
  try { return JSON.stringify(JSON.parse(input), null, 2); } catch (_) { return input; }
}

function output(item, state) {
  const text = item.output;
  const lines = text.split("\n");
  const whole = state.expanded.has(item.id);
  let shown = text;
  let cut = false;
  if (!whole && (lines.length > OUTPUT_LINES || text.length > OUTPUT_CHARS)) {
    shown = lines.slice(0, OUTPUT_LINES).join("\n").slice(0, OUTPUT_CHARS);
    cut = true;
  }
  const pre = h("pre.output", shown || "(no output)");
  const more = (cut || whole) && h("button.link.more", {
    type: "button",
    onclick: () => state.onToggle(item.id),
  }, whole ? "Show less" : `Show all ${formatInt(lines.length)} lines`);
  return h("div.output-wrap", h("div.output-label", "output"), pre, more);
}

const STEP_MARK = { completed: "✓", in_progress: "◐", pending: "○" };

function plan(item) {
  const steps = item.data?.steps;
  if (!Array.isArray(steps)) return h("div.markdown", markdown(item.text || ""));
  return h("div.plan",
    item.data.explanation && h("p.explanation", item.data.explanation),
    h("ul.checklist", steps.map((s) => h(`li.step.step-${s.status || "pending"}`,
      h("span.mark", { "aria-hidden": "true" }, STEP_MARK[s.status] || "○"),
      h("span.step-text", String(s.step ?? "")),
      h("span.step-status", (s.status || "pending").replace("_", " "))))));
}

function usage(d) {
  const total = d.thread_total;
  return h("div.usage",
    h("span", `in ${formatInt(d.input_tokens)}`),
    d.cached_input_tokens ? h("span", `cached ${formatInt(d.cached_input_tokens)}`) : null,
    h("span", `out ${formatInt(d.output_tokens)}`),
    d.reasoning_output_tokens ? h("span", `reasoning ${formatInt(d.reasoning_output_tokens)}`) : null,
    h("span.total", `turn ${formatInt(d.total_tokens)}`),
    total && total.total_tokens !== undefined ? h("span.thread-total", `thread ${formatInt(total.total_tokens)}`) : null,
    d.model_context_window ? h("span", `context ${formatInt(d.model_context_window)}`) : null);
}

/** A rough height before an item is measured, to keep the scrollbar sane. */
export function estimateItem(item) {
  switch (item.kind) {
    case "usage": return 56;
    case "reasoning": return 64;
    case "tool_call": return 140;
    case "plan": return 40 + 28 * (item.data?.steps?.length || 2);
    default: return 56 + 20 * Math.min(30, Math.ceil((item.text || "").length / 90));
  }
}
