// End-to-end tests of the web UI in headless Chromium against a real
// `tinyvex serve`: sign in (URL fragment, pasted token), the thread list,
// a thread with a tool call's output, search, live growth of a session file,
// reconnect after a server restart, untrusted text rendered as text, the
// status page and its controls. Screenshots go to target/web-artifacts/.
//
// Run by `cargo test -p tinyvex --test it web_ui` (which sets TINYVEX_BIN).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import {
  startServer, launchBrowser, newPage, screenshot, waitFor, freePort, tempDir, removeTempDirs, sleep,
  codex, writeCodexSession, appendRecords, sessionId,
} from "./harness.mjs";

const WAIT = 20000;
const WORK = sessionId(1);
const EVIL = sessionId(2);
const LIVE = sessionId(3);
const XSS_USER = "<script>alert(1)</script> and <img src=x onerror=alert(2)>";
const XSS_ASSISTANT = "[click me](javascript:alert(3)) <b>not bold</b> <iframe src=\"javascript:alert(4)\"></iframe>";

let home, data, port, server, browser, page, liveFile;
const problems = [];
const requested = [];

before(async () => {
  home = tempDir("home");
  data = tempDir("data");
  port = await freePort();
  writeCodexSession(home, WORK, [
    codex.meta(WORK, "/work/app"),
    codex.user("Please fix the **webhook signature** check"),
    codex.reasoning("**Looking at the handler**\n\nThe HMAC is compared with `==`."),
    codex.plan("p1", "Fix it in three steps", [
      { step: "Read the handler", status: "completed" },
      { step: "Compare in constant time", status: "in_progress" },
      { step: "Run the tests", status: "pending" },
    ]),
    codex.shell("c1", "cargo test -p webhooks"),
    codex.output("c1", "running 3 tests\ntest signature_ok ... ok\nWEBHOOK_OUTPUT_MARKER", 0),
    codex.shell("c2", "grep -rn secret src | head"),
    codex.output("c2", "", 1),
    codex.assistant("Fixed. The check now uses `constant_time_eq`:\n\n```rust\nfn verify(sig: &[u8], mac: &[u8]) -> bool {\n    // constant time\n    constant_time_eq(sig, mac)\n}\n```\n\n- [x] handler\n- [ ] docs\n\nSee <https://example.com/docs>."),
    codex.tokens(12000, 345),
  ]);
  writeCodexSession(home, EVIL, [codex.meta(EVIL, "/work/evil"), codex.user(XSS_USER), codex.assistant(XSS_ASSISTANT)]);
  liveFile = writeCodexSession(home, LIVE, [codex.meta(LIVE, "/work/live"), codex.user("a session that grows")]);
  copyFixtures(home);
  server = await startServer({ home, data, port });
  browser = await launchBrowser();
  ({ page } = await newPage(browser, problems));
  page.on("request", (r) => requested.push(r.url()));
  page.on("websocket", (ws) => requested.push(ws.url()));
});

after(async () => {
  await browser?.close();
  await server?.stop();
  removeTempDirs();
});

/** Real sessions of other agents, for the screenshots; the tests do not depend on them. */
function copyFixtures(home) {
  const root = process.env.TINYVEX_FIXTURES;
  if (!root || !fs.existsSync(root)) {
    console.log("SKIPPED fixture copies: TINYVEX_FIXTURES not found (the tests use their own sessions)");
    return;
  }
  const claude = path.join(root, "claude", "projects");
  if (fs.existsSync(claude)) fs.cpSync(claude, path.join(home, ".claude", "projects"), { recursive: true });
  const codexDir = path.join(root, "codex");
  const target = path.join(home, ".codex", "sessions", "2025", "fixtures");
  fs.mkdirSync(target, { recursive: true });
  for (const f of fs.readdirSync(codexDir).filter((f) => f.startsWith("rollout-") && f.endsWith(".jsonl"))) {
    fs.copyFileSync(path.join(codexDir, f), path.join(target, f));
  }
}

const threadRow = (id) => page.locator(`a.thread-row[data-thread="codex-${id}"]`);
const connState = () => page.locator("#conn").getAttribute("data-state");

