// Unit tests of the web UI's pure modules (no browser): the Markdown parser,
// the highlighter's tokens, the item window (paging and gaps), the thread
// grouping, the search query builder and snippet marks, and setChildren on a
// stand-in for the DOM.

import { test } from "node:test";
import assert from "node:assert/strict";
import { parse, inline } from "../js/markdown.js";
import { tokens } from "../js/highlight.js";
import { ItemWindow } from "../js/itemwindow.js";
import { groupThreads, ThreadStore } from "../js/threadlist.js";
import { buildQuery, snippetParts } from "../js/views/search.js";
import { relativeTime, setChildren } from "../js/dom.js";

test("markdown: raw HTML stays text", () => {
  const tree = parse("<script>alert(1)</script> <img src=x onerror=alert(2)>");
  assert.deepEqual(tree, [{ type: "paragraph", children: [{ type: "text", text: "<script>alert(1)</script> <img src=x onerror=alert(2)>" }] }]);
});

test("markdown: only http(s) and mailto links become links", () => {
  assert.deepEqual(inline("[a](https://x.test/p?q=1)"), [{ type: "link", href: "https://x.test/p?q=1", children: [{ type: "text", text: "a" }] }]);
  assert.deepEqual(inline("[a](javascript:alert(1))"), [{ type: "text", text: "a" }]);
  assert.deepEqual(inline("[a](data:text/html,hi)"), [{ type: "text", text: "a" }]);
  assert.deepEqual(inline("![img](https://x.test/i.png)"), [{ type: "link", href: "https://x.test/i.png", children: [{ type: "text", text: "img" }] }]);
  assert.deepEqual(inline("see https://x.test/a."), [
    { type: "text", text: "see " },
    { type: "link", href: "https://x.test/a", children: [{ type: "text", text: "https://x.test/a" }] },
    { type: "text", text: "." },
  ]);
  assert.deepEqual(inline("<javascript:alert(1)>"), [{ type: "text", text: "<javascript:alert(1)>" }]);
});

test("markdown: blocks", () => {
  const tree = parse("# Title\n\nSome **bold** and `code`.\n\n```rust\nfn main() {}\n```\n\n- one\n- [x] two\n  - nested\n\n1. first\n2. second\n\n> quoted\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n---");
  assert.deepEqual(tree.map((b) => b.type), ["heading", "paragraph", "code", "list", "list", "quote", "table", "rule"]);
  assert.equal(tree[2].lang, "rust");
  assert.equal(tree[2].text, "fn main() {}");
  assert.deepEqual(tree[3].items.map((i) => i.task), [null, true]);
  assert.equal(tree[3].items[1].children[1].type, "list", "nested list");
  assert.equal(tree[4].ordered, true);
  assert.deepEqual(tree[6].rows, [[[{ type: "text", text: "1" }], [{ type: "text", text: "2" }]]]);
  assert.deepEqual(inline("a **b** *c* ~~d~~"), [
    { type: "text", text: "a " }, { type: "strong", children: [{ type: "text", text: "b" }] },
    { type: "text", text: " " }, { type: "em", children: [{ type: "text", text: "c" }] },
    { type: "text", text: " " }, { type: "del", children: [{ type: "text", text: "d" }] },
  ]);
  assert.deepEqual(inline("snake_case_name"), [{ type: "text", text: "snake_case_name" }]);
});

test("markdown: an unclosed fence runs to the end; pathological input stays linear", () => {
  assert.deepEqual(parse("```\ncode"), [{ type: "code", lang: "", text: "code" }]);
  // Each of these took close to a minute when emphasis was a regex scan from
  // every opener (a page freeze on one message); now well under a second.
  for (const text of [
    "*".repeat(20000) + "\n" + "[".repeat(20000) + "\n" + "> ".repeat(2000) + "x",
    "**a ".repeat(100000),
    "_a ".repeat(100000),
    "*a ".repeat(100000) + "x*",
    "~~a ".repeat(100000),
    "**".repeat(50000) + "a" + "**".repeat(50000),
    "[a ".repeat(100000),
  ]) {
    const start = Date.now();
    parse(text);
    assert.ok(Date.now() - start < 3000, `${JSON.stringify(text.slice(0, 8))}… took ${Date.now() - start} ms`);
  }
  assert.deepEqual(inline("**a **b**"), [{ type: "strong", children: [{ type: "text", text: "a **b" }] }]);
  assert.deepEqual(inline("2 * 3 * 4"), [{ type: "text", text: "2 * 3 * 4" }], "a spaced star is not emphasis");
});

