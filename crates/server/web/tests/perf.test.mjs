// The web UI stays responsive on a large store: 10,000 threads and one
// thread of 50,000 items. Checks that lists are virtualized (a bounded
// number of rows in the DOM) and that scrolling, filtering and paging
// render within generous time budgets measured in the browser. The budgets
// catch a freeze (an O(n) DOM, a paging cascade), not small regressions.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  startServer, ingest, launchBrowser, newPage, screenshot, waitFor, freePort, tempDir, removeTempDirs,
  codex, writeCodexSession, sessionId,
} from "./harness.mjs";

const THREADS = 10000;
const BIG_ITEMS = 50000;
const BIG = sessionId(1, "03c40060-37ef-78f2-80e0");
const MAX_DOM_ROWS = 200;
// Generous: a debug server and a shared 2-core machine.
const SCROLL_BUDGET_MS = 1500;
const PAGE_BUDGET_MS = 8000;

let server, browser, page;
const problems = [];
const figures = {};

before(async () => {
  const home = tempDir("perf-home");
  const data = tempDir("perf-data");
  for (let i = 0; i < THREADS; i++) {
    const id = sessionId(i, "02b30050-27df-78f2-80e0");
    writeCodexSession(home, id, [
      codex.meta(id, `/work/project-${i % 40}`),
      codex.user(`thread number ${i}: do task ${i}`),
      codex.assistant(`done with ${i}`),
    ], `2026/01/${String(1 + (i % 28)).padStart(2, "0")}`);
  }
  const records = [codex.meta(BIG, "/work/big")];
  for (let i = 0; i < BIG_ITEMS / 2; i++) {
    records.push(codex.user(`question ${i}`));
    records.push(codex.assistant(`answer ${i} with some **markdown** and \`code\``));
  }
  writeCodexSession(home, BIG, records, "2026/02/01");
  await ingest({ home, data });
  server = await startServer({ home, data, port: await freePort(), rescanEvery: 30 });
  browser = await launchBrowser();
  ({ page } = await newPage(browser, problems));
});

after(async () => {
  console.log(`figures: ${JSON.stringify(figures)}`);
  await browser?.close();
  await server?.stop();
  removeTempDirs();
});

/** Scroll the element to `top` and resolve with the ms until the rows there are painted. */
function timedScroll(selector, fraction) {
  return page.evaluate(async ([selector, fraction]) => {
    const s = document.querySelector(selector);
    const start = performance.now();
    s.scrollTop = fraction * (s.scrollHeight - s.clientHeight);
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const rect = s.getBoundingClientRect();
    const hit = document.elementFromPoint(rect.left + rect.width / 2, rect.top + rect.height / 2);
    return { ms: performance.now() - start, painted: !!hit?.closest(".vrow"), rows: s.querySelectorAll(".vrow").length };
  }, [selector, fraction]);
}

test("10,000 threads: all pages load, the list is virtualized, scrolling and filtering stay fast", async () => {
  const start = Date.now();
  await page.goto(server.openUrl);
  await waitFor(() => page.evaluate((n) => window.tinyvex.store?.complete && window.tinyvex.store.threads.size === n, THREADS + 1),
    120000, "every thread loaded");
  figures.threads_loaded_ms = Date.now() - start;
  await page.locator("a.thread-row").first().waitFor();
  let worst = 0;
  for (const fraction of [0.25, 0.5, 0.75, 1, 0.1, 0]) {
    const r = await timedScroll(".thread-list", fraction);
    assert.ok(r.painted, `rows painted at ${fraction}`);
    assert.ok(r.rows <= MAX_DOM_ROWS, `${r.rows} rows in the DOM`);
    worst = Math.max(worst, r.ms);
  }
  figures.list_scroll_worst_ms = Math.round(worst);
  assert.ok(worst < SCROLL_BUDGET_MS, `a scroll took ${worst} ms`);
  const filterStart = Date.now();
  await page.locator(".threads-view input[type=search]").fill("number 9999:");
  await waitFor(async () => (await page.locator("a.thread-row").count()) === 1, 10000, "one thread left");
  figures.filter_ms = Date.now() - filterStart;
  await screenshot(page, "08-perf-10k-threads-filtered");
  await page.locator(".threads-view input[type=search]").fill("");
  await screenshot(page, "08-perf-10k-threads");
});

test("a 50,000-item thread opens at its end and pages backwards with a steady view", async () => {
  const start = Date.now();
  await page.goto(`${server.url}#/thread/codex-${BIG}`);
  await page.locator(".item-assistant", { hasText: `answer ${BIG_ITEMS / 2 - 1} ` }).waitFor({ timeout: 30000 });
  figures.big_thread_open_ms = Date.now() - start;
  assert.match(await page.locator(".thread-head").textContent(), /50,000 items/);
  for (let round = 0; round < 5; round++) {
    // Scroll to the top: the gap row above the oldest loaded item loads the
    // page before it; the oldest item must stay where it was on screen.
    const before = await page.evaluate(() => {
      const s = document.querySelector(".items");
      const v = window.tinyvex.view;
      const oldest = v.win.items[0].id;
      s.scrollTop = 0;
      return { size: v.win.size, id: oldest, t: performance.now() };
    });
    const after = await waitFor(() => page.evaluate((b) => {
      const v = window.tinyvex.view;
      if (v.win.size <= b.size) return null;
      const s = document.querySelector(".items");
      const el = document.querySelector(`.item[data-id="${CSS.escape(b.id)}"]`);
      return {
        size: v.win.size, ms: performance.now() - b.t, scrollTop: s.scrollTop,
        top: el ? el.getBoundingClientRect().top - s.getBoundingClientRect().top : null,
        rows: s.querySelectorAll(".vrow").length,
      };
    }, before), PAGE_BUDGET_MS, `older page ${round}`);
    assert.ok(after.ms < PAGE_BUDGET_MS, `page ${round} took ${after.ms} ms`);
    assert.ok(after.rows <= MAX_DOM_ROWS, `${after.rows} rows in the DOM`);
    assert.ok(after.scrollTop > 0 && after.top !== null && after.top >= 0 && after.top < 150,
      `the formerly oldest item should stay at the top of the view: ${JSON.stringify(after)}`);
    figures[`older_page_${round}_ms`] = Math.round(after.ms);
    // One page per scroll: no cascade of loads while the view stays put.
    await page.waitForTimeout(300);
    const size = await page.evaluate(() => window.tinyvex.view.win.size);
    assert.equal(size, after.size, "loading stopped after one page");
  }
  let worst = 0;
  for (const fraction of [0.5, 0.1, 0.9, 1]) {
    const r = await timedScroll(".items", fraction);
    assert.ok(r.painted && r.rows <= MAX_DOM_ROWS, JSON.stringify(r));
    worst = Math.max(worst, r.ms);
  }
  figures.thread_scroll_worst_ms = Math.round(worst);
  assert.ok(worst < SCROLL_BUDGET_MS, `a scroll took ${worst} ms`);
  await screenshot(page, "09-perf-50k-items");
  assert.deepEqual(problems, []);
});
