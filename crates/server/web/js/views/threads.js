// The thread list: every thread grouped by project (working folder), newest
// first, with provider badges, titles and relative times, updating live
// (ThreadStore). Virtualized: 10,000 threads cost a screenful of rows.

import { h, clear, providerBadge, relativeTime, baseName, formatInt, PROVIDERS } from "../dom.js";
import { groupThreads } from "../threadlist.js";
import { VirtualList } from "../vlist.js";

const collapsed = new Set();      // kept across visits
const filter = { provider: "", text: "" };

export function mountThreads(root, { store }) {
  const count = h("span.count.dim");
  const providerSelect = h("select", {
    "aria-label": "Provider",
    onchange: (e) => { filter.provider = e.target.value; rebuild(); },
  }, h("option", { value: "" }, "All agents"), PROVIDERS.map((p) => h("option", { value: p }, p)));
  providerSelect.value = filter.provider;
  const textInput = h("input", {
    type: "search", placeholder: "Filter by title or folder", value: filter.text, "aria-label": "Filter threads",
    oninput: (e) => { filter.text = e.target.value; rebuild(); },
  });
  const empty = h("div.empty", { hidden: true });
  const scroller = h("div.scroller.thread-list", { tabindex: "0" });
  clear(root).append(h("section.view.threads-view",
    h("div.toolbar", h("h1", "Threads"), providerSelect, textInput, count), empty, scroller));

  // What each row was last drawn from (a thread's revision; a group's
  // state and count): a row whose source changed is drawn again, whether or
  // not it was shown in between. The list keeps drawn rows of threads that
  // a collapsed group or the filter hides, and shows them again as they were.
  const drawn = new Map();
  const version = (r) => (r.type === "group" ? `${r.collapsed}:${r.count}` : r.thread.revision);
  const list = new VirtualList(scroller, {
    key: (r) => r.key,
    estimate: (r) => (r.type === "group" ? 40 : 44),  // .thread-row is 44px high
    render: (r) => {
      drawn.set(r.key, version(r));
      return r.type === "group" ? renderGroup(r) : renderThread(r.thread);
    },
  });

  function renderGroup(r) {
    return h("div.group", {
      role: "button", tabindex: "0", title: r.cwd || "threads without a folder",
      onclick: () => toggle(r.cwd),
      onkeydown: (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); toggle(r.cwd); } },
    },
    h("span.chevron", r.collapsed ? "▸" : "▾"),
    h("span.group-name", r.cwd ? baseName(r.cwd) : "(no folder)"),
    h("span.group-path.mono.dim", r.cwd),
    h("span.group-count", formatInt(r.count)));
  }

  function renderThread(t) {
    return h("a.thread-row", { href: `#/thread/${encodeURIComponent(t.id)}`, dataset: { thread: t.id } },
      providerBadge(t.provider),
      h("span.title", t.title || "(untitled)"),
      h("span.items.dim", `${formatInt(t.item_count)} items`),
      h("time.when", { datetime: t.updated_at || "", title: t.updated_at || "" }, relativeTime(t.updated_at)));
  }

  function toggle(cwd) {
    if (collapsed.has(cwd)) collapsed.delete(cwd); else collapsed.add(cwd);
    rebuild();
  }

  function rebuild() {
    const { rows, shown } = groupThreads(store.threads.values(), filter, collapsed);
    for (const r of rows) {
      if (drawn.has(r.key) && drawn.get(r.key) !== version(r)) {
        drawn.delete(r.key);
        list.invalidate(r.key);
      }
    }
    list.setRows(rows);
    const total = store.threads.size;
    count.textContent = `${formatInt(shown)} of ${formatInt(total)} threads` + (store.complete ? "" : " (loading…)");
    // A refused subscription: say so instead of loading forever.
    if (store.error) count.textContent = `The thread list could not be loaded: ${store.error}`;
    count.classList.toggle("error", Boolean(store.error));
    empty.hidden = total > 0 || !store.complete;
    empty.textContent = "No threads yet. Sessions of Codex, Claude Code, OpenCode and Gemini CLI appear here as soon as they are written.";
  }

  let frame = 0;
  const onChange = () => {
    if (!frame) frame = requestAnimationFrame(() => { frame = 0; rebuild(); });
  };
  store.addEventListener("change", onChange);
  rebuild();
  // Relative times age: repaint the visible rows now and then.
  const tick = setInterval(() => { list.invalidateAll(); list.paint(); }, 60000);
  scroller.focus({ preventScroll: true });

  return {
    unmount() {
      cancelAnimationFrame(frame);
      clearInterval(tick);
      store.removeEventListener("change", onChange);
      list.destroy();
    },
    list,
  };
}
