// A small, safe Markdown renderer. `parse` turns text into a tree of plain
// objects (testable without a browser); `render` builds DOM nodes from it
// with createElement and text nodes only. There is no raw HTML: `<b>` in a
// message is the text "<b>". Links are kept only for http(s) and mailto
// URLs; images become links (the page loads nothing from elsewhere).
//
// Supported: paragraphs, ATX headings, fenced and indented code, block
// quotes, bullet / numbered / task lists (nested by indentation), tables,
// rules; inline code, **bold**, *italic*, ~~strike~~, [links](url),
// <autolinks>, bare URLs, hard line breaks.

import { highlight } from "./highlight.js";

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)[^`]*$/;
const HEADING = /^ {0,3}(#{1,6})(?:\s+(.*?))?\s*#*\s*$/;
const RULE = /^ {0,3}([-*_])(?:\s*\1){2,}\s*$/;
const QUOTE = /^ {0,3}> ?(.*)$/;
const ITEM = /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/;
const TABLE_SEP = /^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$/;

/** Parse Markdown into block nodes: {type, ...}. */
export function parse(text) {
  return blocks(String(text ?? "").replace(/\r\n?/g, "\n").split("\n"), 0);
}

function blocks(lines, depth) {
  const out = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) { i++; continue; }
    let m;
    if ((m = FENCE.exec(line))) {
      const close = new RegExp(`^ {0,3}${m[1][0]}{${m[1].length},}\\s*$`);
      const code = [];
      i++;
      while (i < lines.length && !close.test(lines[i])) code.push(lines[i++]);
      i++;
      out.push({ type: "code", lang: m[2].toLowerCase(), text: code.join("\n") });
    } else if ((m = HEADING.exec(line))) {
      out.push({ type: "heading", level: m[1].length, children: inline(m[2] || "") });
      i++;
    } else if (RULE.test(line)) {
      out.push({ type: "rule" });
      i++;
    } else if (QUOTE.test(line) && depth < 8) {
      const inner = [];
      while (i < lines.length && (m = QUOTE.exec(lines[i]))) { inner.push(m[1]); i++; }
      out.push({ type: "quote", children: blocks(inner, depth + 1) });
    } else if (ITEM.test(line) && depth < 8) {
      i = list(lines, i, depth, out);
    } else if (/^( {4}|\t)/.test(line)) {
      const code = [];
      while (i < lines.length && (/^( {4}|\t)/.test(lines[i]) || !lines[i].trim())) {
        code.push(lines[i].replace(/^( {4}|\t)/, ""));
        i++;
      }
      while (code.length && !code[code.length - 1].trim()) code.pop();
      out.push({ type: "code", lang: "", text: code.join("\n") });
    } else if (line.includes("|") && i + 1 < lines.length && TABLE_SEP.test(lines[i + 1])) {
      const head = cells(line);
      const rows = [];
      i += 2;
      while (i < lines.length && lines[i].includes("|") && lines[i].trim()) rows.push(cells(lines[i++]));
      out.push({
        type: "table",
        head: head.map(inline),
        rows: rows.map((r) => head.map((_, c) => inline(r[c] ?? ""))),
      });
    } else {
      const para = [];
      while (i < lines.length && lines[i].trim() && !startsBlock(lines, i)) para.push(lines[i++]);
      if (!para.length) para.push(lines[i++]);
      out.push({ type: "paragraph", children: inline(para.join("\n")) });
    }
  }
  return out;
}

function startsBlock(lines, i) {
  const l = lines[i];
  return FENCE.test(l) || HEADING.test(l) || RULE.test(l) || QUOTE.test(l) || ITEM.test(l)
    || (l.includes("|") && i + 1 < lines.length && TABLE_SEP.test(lines[i + 1]));
}

function cells(line) {
  return line.trim().replace(/^\|/, "").replace(/\|$/, "").split("|").map((c) => c.trim());
}

/** One list starting at lines[i]; returns the index after it. */
function list(lines, i, depth, out) {
  const first = ITEM.exec(lines[i]);
  const indent = first[1].length;
  const ordered = /\d/.test(first[2]);
  const node = { type: "list", ordered, start: ordered ? parseInt(first[2], 10) : 1, items: [] };
  while (i < lines.length) {
    const m = ITEM.exec(lines[i]);
    if (!m || m[1].length !== indent || /\d/.test(m[2]) !== ordered) break;
    const body = [m[3]];
    i++;
    // Continuation lines and nested lists: indented deeper than the marker.
    while (i < lines.length) {
      const l = lines[i];
      if (!l.trim()) {
        const next = lines[i + 1];
        if (next !== undefined && /^\s+/.exec(next)?.[0].length > indent) { body.push(""); i++; continue; }
        break;
      }
      const lead = /^\s*/.exec(l)[0].length;
      if (lead <= indent && (ITEM.test(l) || startsBlock(lines, i))) break;
      body.push(l.slice(Math.min(lead, indent + 2)));
      i++;
    }
    let task = null;
    const t = /^\[([ xX])\]\s+(.*)$/.exec(body[0]);
    if (t) { task = t[1] !== " "; body[0] = t[2]; }
    const children = blocks(body, depth + 1);
    node.items.push({ task, children });
  }
  out.push(node);
  return i;
}

const SAFE_URL = /^(https?:\/\/|mailto:)/i;

/**
 * Where a closing delimiter `d` may stand in `text`: right after a non-space
 * character (and, for single `*` / `_`, not followed by another `*` or `_`).
 * Emphasis is matched against these positions by binary search, so a message
 * full of unclosed `**` costs linear time, not quadratic (no regex scan from
 * every opener to the end of the text).
 */
function closerPositions(text, d) {
  const out = [];
  for (let k = text.indexOf(d, 1); k !== -1; k = text.indexOf(d, k + 1)) {
    if (/\s/.test(text[k - 1])) continue;
    if (d.length === 1 && /[*_]/.test(text[k + 1] || "")) continue;
    out.push(k);
  }
  return out;
}

function firstAtOrAfter(sorted, from) {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < from) lo = mid + 1; else hi = mid;
  }
  return lo < sorted.length ? sorted[lo] : -1;
}

const MAX_NESTING = 6;

/** Parse inline Markdown into nodes: text, code, strong, em, del, link, br. */
export function inline(text, depth = 0) {
  const out = [];
  let buf = "";
  const flush = () => { if (buf) { out.push({ type: "text", text: buf }); buf = ""; } };
  const closers = new Map();
  // The end of the emphasis opened by `d` at i (content from i + d.length), or -1.
  const close = (i, d) => {
    if (depth >= MAX_NESTING || !/\S/.test(text[i + d.length] || "")) return -1;
    if (!closers.has(d)) closers.set(d, closerPositions(text, d));
    return firstAtOrAfter(closers.get(d), i + d.length + 1);
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const rest = text.slice(i);
    let m;
    let k;
    if (c === "\\" && i + 1 < text.length && /[\\`*_{}[\]()#+\-.!|~<>]/.test(text[i + 1])) {
      buf += text[i + 1]; i += 2; continue;
    }
    if (c === "`" && (m = /^(`+)([\s\S]*?[^`])\1(?!`)/.exec(rest))) {
      flush();
      out.push({ type: "code", text: m[2].replace(/^ (.*) $/s, "$1") });
      i += m[0].length; continue;
    }
    if ((c === "*" || c === "_") && text[i + 1] === c && (k = close(i, c + c)) !== -1) {
      flush(); out.push({ type: "strong", children: inline(text.slice(i + 2, k), depth + 1) }); i = k + 2; continue;
    }
    if ((c === "*" || (c === "_" && !/\w/.test(text[i - 1] || ""))) && (k = close(i, c)) !== -1) {
      flush(); out.push({ type: "em", children: inline(text.slice(i + 1, k), depth + 1) }); i = k + 1; continue;
    }
    if (c === "~" && text[i + 1] === "~" && (k = close(i, "~~")) !== -1) {
      flush(); out.push({ type: "del", children: inline(text.slice(i + 2, k), depth + 1) }); i = k + 2; continue;
    }
    if ((c === "[" || (c === "!" && text[i + 1] === "["))
        && (m = /^!?\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\(\s*<?([^\s()<>]*(?:\([^\s()]*\)[^\s()<>]*)*)>?(?:\s+"[^"]*")?\s*\)/.exec(rest))) {
      flush();
      const label = m[1] || m[2];
      if (SAFE_URL.test(m[2])) out.push({ type: "link", href: m[2], children: inline(label, depth + 1) });
      else out.push(...inline(label, depth + 1));
      i += m[0].length; continue;
    }
    if (c === "<" && (m = /^<((?:https?:\/\/|mailto:)[^\s<>]+)>/i.exec(rest))) {
      flush(); out.push({ type: "link", href: m[1], children: [{ type: "text", text: m[1] }] });
      i += m[0].length; continue;
    }
    if ((c === "h" || c === "H") && !/\w/.test(text[i - 1] || "")
        && (m = /^https?:\/\/[^\s<>"'`]*[^\s<>"'`.,;:!?)\]]/i.exec(rest))) {
      flush(); out.push({ type: "link", href: m[0], children: [{ type: "text", text: m[0] }] });
      i += m[0].length; continue;
    }
    if (c === "\n") {
      if (/ {2,}$/.test(buf) || buf.endsWith("\\")) { buf = buf.replace(/( {2,}|\\)$/, ""); flush(); out.push({ type: "br" }); }
      else buf += "\n";
      i++; continue;
    }
    buf += c; i++;
  }
  flush();
  return out;
}

