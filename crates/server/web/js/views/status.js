// The status page: per-provider figures and errors from a live `status`
// subscription, and the controls: enable/disable a provider, two-way
// write-back, a full rescan, a backfill with a progress bar (`job`
// notifications; the status document's `jobs` after a reload).

import { h, clear, formatInt, formatBytes, relativeTime } from "../dom.js";

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

  async function act(method, params, done) {
    if (busy) return;
    busy = true;
    render();
    try {
      const r = await rpc.call(method, params);
      say(done(r));
    } catch (e) {
      say(`${method} failed: ${e.message}`, true);
    } finally {
      busy = false;
      render();
    }
  }

  function render() {
    if (!status) return;
    const s = status;
    const total = (f) => s.providers.reduce((n, p) => n + (p[f] || 0), 0);
    clear(summary).append(
      fact("revision", formatInt(s.revision)), fact("threads", formatInt(total("threads"))),
      fact("items", formatInt(total("items"))), fact("read", formatBytes(total("bytes_ingested"))),
      fact("errors", formatInt(total("errors"))), fact("clients", formatInt(s.clients)),
      fact("search index at", formatInt(s.search_indexed_revision)),
      fact("failed batches", formatInt(s.failed_batches)), fact("version", s.version),
      fact("up", `${Math.round(s.uptime_ms / 1000)} s`));

    const twoWay = s.settings.two_way === "true";
    clear(controls).append(
      h("button", { type: "button", disabled: busy, onclick: () => act("control.rescan", {}, (r) => `Rescan started (job ${r.job_id})`) }, "Rescan now"),
      h("button", { type: "button", disabled: busy, onclick: () => act("control.backfill", {}, (r) => `Backfill started (job ${r.job_id})`) }, "Backfill all"),
      h("label.switch", h("input", {
        type: "checkbox", checked: twoWay, disabled: busy, "aria-label": "Two-way",
        onchange: (e) => act("control.two_way", { enabled: e.target.checked }, () => `Two-way ${e.target.checked ? "on" : "off"}`),
      }), " Two-way write-back"));

    clear(table).append(h("table",
      h("thead", h("tr", ["agent", "enabled", "files", "threads", "items", "read", "errors", "last error", "watching", ""].map((c) => h("th", c)))),
      h("tbody", s.providers.map(providerRow))));

    const all = new Map(s.jobs.map((j) => [j.job_id, j]));
    for (const [id, j] of live) all.set(id, j);
    const list = [...all.values()].sort((a, b) => b.job_id - a.job_id).slice(0, 16);
    clear(jobs).append(list.length ? h("ul.job-list", list.map(jobRow)) : h("p.dim", "No jobs yet."));
  }

  function providerRow(p) {
    const w = p.watch || {};
    const enabled = w.enabled !== false;
    return h("tr", { dataset: { provider: p.provider } },
      h("td", h(`span.badge.provider-${p.provider}`, p.provider)),
      h("td", h("input", {
        type: "checkbox", checked: enabled, disabled: busy, "aria-label": `${p.provider} enabled`,
        onchange: (e) => act("control.provider", { provider: p.provider, enabled: e.target.checked },
          () => `${p.provider} ${e.target.checked ? "enabled" : "disabled"}`),
      })),
      h("td.num", formatInt(p.files)), h("td.num", formatInt(p.threads)), h("td.num", formatInt(p.items)),
      h("td.num", formatBytes(p.bytes_ingested)),
      h(`td.num${p.errors ? ".bad" : ""}`, formatInt(p.errors)),
      h("td.last-error", p.last_error || w.last_error
        ? h("div", h("div.error-text", p.last_error || w.last_error),
          p.last_error_file && h("div.mono.dim", p.last_error_file),
          p.last_error_at && h("div.dim", relativeTime(p.last_error_at)))
        : h("span.dim", "none")),
      h("td.dim", (w.watched_roots || []).length ? h("span.mono", { title: w.watched_roots.join("\n") }, `${w.watched_roots.length} folder(s)`) : "not watched"),
      h("td", h("button.small", {
        type: "button", disabled: busy || !enabled,
        onclick: () => act("control.backfill", { provider: p.provider }, (r) => `Backfill of ${p.provider} started (job ${r.job_id})`),
      }, "Backfill")));
  }

  function jobRow(j) {
    const fraction = j.bytes_total ? j.bytes_done / j.bytes_total : j.files_total ? j.files_done / j.files_total : j.state === "done" ? 1 : 0;
    const bar = h("progress", { max: "1", value: String(Math.min(1, fraction)) });
    return h(`li.job.job-${j.state}`, { dataset: { job: j.job_id, kind: j.kind, state: j.state } },
      h("span.job-name", `#${j.job_id} ${j.kind}`), bar,
      h("span.job-figures", `${formatInt(j.files_done)}/${formatInt(j.files_total)} files · ${formatBytes(j.bytes_done)}/${formatBytes(j.bytes_total)}`),
      h("span.job-state", j.state), j.error && h("span.error-text", j.error));
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

function fact(name, value) {
  return h("div.fact-box", h("div.fact-value", value), h("div.fact-name", name));
}