test("signs in with the token in the URL fragment, which leaves the address bar", async () => {
  await page.goto(server.openUrl);
  await threadRow(WORK).waitFor({ timeout: WAIT });
  assert.ok(!page.url().includes(server.token), `token still in the address bar: ${page.url()}`);
  const stored = await page.evaluate(() => sessionStorage.getItem("tinyvex.token"));
  assert.equal(stored, server.token);
  await waitFor(async () => (await connState()) === "open", WAIT, "the live indicator");
  await screenshot(page, "01-threads");
});

test("lists threads grouped by project, with provider badges, titles and times", async () => {
  const groups = await page.locator(".group .group-path").allTextContents();
  assert.ok(groups.includes("/work/app") && groups.includes("/work/evil"), `groups: ${groups}`);
  const row = threadRow(WORK);
  assert.equal(await row.locator(".badge").textContent(), "codex");
  assert.match(await row.locator(".title").textContent(), /Please fix the \*\*webhook signature\*\* check/);
  assert.match(await row.locator("time").textContent(), /ago|just now/);
  // Collapsing a project hides its threads.
  await page.locator(".group", { hasText: "/work/evil" }).click();
  await waitFor(async () => (await threadRow(EVIL).count()) === 0, WAIT, "collapsed group");
  await page.locator(".group", { hasText: "/work/evil" }).click();
  await threadRow(EVIL).waitFor({ timeout: WAIT });
});

test("opens a thread: messages, reasoning collapsed, tool calls with output and exit code, plan, usage", async () => {
  await threadRow(WORK).click();
  const output = page.locator(".item-tool_call pre.output", { hasText: "WEBHOOK_OUTPUT_MARKER" });
  await output.waitFor({ timeout: WAIT });
  assert.match(await page.locator(".item-tool_call pre.command").first().textContent(), /cargo test -p webhooks/);
  assert.equal(await page.locator(".item-tool_call .exit-ok").first().textContent(), "exit 0");
  assert.equal(await page.locator(".item-tool_call .exit-fail").first().textContent(), "exit 1");
  assert.equal(await page.locator(".item-reasoning details").getAttribute("open"), null, "reasoning starts collapsed");
  const steps = await page.locator(".plan .step .step-text").allTextContents();
  assert.deepEqual(steps, ["Read the handler", "Compare in constant time", "Run the tests"]);
  assert.equal(await page.locator(".plan .step-completed").count(), 1);
  // Markdown: bold, a highlighted Rust block, a task list, a safe link.
  assert.equal(await page.locator(".item-user strong").textContent(), "webhook signature");
  assert.ok(await page.locator(".item-assistant pre code .tok-keyword").count() > 0, "code is highlighted");
  assert.equal(await page.locator(".item-assistant li.task input[type=checkbox]").count(), 2);
  assert.equal(await page.locator(".item-assistant a").getAttribute("href"), "https://example.com/docs");
  assert.match(await page.locator(".item-usage").textContent(), /in 12,000.*out 345/);
  assert.match(await page.locator(".thread-head").textContent(), /12,345 tokens in thread/);
  await screenshot(page, "02-thread");
});

test("searches with filters and opens a hit at its item", async () => {
  await page.goto(`${server.url}#/search`);
  await page.locator(".search-form input[type=search]").fill("WEBHOOK_OUTPUT_MARKER");
  await page.locator("select[name=provider]").selectOption("codex");
  await page.locator("select[name=kind]").selectOption("tool");
  const hit = page.locator(".hit", { hasText: "WEBHOOK_OUTPUT_MARKER" });
  await hit.waitFor({ timeout: WAIT });
  assert.equal(await hit.locator("mark").first().textContent(), "WEBHOOK_OUTPUT_MARKER");
  assert.match(await page.locator(".search-summary").textContent(), /provider:codex kind:tool/);
  // A filter that excludes it.
  await page.locator("select[name=provider]").selectOption("claude");
  await waitFor(async () => /^0 hits/.test(await page.locator(".search-summary").textContent()), WAIT, "no hits for claude");
  await page.locator("select[name=provider]").selectOption("codex");
  await hit.waitFor({ timeout: WAIT });
  await screenshot(page, "03-search");
  await hit.locator("a").click();
  await page.locator(".item.focus pre.output", { hasText: "WEBHOOK_OUTPUT_MARKER" }).waitFor({ timeout: WAIT });
});