test("highlight: keywords, strings, comments; unknown languages plain", () => {
  const kinds = (code, lang) => tokens(code, lang).filter(([k]) => k).map(([k, t]) => `${k}:${t}`);
  assert.deepEqual(kinds('fn x() { "s" } // c', "rust"), ["keyword:fn", "string:\"s\"", "comment:// c"]);
  assert.deepEqual(kinds("echo $HOME # hi", "bash"), ["keyword:echo", "variable:$HOME", "comment:# hi"]);
  assert.deepEqual(kinds('{"a": 1, "b": "c"}', "json"), ["property:\"a\"", "number:1", "property:\"b\"", "string:\"c\""]);
  assert.deepEqual(kinds("+add\n-del\n", "diff"), ["inserted:+add\n", "deleted:-del\n"]);
  assert.deepEqual(tokens("<b>x</b>", "nope"), [[null, "<b>x</b>"]]);
  const code = "let a = 1;\n".repeat(10000);
  assert.equal(tokens(code, "js").map(([, t]) => t).join(""), code, "tokens cover the text exactly");
});

const item = (seq, extra = {}) => ({ id: `t/${seq}`, seq, kind: "user", text: String(seq), revision: 1, ...extra });
const rowKinds = (w) => w.rows().map((r) => (r.type === "gap" ? "gap" : r.item.seq));

test("item window: a tail with older items shows a gap on top that paging closes", () => {
  const w = new ItemWindow();
  w.applyTail([item(50), item(60), item(70)], 3);
  assert.deepEqual(rowKinds(w), ["gap", 50, 60, 70]);
  const gap = w.rows()[0];
  assert.equal(gap.after.seq, 50);
  w.applyBefore(50, [item(30), item(40)], 2);
  assert.deepEqual(rowKinds(w), ["gap", 30, 40, 50, 60, 70]);
  w.applyBefore(30, [item(10)], 2);
  assert.deepEqual(rowKinds(w), [10, 30, 40, 50, 60, 70], "a short page reached the start");
});

test("item window: a short tail is the whole thread; live items append", () => {
  const w = new ItemWindow();
  w.applyTail([item(1), item(2)], 200);
  w.upsert([item(3)]);
  assert.deepEqual(rowKinds(w), [1, 2, 3]);
  w.upsert([item(2, { text: "changed", revision: 2 })]);
  assert.equal(w.items[1].text, "changed");
  w.upsert([item(2, { text: "older", revision: 1 })]);
  assert.equal(w.items[1].text, "changed", "an older revision never replaces a newer row");
});

test("item window: a page around a search hit sits between gaps", () => {
  const w = new ItemWindow();
  w.applyTail([item(900), item(910)], 2);
  w.applyAfter(500, [item(500), item(510)], 2);
  w.applyBefore(500, [item(480), item(490)], 2);
  assert.deepEqual(rowKinds(w), ["gap", 480, 490, 500, 510, "gap", 900, 910]);
  const middle = w.rows()[5];
  assert.equal(middle.before.seq, 510);
  assert.equal(middle.after.seq, 900);
  w.applyAfter(511, [item(600)], 2);
  assert.deepEqual(rowKinds(w), ["gap", 480, 490, 500, 510, 600, 900, 910], "a short forward page closes the gap");
  // A changed item deep in history (a tool call finishing) lands between gaps.
  w.upsert([item(100)]);
  assert.deepEqual(rowKinds(w), ["gap", 100, "gap", 480, 490, 500, 510, 600, 900, 910]);
});

test("thread grouping: projects by newest thread, filters, collapsed groups", () => {
  const t = (id, cwd, updated, provider = "codex", title = id) => ({ id, cwd, updated_at: updated, provider, title, revision: 1 });
  const threads = [
    t("a", "/p/one", "2026-01-01T00:00:01.000Z"),
    t("b", "/p/two", "2026-01-03T00:00:00.000Z", "claude"),
    t("c", "/p/one", "2026-01-02T00:00:00.000Z"),
    t("d", null, null),
  ];
  const keys = (r) => r.rows.map((x) => x.key);
  assert.deepEqual(keys(groupThreads(threads)), ["g:/p/two", "b", "g:/p/one", "c", "a", "g:", "d"]);
  assert.deepEqual(keys(groupThreads(threads, { provider: "claude" })), ["g:/p/two", "b"]);
  assert.deepEqual(keys(groupThreads(threads, { text: "ONE" })), ["g:/p/one", "c", "a"]);
  const collapsed = groupThreads(threads, {}, new Set(["/p/one"]));
  assert.deepEqual(keys(collapsed), ["g:/p/two", "b", "g:/p/one", "g:", "d"]);
  assert.equal(collapsed.rows[2].count, 2);
});