/** Render parsed blocks (or a Markdown string) into a DocumentFragment. */
export function render(tree) {
  if (typeof tree === "string") tree = parse(tree);
  const frag = document.createDocumentFragment();
  for (const node of tree) frag.append(block(node));
  return frag;
}

function el(tag, children) {
  const e = document.createElement(tag);
  for (const c of children) e.append(c);
  return e;
}

function block(n) {
  switch (n.type) {
    case "paragraph": return el("p", n.children.map(span));
    case "heading": return el(`h${n.level}`, n.children.map(span));
    case "rule": return document.createElement("hr");
    case "quote": return el("blockquote", n.children.map(block));
    case "code": {
      const code = el("code", [highlight(n.text, n.lang)]);
      if (n.lang) code.dataset.lang = n.lang;
      return el("pre", [code]);
    }
    case "list": {
      const list = el(n.ordered ? "ol" : "ul", n.items.map((item) => {
        const li = el("li", item.children.map(block));
        if (item.task !== null) {
          li.className = "task";
          const box = document.createElement("input");
          box.type = "checkbox";
          box.disabled = true;
          box.checked = item.task;
          li.prepend(box);
        }
        return li;
      }));
      if (n.ordered && n.start !== 1) list.start = n.start;
      return list;
    }
    case "table": {
      const row = (cells, tag) => el("tr", cells.map((c) => el(tag, c.map(span))));
      return el("div", [el("table", [el("thead", [row(n.head, "th")]), el("tbody", n.rows.map((r) => row(r, "td")))])]);
    }
    default: return document.createTextNode("");
  }
}

function span(n) {
  switch (n.type) {
    case "text": return document.createTextNode(n.text);
    case "code": return el("code", [document.createTextNode(n.text)]);
    case "strong": return el("strong", n.children.map(span));
    case "em": return el("em", n.children.map(span));
    case "del": return el("del", n.children.map(span));
    case "br": return document.createElement("br");
    case "link": {
      const a = el("a", n.children.map(span));
      a.href = n.href;
      a.rel = "noopener noreferrer nofollow";
      a.target = "_blank";
      return a;
    }
    default: return document.createTextNode("");
  }
}
