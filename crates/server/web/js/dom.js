// DOM helpers. Every piece of text goes in as a text node: nothing here (or
// anywhere in the page) assigns innerHTML, so session content can never
// become markup.

/** Build an element: h("div.a.b", {title: "x", onclick: f}, child, "text", [more]). */
export function h(tag, attrs, ...children) {
  const [name, ...classes] = tag.split(".");
  const el = document.createElement(name || "div");
  if (classes.length) el.className = classes.join(" ");
  if (attrs && (typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "class") el.className += (el.className ? " " : "") + v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

/** Append children: nodes, strings (as text), arrays, skipping null/false. */
export function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/**
 * Make `nodes` the children of `el`, in order, moving as few as it can: a
 * child already in its place is never taken out of the DOM, so a text
 * selection, a hover or a pending click on it survives.
 */
export function setChildren(el, nodes) {
  const wanted = new Set(nodes);
  let at = el.firstChild;
  for (const node of nodes) {
    // Children that go are removed first, so the ones after them need no move.
    while (at && at !== node && !wanted.has(at)) {
      const next = at.nextSibling;
      el.removeChild(at);
      at = next;
    }
    if (node === at) at = at.nextSibling;
    else el.insertBefore(node, at);
  }
  while (at) {
    const next = at.nextSibling;
    el.removeChild(at);
    at = next;
  }
  return el;
}

/** Set an element's text only when it differs: a write of the same text would still replace its text node (and a selection in it). */
export function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

const UNITS = [
  ["y", 365 * 86400], ["mo", 30 * 86400], ["d", 86400], ["h", 3600], ["min", 60],
];

/** "3 min ago", "2 d ago", "just now"; "" for a missing time. */
export function relativeTime(iso, now = Date.now()) {
  if (!iso) return "";
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return "";
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 45) return "just now";
  for (const [unit, size] of UNITS) {
    if (s >= size) return `${Math.floor(s / size)} ${unit} ago`;
  }
  return "1 min ago";
}

export function formatInt(n) {
  return n === null || n === undefined ? "–" : Number(n).toLocaleString("en-US");
}

export function formatBytes(n) {
  if (!n) return "0 B";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

/** The last folder of a path: "/home/me/app" -> "app". */
export function baseName(path) {
  if (!path) return "";
  const parts = path.replace(/[\\/]+$/, "").split(/[\\/]/);
  return parts[parts.length - 1] || path;
}

export const PROVIDERS = ["codex", "claude", "opencode", "gemini"];

export function providerBadge(provider) {
  return h(`span.badge.provider-${PROVIDERS.includes(provider) ? provider : "other"}`, provider);
}
