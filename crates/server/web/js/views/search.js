// Search: a query box with filters (agent, kind, folder, dates) that become
// the query language's filters (docs/search.md), answered by a live `search`
// subscription: the best hits, then new matching items as agents write them.

import { h, clear, setChildren, setText, providerBadge, relativeTime, PROVIDERS } from "../dom.js";

const KINDS = ["user", "assistant", "reasoning", "tool", "plan", "error"];
const LIMIT = 100;
const HINT = "Words, \"phrases\", prefix*, NOT word; the filters narrow it down.";

/** The query string for the words and filters of the form. */
export function buildQuery({ q = "", provider = "", kind = "", cwd = "", after = "", before = "" }) {
  const parts = [q.trim()];
  if (provider) parts.push(`provider:${provider}`);
  if (kind) parts.push(`kind:${kind}`);
  if (cwd.trim()) parts.push(`cwd:${cwd.trim()}`);
  if (after) parts.push(`after:${after}`);
  if (before) parts.push(`before:${before}`);
  return parts.filter(Boolean).join(" ");
}

export function mountSearch(root, { rpc, params, setParams }) {
  const form = { q: "", provider: "", kind: "", cwd: "", after: "", before: "", ...params };
  const input = (name, attrs) => {
    const el = h("input", { name, value: form[name], ...attrs });
    el.addEventListener("input", () => { form[name] = el.value; changed(); });
    return el;
  };
  const select = (name, label, options) => {
    const el = h("select", { name, "aria-label": label },
      h("option", { value: "" }, label), options.map((o) => h("option", { value: o }, o)));
    el.value = form[name];
    el.addEventListener("change", () => { form[name] = el.value; changed(); });
    return el;
  };
  const box = input("q", { type: "search", placeholder: "Search every agent's history", "aria-label": "Search", autofocus: true });
  const summary = h("div.search-summary.dim");
  const results = h("ol.hits");
  clear(root).append(h("section.view.search-view",
    h("form.search-form", { role: "search", onsubmit: (e) => { e.preventDefault(); run(); } },
      box,
      h("div.filters",
        select("provider", "All agents", PROVIDERS),
        select("kind", "Any kind", KINDS),
        input("cwd", { type: "text", placeholder: "folder, e.g. /home/me/app", "aria-label": "Folder" }),
        h("label", "after ", input("after", { type: "date" })),
        h("label", "before ", input("before", { type: "date" })))),
    summary,
    h("div.scroller.hits-scroller", results)));

  let sub = null;
  let hits = new Map();   // item_id -> hit
  // The element drawn for each hit object: a delivery replaces only the
  // hits it carries, so the others keep their elements (and a hover, a
  // selection or a pending click on them) instead of being redrawn.
  let drawn = new WeakMap();
  let timer = 0;
  // Live matches seen: a hit's `arrived` is its number (0 for the best hits
  // of the snapshot), which puts live matches on top, newest first.
  let arrivals = 0;

  function changed() {
    clearTimeout(timer);
    timer = setTimeout(run, 250);
  }

  function run() {
    clearTimeout(timer);
    setParams(Object.fromEntries(Object.entries(form).filter(([, v]) => v)));
    if (sub) { sub.close(); sub = null; }
    hits = new Map();
    drawn = new WeakMap();
    clear(results);
    const query = buildQuery(form);
    if (!form.q.trim()) {
      summary.textContent = HINT;
      return;
    }
    summary.textContent = "Searching…";
    const mine = rpc.subscribe({ type: "search", query, limit: LIMIT }, (d) => {
      if (sub !== mine) return;
      if (d.snapshot) hits = new Map();
      for (const hit of d.hits || []) {
        const old = hits.get(hit.item_id);
        const live = !d.snapshot && (!old || old.arrived > 0);
        // A live match moves to the end of the map: the newest last.
        hits.delete(hit.item_id);
        hits.set(hit.item_id, { ...hit, arrived: live ? ++arrivals : 0 });
      }
      dropOldLive();
      show(query);
    }, (e) => {
      if (sub !== mine) return;
      summary.textContent = e.message;
      summary.classList.add("error");
    });
    sub = mine;
    summary.classList.remove("error");
  }

  /** A page left open while agents write keeps the newest LIMIT live matches. */
  function dropOldLive() {
    let live = 0;
    for (const hit of hits.values()) if (hit.arrived) live++;
    for (const [id, hit] of hits) {
      if (live <= LIMIT) break;
      if (hit.arrived) { hits.delete(id); live--; }
    }
  }

  function show(query) {
    // Snapshot hits are best first; live matches go on top, newest first.
    const list = [...hits.values()].sort((a, b) => (b.arrived - a.arrived) || (b.score - a.score));
    setText(summary, `${list.length}${list.length >= LIMIT ? "+" : ""} hits for ${query}`);
    const els = list.map((hit) => {
      let el = drawn.get(hit);
      if (!el) { el = renderHit(hit); drawn.set(hit, el); }
      return el;
    });
    setChildren(results, els);
  }

  function renderHit(hit) {
    const href = `#/thread/${encodeURIComponent(hit.thread_id)}?item=${encodeURIComponent(hit.item_id)}&seq=${hit.seq}`;
    return h("li.hit", hit.arrived ? { class: "fresh" } : null,
      h("a.hit-link", { href },
        h("div.hit-head",
          providerBadge(hit.provider),
          h("span.kind", hit.kind.replace("_", " ")),
          h("span.hit-title", hit.thread_title || hit.thread_id),
          h("time.dim", { datetime: hit.ts || "", title: hit.ts || "" }, relativeTime(hit.ts))),
        h("div.snippet", snippet(hit.snippet || "", hit.highlights || [])),
        hit.cwd && h("div.hit-cwd.mono.dim", hit.cwd)));
  }

  if (form.q) run(); else summary.textContent = HINT;
  box.focus();
  return {
    unmount() {
      clearTimeout(timer);
      if (sub) sub.close();
    },
  };
}

/** The snippet with its highlighted ranges (character ranges, i.e. code points) in <mark>. */
export function snippetParts(text, ranges) {
  const chars = Array.from(text);
  const parts = [];
  let at = 0;
  for (const [start, end] of [...ranges].sort((a, b) => a[0] - b[0])) {
    if (start < at || end <= start) continue;
    if (start > at) parts.push([false, chars.slice(at, start).join("")]);
    parts.push([true, chars.slice(start, end).join("")]);
    at = end;
  }
  if (at < chars.length) parts.push([false, chars.slice(at).join("")]);
  return parts;
}

function snippet(text, ranges) {
  return snippetParts(text, ranges).map(([marked, s]) => (marked ? h("mark", s) : s));
}
