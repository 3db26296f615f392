// Every thread, kept current for the thread list: a live `threads`
// subscription (newest threads, then every changed thread as an upsert),
// plus the rest paged in with `threads.list` (keyset cursor, 1000 a page).
// The subscription starts first, so a thread that changes while pages are
// read arrives through it; a row read from a page never replaces a newer
// one (higher `revision`).
//
// `groupThreads` builds the rows of the list: projects (by working folder),
// newest project first, each followed by its threads, newest first. It is
// pure and tested in Node.

const PAGE = 1000;

export class ThreadStore extends EventTarget {
  constructor(rpc) {
    super();
    this.rpc = rpc;
    this.threads = new Map();
    this.sub = null;
    this.cursor = undefined;   // undefined: not started; null: all pages read
    this.paging = false;
    this.error = null;   // why the subscription was refused, until a delivery arrives
  }

  start() {
    if (this.sub) return;
    this.sub = this.rpc.subscribe({ type: "threads", limit: 200 }, (d) => {
      this.error = null;
      if (d.snapshot && d.reason === "store_changed") {
        this.threads.clear();
        this.cursor = undefined;
      }
      this.upsert(d.threads || []);
      if (!this.complete) this.page();
    }, (e) => { this.error = e.message; this.changed(); });
  }

  upsert(rows) {
    for (const t of rows) {
      const old = this.threads.get(t.id);
      if (!old || old.revision <= t.revision) this.threads.set(t.id, t);
    }
    if (rows.length) this.changed();
  }

  changed() {
    this.dispatchEvent(new Event("change"));
  }

  get complete() {
    return this.cursor === null;
  }

  /** Read the remaining pages, one after the other. */
  async page() {
    if (this.paging) return;
    this.paging = true;
    try {
      while (this.cursor !== null) {
        const params = { limit: PAGE };
        if (this.cursor) params.cursor = this.cursor;
        const r = await this.rpc.call("threads.list", params);
        this.upsert(r.threads);
        this.cursor = r.next_cursor;
      }
      this.changed();
    } catch (e) {
      // Connection lost: the resumed subscription's delivery pages again.
      // Another error: try again in a while.
      if (this.rpc.state === "open") setTimeout(() => this.page(), 2000);
    } finally {
      this.paging = false;
    }
  }
}

/** Newest first: by updated_at (missing last), then id, both descending. */
export function compareThreads(a, b) {
  const ua = a.updated_at || "";
  const ub = b.updated_at || "";
  if (ua !== ub) return ua < ub ? 1 : -1;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/**
 * Rows for the list: {type: "group", key, cwd, count, collapsed} followed by
 * {type: "thread", key, thread} rows (none when the group is collapsed).
 * `filter` is {provider, text}; `collapsed` a Set of cwd keys.
 */
export function groupThreads(threads, { provider = "", text = "" } = {}, collapsed = new Set()) {
  const needle = text.trim().toLowerCase();
  const list = [];
  for (const t of threads) {
    if (provider && t.provider !== provider) continue;
    if (needle && !`${t.title || ""} ${t.cwd || ""} ${t.id}`.toLowerCase().includes(needle)) continue;
    list.push(t);
  }
  list.sort(compareThreads);
  const groups = new Map();
  for (const t of list) {
    const cwd = t.cwd || "";
    let g = groups.get(cwd);
    if (!g) { g = []; groups.set(cwd, g); }
    g.push(t);
  }
  const rows = [];
  for (const [cwd, members] of groups) {
    const isCollapsed = collapsed.has(cwd);
    rows.push({ type: "group", key: `g:${cwd}`, cwd, count: members.length, collapsed: isCollapsed });
    if (!isCollapsed) for (const t of members) rows.push({ type: "thread", key: t.id, thread: t });
  }
  return { rows, shown: list.length };
}