test("a live search shows a match as soon as an agent writes it", async () => {
  await page.goto(`${server.url}#/search?q=zebracorn`);
  await waitFor(async () => /^0 hits/.test(await page.locator(".search-summary").textContent()), WAIT, "no hits yet");
  appendRecords(liveFile, [codex.user("the zebracorn appears")]);
  const first = page.locator(".hit.fresh", { hasText: "the zebracorn appears" });
  await first.waitFor({ timeout: WAIT });
  // A later match goes on top, and the hit already shown keeps its element
  // (a delivery redraws only the hits it carries).
  const firstEl = await first.elementHandle();
  appendRecords(liveFile, [codex.user("a second zebracorn")]);
  await page.locator(".hit.fresh", { hasText: "a second zebracorn" }).waitFor({ timeout: WAIT });
  const order = await page.locator(".hit").allTextContents();
  assert.equal(order.length, 2);
  assert.match(order[0], /a second zebracorn/);
  assert.equal(await firstEl.evaluate((el) => el.isConnected), true, "the first hit was redrawn");
});

test("a session being written appears and grows without a reload", async () => {
  await page.goto(`${server.url}#/thread/codex-${LIVE}`);
  await page.locator(".item-user", { hasText: "a session that grows" }).waitFor({ timeout: WAIT });
  const reloads = await page.evaluate(() => performance.getEntriesByType("navigation").length);
  // The header's button stays the same element while deliveries redraw the
  // header's facts: a click on it is not lost while an agent writes.
  const newest = await page.locator(".thread-actions button", { hasText: "Newest" }).elementHandle();
  const loadedBefore = await page.locator(".thread-actions").textContent();
  for (let i = 1; i <= 3; i++) {
    appendRecords(liveFile, [codex.user(`live line ${i}`), codex.assistant(`live answer ${i}`)]);
    await page.locator(".item-assistant", { hasText: `live answer ${i}` }).waitFor({ timeout: WAIT });
  }
  // The deliveries did redraw the header (its loaded count grew by 6).
  const count = (text) => Number(/(\d+) of \d+ loaded/.exec(text)?.[1]);
  assert.equal(count(await page.locator(".thread-actions").textContent()), count(loadedBefore) + 6);
  assert.equal(await newest.evaluate((el) => el.isConnected), true, "the Newest button was rebuilt");
  // A brand-new session shows up in the list, live.
  await page.goto(`${server.url}#/`);
  const fresh = sessionId(4);
  writeCodexSession(home, fresh, [codex.meta(fresh, "/work/app"), codex.user("brand new session")], "2026/01/02");
  await threadRow(fresh).waitFor({ timeout: WAIT });
  assert.equal(await page.evaluate(() => performance.getEntriesByType("navigation").length), reloads);
  await screenshot(page, "04-live");
});

test("a thread that changed while its project was collapsed shows its new state when expanded", async () => {
  await page.goto(`${server.url}#/`);
  const row = threadRow(LIVE);
  await row.waitFor({ timeout: WAIT });
  const items = async () => Number((await row.locator(".items").textContent()).replace(/\D/g, ""));
  const before = await items();
  const group = page.locator(".group", { hasText: "/work/live" });
  await group.click();
  await waitFor(async () => (await row.count()) === 0, WAIT, "collapsed group");
  appendRecords(liveFile, [codex.user("while collapsed"), codex.assistant("answer while collapsed")]);
  // A delivery takes milliseconds; the list's own repaint of every row
  // comes only once a minute, so a stale row would still show after this.
  await sleep(3000);
  await group.click();
  await row.waitFor({ timeout: WAIT });
  await waitFor(async () => (await items()) === before + 2, 5000, `${before + 2} items on the expanded row`);
});

