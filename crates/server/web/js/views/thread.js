// The thread view: header (title, provider, folder, branch, model, counts,
// token totals) and the items in a virtual list. The items come from a live
// `thread` subscription (the last TAIL items, then every new or changed
// item), older pages from `items.list` with `before_seq` when a gap row
// scrolls into view, and pages around an item opened from a search hit.

import { h, clear, providerBadge, relativeTime, formatInt } from "../dom.js";
import { ItemWindow } from "../itemwindow.js";
import { VirtualList } from "../vlist.js";
import { renderItem, estimateItem } from "./item.js";

const TAIL = 200;
const PAGE = 300;
// A gap whose page failed to load is asked again after this long.
const GAP_RETRY_MS = 2000;

export function mountThread(root, { rpc, threadId, focusItem, focusSeq }) {
  const win = new ItemWindow();
  const header = h("header.thread-head", h("h1", "Loading…"));
  // The header's facts are redrawn on every delivery; its controls are made
  // once, so a click on one is never lost to a redraw while an agent writes.
  const facts = h("div.thread-info");
  const loaded = h("span.dim");
  const actions = h("div.thread-actions",
    h("button.link", { type: "button", onclick: () => list.scrollToEnd() }, "Newest ↓"),
    loaded);
  const notice = h("div.notice", { hidden: true });
  const scroller = h("div.scroller.items", { tabindex: "0" });
  clear(root).append(h("section.view.thread-view", header, notice, scroller));

  const expanded = new Set();
  const loading = new Set();
  let thread = null;
  let focused = false;
  let closed = false;

  const list = new VirtualList(scroller, {
    key: (r) => r.key,
    estimate: (r) => (r.type === "gap" ? 48 : estimateItem(r.item)),
    stickToBottom: !focusItem,
    anchorable: (r) => r.type === "item",
    anchorAtTop: true,
    render: (r) => (r.type === "gap" ? renderGap(r) : renderItem(r.item, itemState)),
  });
  const itemState = {
    expanded,
    onToggle(id) {
      if (expanded.has(id)) expanded.delete(id); else expanded.add(id);
      list.invalidate(id);
    },
  };

  function refresh(changedIds = []) {
    for (const id of changedIds) list.invalidate(id);
    list.setRows(win.rows());
    renderHeader();
  }

  function renderGap(row) {
    const el = h("div.gap", { dataset: { gap: row.key } }, "Loading earlier items…");
    // Rendered means near the viewport: fetch what the gap hides.
    queueMicrotask(() => loadGap(row));
    return el;
  }

  async function loadGap(row) {
    if (closed || loading.has(row.key)) return;
    loading.add(row.key);
    try {
      // Scrolling up onto a gap: load the page before the item below it;
      // a gap after the last item (below a search hit): the page after.
      if (row.after) {
        const r = await rpc.call("items.list", { thread: threadId, before_seq: row.after.seq, limit: PAGE });
        win.applyBefore(row.after.seq, r.items, PAGE);
      } else {
        const from = row.before.seq + 1;
        const r = await rpc.call("items.list", { thread: threadId, from_seq: from, limit: PAGE });
        win.applyAfter(from, r.items, PAGE);
      }
      if (!closed) refresh();
      loading.delete(row.key);
      list.invalidate(row.key);
    } catch (e) {
      if (closed) return;
      showNotice(`Could not load items: ${e.message}`);
      // Rendering the gap loads it again: not before a pause, or a server
      // error would be asked again every frame.
      setTimeout(() => {
        loading.delete(row.key);
        if (!closed) list.invalidate(row.key);
      }, GAP_RETRY_MS);
    }
  }

  function showNotice(text) {
    notice.hidden = !text;
    notice.textContent = text || "";
  }

  function renderHeader() {
    if (!thread) return;
    const usage = latestUsage();
    if (facts.parentNode !== header) clear(header).append(facts, actions);
    loaded.textContent = ` ${formatInt(win.size)} of ${formatInt(thread.item_count)} loaded`;
    clear(facts).append(
      h("div.crumbs", h("a", { href: "#/" }, "Threads"), " / ", h("span.mono", thread.cwd || "(no folder)")),
      h("h1", thread.title || thread.id),
      h("div.thread-facts",
        providerBadge(thread.provider),
        thread.git_branch && h("span.fact", `branch ${thread.git_branch}`),
        thread.model && h("span.fact", thread.model),
        h("span.fact", `${formatInt(thread.item_count)} items`),
        h("span.fact", { title: thread.updated_at || "" }, `updated ${relativeTime(thread.updated_at)}`),
        usage && h("span.fact.tokens", `${formatInt(usage.total_tokens)} tokens in thread`),
        thread.source_missing && h("span.fact.warn", "source files gone"),
        h("span.fact.mono.dim", { title: (thread.source_files || []).join("\n") }, thread.id)));
  }

  function latestUsage() {
    for (let i = win.items.length - 1; i >= 0; i--) {
      const it = win.items[i];
      if (it.kind === "usage" && it.data?.thread_total) return it.data.thread_total;
    }
    return null;
  }

  async function focus() {
    if (focused || !focusItem) return;
    focused = true;
    if (focusSeq !== undefined && !win.has(focusSeq)) {
      try {
        const [after, before] = await Promise.all([
          rpc.call("items.list", { thread: threadId, from_seq: focusSeq, limit: PAGE }),
          rpc.call("items.list", { thread: threadId, before_seq: focusSeq, limit: 50 }),
        ]);
        win.applyAfter(focusSeq, after.items, PAGE);
        win.applyBefore(focusSeq, before.items, 50);
        refresh();
      } catch (e) {
        showNotice(`Could not load the item: ${e.message}`);
        return;
      }
    }
    if (list.scrollToKey(focusItem, true)) {
      const el = scroller.querySelector(`[data-key="${CSS.escape(focusItem)}"] .item`);
      if (el) el.classList.add("focus");
    }
  }

  // A snapshot may come in parts (`more`); it replaces the window once whole.
  let snap = null;
  let first = true;
  const sub = rpc.subscribe({ type: "thread", thread: threadId, tail: TAIL }, (d) => {
    if (d.thread) thread = d.thread;
    if (d.snapshot) snap = { items: [], reason: d.reason };
    if (snap) {
      snap.items.push(...(d.items || []));
      if (d.more) return;
      const { items, reason } = snap;
      snap = null;
      win.clear();
      list.invalidateAll();
      win.applyTail(items, TAIL);
      showNotice(reason ? `Reloaded: ${reason.replaceAll("_", " ")}` : "");
      refresh();
      if (first && focusItem) focus();
      else if (first) list.scrollToEnd();
      first = false;
      return;
    }
    refresh(win.upsert(d.items || []));
  }, (e) => {
    showNotice(e.code === -32001 ? `No thread ${threadId}` : e.message);
    header.querySelector("h1").textContent = "Thread not found";
  });

  const tick = setInterval(renderHeader, 30000);
  return {
    unmount() {
      closed = true;
      clearInterval(tick);
      sub.close();
      list.destroy();
    },
    list,
    win,
  };
}
