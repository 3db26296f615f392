// The status page: per-provider figures and errors from a live `status`
// subscription, and the controls: enable/disable a provider, two-way
// write-back, a full rescan, a backfill with a progress bar (`job`
// notifications; the status document's `jobs` after a reload). Everything is
// made once and updated in place: pushes come up to 4 times a second.

import { h, clear, setChildren, setText, formatInt, formatBytes, relativeTime, providerBadge } from "../dom.js";

export function mountStatus(root, { rpc }) {
  const summary = h("div.status-summary");
  const table = h("div.providers");
  const controls = h("div.controls");
  const jobs = h("div.jobs");
  const message = h("div.notice", { hidden: true });
  clear(root).append(h("section.view.status-view",
    h("div.toolbar", h("h1", "Status")), message, summary, controls, h("h2", "Agents"), table, h("h2", "Jobs"), jobs));

  let status = null;
  const live = new Map();   // job_id -> latest job notification
  let busy = false;

  function say(text, error = false) {
    message.hidden = !text;
    message.textContent = text || "";
    message.classList.toggle("error", error);
  }

  /** Run a control; `apply` updates the shown status at once (the next push confirms it). */
  async function act(method, params, done, apply = () => {}) {
    if (busy) return;
    busy = true;
    render();
    try {
      const r = await rpc.call(method, params);
      if (status) apply(status);
      say(done(r));
    } catch (e) {
      say(`${method} failed: ${e.message}`, true);
    } finally {
      busy = false;
      render();
    }
  }

  // Controls and rows are built once and updated in place: a status push
  // (up to 4 a second) must never replace a button under the pointer.
  const rescan = h("button", { type: "button", onclick: () => act("control.rescan", {}, (r) => `Rescan started (job ${r.job_id})`) }, "Rescan now");
  const backfillAll = h("button", { type: "button", onclick: () => act("control.backfill", {}, (r) => `Backfill started (job ${r.job_id})`) }, "Backfill all");
  const twoWay = h("input", {
    type: "checkbox", "aria-label": "Two-way",
    onchange: (e) => {
      const on = e.target.checked;
      act("control.two_way", { enabled: on }, () => `Two-way ${on ? "on" : "off"}`, (s) => { s.settings.two_way = String(on); });
    },
  });
  controls.append(rescan, backfillAll, h("label.switch", twoWay, " Two-way write-back"));
  const tbody = h("tbody");
  table.append(h("table",
    h("thead", h("tr", ["agent", "enabled", "files", "threads", "items", "read", "errors", "last error", "watching", ""].map((c) => h("th", c)))),
    tbody));
  const rows = new Map();   // provider -> {tr, enabled, cells, backfill}

  // The summary's boxes, made once; a push only changes their values.
  const facts = new Map();   // name -> value element
  function setFact(name, value) {
    let el = facts.get(name);
    if (!el) {
      el = h("div.fact-value");
      facts.set(name, el);
      summary.append(h("div.fact-box", el, h("div.fact-name", name)));
    }
    setText(el, value);
  }

  function render() {
    if (!status) return;
    const s = status;
    const total = (f) => s.providers.reduce((n, p) => n + (p[f] || 0), 0);
    setFact("revision", formatInt(s.revision));
    setFact("threads", formatInt(total("threads")));
    setFact("items", formatInt(total("items")));
    setFact("read", formatBytes(total("bytes_ingested")));
    setFact("errors", formatInt(total("errors")));
    setFact("clients", formatInt(s.clients));
    setFact("search index at", formatInt(s.search_indexed_revision));
    setFact("failed batches", formatInt(s.failed_batches));
    setFact("version", s.version);
    setFact("up", `${Math.round(s.uptime_ms / 1000)} s`);
    rescan.disabled = busy;
    backfillAll.disabled = busy;
    twoWay.disabled = busy;
    // While a control runs, its checkbox shows what was asked for.
    if (!busy) twoWay.checked = s.settings.two_way === "true";
    for (const p of s.providers) updateRow(p);

    const all = new Map(s.jobs.map((j) => [j.job_id, j]));
    for (const [id, j] of live) all.set(id, j);
    const list = [...all.values()].sort((a, b) => b.job_id - a.job_id).slice(0, 16);
    if (!list.length) {
      if (!jobs.firstChild || jobs.firstChild === jobList) jobs.replaceChildren(h("p.dim", "No jobs yet."));
      return;
    }
    if (jobs.firstChild !== jobList) jobs.replaceChildren(jobList);
    for (const id of jobRows.keys()) if (!all.has(id)) jobRows.delete(id);
    setChildren(jobList, list.map(updateJob));
  }

  function updateRow(p) {
    let row = rows.get(p.provider);
    if (!row) {
      const cells = Array.from({ length: 7 }, () => h("td"));
      const enabled = h("input", {
        type: "checkbox", "aria-label": `${p.provider} enabled`,
        onchange: (e) => {
          const on = e.target.checked;
          act("control.provider", { provider: p.provider, enabled: on }, () => `${p.provider} ${on ? "enabled" : "disabled"}`,
            (s) => { const v = s.providers.find((x) => x.provider === p.provider); if (v?.watch) v.watch.enabled = on; });
        },
      });
      const backfill = h("button.small", {
        type: "button",
        onclick: () => act("control.backfill", { provider: p.provider }, (r) => `Backfill of ${p.provider} started (job ${r.job_id})`),
      }, "Backfill");
      const tr = h("tr", { dataset: { provider: p.provider } },
        h("td", providerBadge(p.provider)), h("td", enabled),
        cells.slice(0, 5), cells[5], cells[6], h("td", backfill));
      cells.slice(0, 5).forEach((c) => { c.className = "num"; });
      row = { tr, enabled, cells, backfill };
      rows.set(p.provider, row);
      tbody.append(tr);
    }
    const w = p.watch || {};
    const on = w.enabled !== false;
    if (!busy) row.enabled.checked = on;
    row.enabled.disabled = busy;
    row.backfill.disabled = busy || !on;
    const [files, threads, items, read, errors, lastError, watching] = row.cells;
    setText(files, formatInt(p.files));
    setText(threads, formatInt(p.threads));
    setText(items, formatInt(p.items));
    setText(read, formatBytes(p.bytes_ingested));
    setText(errors, formatInt(p.errors));
    errors.classList.toggle("bad", p.errors > 0);
    lastError.className = "last-error";
    // Redrawn only when the error changes, so its text can be selected
    // and copied while pushes arrive; its age is kept current.
    const error = p.last_error || w.last_error;
    const errorKey = error ? JSON.stringify([error, p.last_error_file, p.last_error_at]) : "";
    if (row.errorKey !== errorKey || !lastError.firstChild) {
      row.errorKey = errorKey;
      row.errorAge = p.last_error_at ? h("div.dim") : null;
      clear(lastError).append(error
        ? h("div", h("div.error-text", error), p.last_error_file && h("div.mono.dim", p.last_error_file), row.errorAge)
        : h("span.dim", "none"));
    }
    if (row.errorAge) setText(row.errorAge, relativeTime(p.last_error_at));
    watching.className = "dim";
    const roots = w.watched_roots || [];
    const rootsKey = roots.join("\n");
    if (row.rootsKey !== rootsKey || !watching.firstChild) {
      row.rootsKey = rootsKey;
      clear(watching).append(roots.length ? h("span.mono", { title: rootsKey }, `${roots.length} folder(s)`) : "not watched");
    }
  }

  // Job rows, made once per job and updated in place.
  const jobList = h("ul.job-list");
  const jobRows = new Map();   // job_id -> {li, bar, figures, state, error}

  function updateJob(j) {
    let row = jobRows.get(j.job_id);
    if (!row) {
      row = { bar: h("progress", { max: "1" }), figures: h("span.job-figures"), state: h("span.job-state"), error: h("span.error-text") };
      row.li = h("li.job", { dataset: { job: j.job_id, kind: j.kind } },
        h("span.job-name", `#${j.job_id} ${j.kind}`), row.bar, row.figures, row.state, row.error);
      jobRows.set(j.job_id, row);
    }
    const fraction = j.bytes_total ? j.bytes_done / j.bytes_total : j.files_total ? j.files_done / j.files_total : j.state === "done" ? 1 : 0;
    const value = String(Math.min(1, fraction));
    if (row.bar.getAttribute("value") !== value) row.bar.setAttribute("value", value);
    row.li.className = `job job-${j.state}`;
    row.li.dataset.state = j.state;
    setText(row.figures, `${formatInt(j.files_done)}/${formatInt(j.files_total)} files · ${formatBytes(j.bytes_done)}/${formatBytes(j.bytes_total)}`);
    setText(row.state, j.state);
    setText(row.error, j.error || "");
    row.error.hidden = !j.error;
    return row.li;
  }

  const sub = rpc.subscribe({ type: "status" }, (d) => {
    if (d.status) status = d.status;
    render();
  }, (e) => say(e.message, true));
  const onJob = (e) => { live.set(e.detail.job_id, e.detail); render(); };
  rpc.addEventListener("job", onJob);

  return {
    unmount() {
      sub.close();
      rpc.removeEventListener("job", onJob);
    },
  };
}