test("reconnects after the server restarts and catches up from its revision", async () => {
  await page.goto(`${server.url}#/thread/codex-${LIVE}`);
  await page.locator(".item-assistant", { hasText: "live answer 3" }).waitFor({ timeout: WAIT });
  const before = await page.evaluate(() => ({ ...window.tinyvex.rpc.stats }));
  await server.stop("SIGKILL");
  await waitFor(async () => (await connState()) === "reconnecting", WAIT, "the disconnected indicator");
  assert.match(await page.locator("#conn").textContent(), /disconnected/);
  await screenshot(page, "05-disconnected");
  appendRecords(liveFile, [codex.user("written while the server was down")]);
  await sleep(300);
  server = await startServer({ home, data, port });
  await waitFor(async () => (await connState()) === "open", WAIT, "the live indicator after the restart");
  await page.locator(".item-user", { hasText: "written while the server was down" }).waitFor({ timeout: WAIT });
  appendRecords(liveFile, [codex.user("written after the restart")]);
  await page.locator(".item-user", { hasText: "written after the restart" }).waitFor({ timeout: WAIT });
  const stats = await page.evaluate(() => ({ ...window.tinyvex.rpc.stats }));
  assert.ok(stats.connects > before.connects, "connected again");
  assert.ok(stats.resumed > before.resumed, `subscriptions resumed with since: ${JSON.stringify(stats)}`);
  assert.equal(stats.resnapshots, before.resnapshots, "no subscription fell back to a snapshot");
  // Every item is there once.
  const texts = await page.locator(".item-user .markdown").allTextContents();
  assert.equal(texts.filter((t) => t === "written while the server was down").length, 1);
});