test("search: the form becomes the query language; snippet marks are code-point ranges", () => {
  assert.equal(buildQuery({ q: " webhook ", provider: "codex", kind: "tool", cwd: "/w", after: "2026-01-01" }),
    "webhook provider:codex kind:tool cwd:/w after:2026-01-01");
  assert.equal(buildQuery({ q: "x" }), "x");
  assert.deepEqual(snippetParts("héllo wörld 😀 end", [[6, 11], [14, 17]]), [
    [false, "héllo "], [true, "wörld"], [false, " 😀 "], [true, "end"],
  ]);
});

test("relative times", () => {
  const now = Date.parse("2026-01-10T00:00:00Z");
  assert.equal(relativeTime("2026-01-10T00:00:00Z", now), "just now");
  assert.equal(relativeTime("2026-01-09T23:55:00Z", now), "5 min ago");
  assert.equal(relativeTime("2026-01-07T00:00:00Z", now), "3 d ago");
  assert.equal(relativeTime(null, now), "");
});

test("thread store: a refused subscription is kept as an error until a delivery arrives", () => {
  let deliver, refuse;
  const rpc = {
    state: "open",
    subscribe(_query, onDelivery, onError) { deliver = onDelivery; refuse = onError; return {}; },
    call: async () => ({ threads: [], next_cursor: null }),
  };
  const store = new ThreadStore(rpc);
  let changes = 0;
  store.addEventListener("change", () => changes++);
  store.start();
  refuse(new Error("too many subscriptions"));
  assert.equal(store.error, "too many subscriptions");
  assert.equal(changes, 1);
  deliver({ snapshot: true, threads: [{ id: "t1", revision: 1 }] });
  assert.equal(store.error, null);
  assert.equal(store.threads.size, 1);
});

/** Just enough of a DOM parent for setChildren: children in an array, every move counted. */
class FakeParent {
  constructor(names) {
    this.kids = [];
    this.removed = [];
    for (const n of names) this.insertBefore(new FakeNode(n), null);
    this.removed = [];
  }
  get firstChild() { return this.kids[0] ?? null; }
  insertBefore(node, ref) {
    if (node.parent) node.parent.removeChild(node);
    const i = ref ? this.kids.indexOf(ref) : this.kids.length;
    assert.ok(i >= 0, "reference node is a child");
    this.kids.splice(i, 0, node);
    node.parent = this;
  }
  removeChild(node) {
    this.kids.splice(this.kids.indexOf(node), 1);
    node.parent = null;
    this.removed.push(node.name);
  }
  names() { return this.kids.map((k) => k.name); }
}
class FakeNode {
  constructor(name) { this.name = name; this.parent = null; }
  get nextSibling() {
    const kids = this.parent.kids;
    return kids[kids.indexOf(this) + 1] ?? null;
  }
}

test("setChildren: reaches the wanted order and never takes out a node that stays in place", () => {
  const el = new FakeParent(["a", "b", "c", "d"]);
  const [a, b, c, d] = el.kids;
  // A new node on top: the others are not moved.
  const n = new FakeNode("n");
  setChildren(el, [n, a, b, c, d]);
  assert.deepEqual(el.names(), ["n", "a", "b", "c", "d"]);
  assert.deepEqual(el.removed, []);
  // One dropped: only it goes.
  setChildren(el, [n, a, c, d]);
  assert.deepEqual(el.names(), ["n", "a", "c", "d"]);
  assert.deepEqual(el.removed, ["b"]);
  // The same order again: nothing happens.
  el.removed = [];
  setChildren(el, [n, a, c, d]);
  assert.deepEqual(el.removed, []);
  // A reorder and a shrink still end in the wanted order.
  setChildren(el, [d, c]);
  assert.deepEqual(el.names(), ["d", "c"]);
  setChildren(el, []);
  assert.deepEqual(el.names(), []);
});