test("session text is shown as text: no script, no handler, no javascript: link", async () => {
  await page.goto(`${server.url}#/thread/codex-${EVIL}`);
  const user = page.locator(".item-user .markdown");
  await user.waitFor({ timeout: WAIT });
  assert.equal(await user.textContent(), XSS_USER);
  const assistant = page.locator(".item-assistant .markdown");
  assert.match(await assistant.textContent(), /click me <b>not bold<\/b> <iframe src="javascript:alert\(4\)"><\/iframe>/);
  const found = await page.evaluate(() => ({
    scripts: document.querySelectorAll("main script").length,
    imgs: document.querySelectorAll("main img").length,
    iframes: document.querySelectorAll("iframe").length,
    bold: document.querySelectorAll("main b").length,
    jsLinks: [...document.querySelectorAll("a")].filter((a) => !/^(https?:|mailto:|#)/.test(a.getAttribute("href") || "#")).length,
    handlers: [...document.querySelectorAll("main *")].filter((e) => [...e.attributes].some((a) => a.name.startsWith("on"))).length,
  }));
  assert.deepEqual(found, { scripts: 0, imgs: 0, iframes: 0, bold: 0, jsLinks: 0, handlers: 0 });
  await screenshot(page, "06-untrusted-text");
  await page.goto(`${server.url}#/`);
  assert.equal(await threadRow(EVIL).locator(".title").textContent(), XSS_USER);
  await sleep(300);
  assert.deepEqual(problems, [], "no dialog, page error or CSP violation");
});

test("status page: figures per provider, provider switch, two-way, rescan and backfill with progress", async () => {
  await page.goto(`${server.url}#/status`);
  const codexRow = page.locator("tr[data-provider=codex]");
  await codexRow.waitFor({ timeout: WAIT });
  assert.ok(Number((await codexRow.locator("td.num").nth(1).textContent()).replace(/,/g, "")) >= 4, "codex threads counted");
  // A checkbox shows the click at once: the server's status says whether
  // the control took effect.
  const serverStatus = () => page.evaluate(() => window.tinyvex.rpc.call("status"));
  const geminiOnServer = async () => (await serverStatus()).providers.find((p) => p.provider === "gemini").watch.enabled;
  const twoWayOnServer = async () => (await serverStatus()).settings.two_way;
  const gemini = page.locator("tr[data-provider=gemini] input[type=checkbox]");
  await gemini.uncheck();
  await waitFor(async () => (await geminiOnServer()) === false, WAIT, "gemini disabled on the server");
  assert.equal(await gemini.isChecked(), false);
  await gemini.check();
  await waitFor(async () => (await geminiOnServer()) === true, WAIT, "gemini enabled again on the server");
  assert.equal(await gemini.isChecked(), true);
  await page.getByLabel("Two-way").check();
  await waitFor(async () => (await twoWayOnServer()) === "true", WAIT, "two-way on on the server");
  await page.getByRole("button", { name: "Rescan now" }).click();
  await page.locator(".job[data-kind=rescan]").waitFor({ timeout: WAIT });
  await page.getByRole("button", { name: "Backfill all" }).click();
  const job = page.locator(".job[data-kind=backfill][data-state=done]");
  await job.waitFor({ timeout: WAIT });
  assert.equal(await job.locator("progress").getAttribute("value"), "1");
  await page.getByLabel("Two-way").uncheck();
  await waitFor(async () => (await twoWayOnServer()) === "false", WAIT, "two-way off on the server");
  assert.equal(await page.getByLabel("Two-way").isChecked(), false);
  await screenshot(page, "07-status");
});

test("status page: pushes update figures, errors and jobs in place, so their text can be selected", async () => {
  await page.goto(`${server.url}#/status`);
  const bad = sessionId(5);
  const badFile = writeCodexSession(home, bad, [codex.meta(bad, "/work/bad"), codex.user("before the bad line")], "2026/01/03");
  fs.appendFileSync(badFile, "{this is not json\n");
  // The codex row shows this file's error (fixtures may have shown others before).
  await page.locator("tr[data-provider=codex] .last-error", { hasText: bad }).waitFor({ timeout: WAIT });
  const errorText = page.locator("tr[data-provider=codex] .error-text");
  await page.getByRole("button", { name: "Rescan now" }).click();
  await page.locator(".job[data-kind=rescan][data-state=done]").first().waitFor({ timeout: WAIT });
  const items = page.locator(".fact-box", { hasText: "items" }).locator(".fact-value");
  const [errorEl, itemsEl, jobEl] = await Promise.all([
    errorText.elementHandle(), items.elementHandle(), page.locator(".job").first().elementHandle(),
  ]);
  const itemsBefore = await items.textContent();
  appendRecords(liveFile, [codex.user("one more line for the status page")]);
  await waitFor(async () => (await items.textContent()) !== itemsBefore, WAIT, "the items figure updated");
  for (const [name, el] of [["error text", errorEl], ["items figure", itemsEl], ["job row", jobEl]]) {
    assert.equal(await el.evaluate((e) => e.isConnected), true, `the ${name} was redrawn by a push`);
  }
  assert.equal(await page.locator(".fact-box").count(), 10, "one box per figure");
});

test("signs in by pasting the token; a wrong one is refused", async () => {
  const { context, page: fresh } = await newPage(browser, problems);
  fresh.on("request", (r) => requested.push(r.url()));
  await fresh.goto(server.url);
  await fresh.locator("#signin-form").waitFor({ timeout: WAIT });
  await screenshot(fresh, "00-sign-in");
  await fresh.locator("#token-input").fill("0123456789abcdef-wrong");
  await fresh.getByRole("button", { name: "Sign in" }).click();
  await waitFor(async () => /refused/.test(await fresh.locator("#signin-error").textContent()), WAIT, "refusal");
  await fresh.locator("#token-input").fill(server.token);
  await fresh.getByRole("button", { name: "Sign in" }).click();
  await fresh.locator("a.thread-row").first().waitFor({ timeout: WAIT });
  await context.close();
});

test("the token never appears in a URL the browser requested", () => {
  assert.ok(requested.length > 10, "requests were recorded");
  const leaked = requested.filter((u) => u.includes(server.token));
  assert.deepEqual(leaked, []);
  assert.ok(requested.some((u) => u.startsWith(`ws://127.0.0.1:${port}/ws`)), "the page used the WebSocket");
});
