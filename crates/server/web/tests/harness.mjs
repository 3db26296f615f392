// Test harness for the web UI's browser tests: a real `tinyvex serve` (the
// built binary, TINYVEX_BIN) over a temp home with session files the tests
// write themselves, and Debian's headless Chromium driven by playwright-core.
//
// Env: TINYVEX_BIN (required: the binary), TINYVEX_CHROMIUM (default
// /usr/bin/chromium), TINYVEX_WEB_ARTIFACTS (screenshots; default
// target/web-artifacts).

import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, "../../../..");
export const artifacts = process.env.TINYVEX_WEB_ARTIFACTS || path.join(repoRoot, "target", "web-artifacts");

export function binary() {
  const bin = process.env.TINYVEX_BIN;
  if (!bin || !fs.existsSync(bin)) {
    throw new Error(`TINYVEX_BIN must name the built tinyvex binary (got ${bin}); run through cargo test -p tinyvex --test it web_ui`);
  }
  return bin;
}

const made = [];

/** A new temp folder, removed by `removeTempDirs` (kept with TINYVEX_KEEP_WEB_TMP=1). */
export function tempDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tinyvex-web-${prefix}-`));
  made.push(dir);
  return dir;
}

export function removeTempDirs() {
  if (process.env.TINYVEX_KEEP_WEB_TMP === "1") {
    console.log(`kept: ${made.join(" ")}`);
    return;
  }
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** A free TCP port on 127.0.0.1 (bound, read, released). */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function serverEnv(home) {
  return {
    PATH: process.env.PATH,
    HOME: home,
    XDG_DATA_HOME: path.join(home, ".local", "share"),
    RUST_LOG: process.env.RUST_LOG || "warn",
    RUST_BACKTRACE: "1",
  };
}

/** `tinyvex ingest` once over `home` into the store in `data`. */
export async function ingest({ home, data }) {
  const child = spawn(binary(), ["--db", path.join(data, "data.sqlite3"), "ingest"], {
    env: serverEnv(home), stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d) => { out += d; });
  child.stderr.on("data", (d) => { out += d; });
  const code = await new Promise((r) => child.once("exit", r));
  if (code !== 0) throw new Error(`tinyvex ingest exited ${code}:\n${out}`);
  return out;
}

/**
 * Start `tinyvex serve` on 127.0.0.1:port with HOME at `home` and the store
 * in `data`. Resolves once it printed its address and the sign-in URL.
 */
export async function startServer({ home, data, port, rescanEvery = 1 }) {
  const env = serverEnv(home);
  const child = spawn(binary(), [
    "--db", path.join(data, "data.sqlite3"), "serve",
    "--listen", `127.0.0.1:${port}`, "--rescan-every", String(rescanEvery),
  ], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => { stdout += d; });
  child.stderr.on("data", (d) => { stderr += d; });
  const started = Date.now();
  while (!/^open: (http:\/\/\S+)$/m.test(stderr)) {
    if (child.exitCode !== null) throw new Error(`tinyvex serve exited ${child.exitCode}:\n${stderr}`);
    if (Date.now() - started > 30000) {
      child.kill("SIGKILL");
      throw new Error(`tinyvex serve did not print its sign-in URL (open: http://…#token=…) within 30 s; `
        + `is ${binary()} a build of this tree?\n${stdout}\n${stderr}`);
    }
    await sleep(25);
  }
  const openUrl = /^open: (http:\/\/\S+)$/m.exec(stderr)[1];
  const token = /#token=(\S+)$/.exec(openUrl)[1];
  return {
    child, port, openUrl, token,
    url: `http://127.0.0.1:${port}/`,
    output: () => ({ stdout, stderr }),
    async stop(signal = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const done = new Promise((r) => child.once("exit", r));
      child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), 10000);
      await done;
      clearTimeout(timer);
    },
  };
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** Headless Debian Chromium with the flags this machine needs (docs/web-ui.md). */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.TINYVEX_CHROMIUM || "/usr/bin/chromium",
    headless: true,
    // Playwright gives every launch a fresh, empty profile (--user-data-dir
    // in a new temp folder) and removes it on close.
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
}

/** A page that fails the test on a dialog, a page error or a CSP violation. */
export async function newPage(browser, problems) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  page.on("dialog", async (d) => { problems.push(`dialog: ${d.type()} ${d.message()}`); await d.dismiss(); });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && !/WebSocket connection|ERR_CONNECTION_REFUSED|Failed to load resource/.test(m.text())) {
      problems.push(`console error: ${m.text()}`);
    }
  });
  return { context, page };
}

export async function screenshot(page, name) {
  fs.mkdirSync(artifacts, { recursive: true });
  const file = path.join(artifacts, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** Poll `fn` (async, truthy when done) until it passes or `ms` runs out. */
export async function waitFor(fn, ms, what) {
  const start = Date.now();
  let last;
  while (Date.now() - start < ms) {
    try { last = await fn(); if (last) return last; } catch (e) { last = e; }
    await sleep(50);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${last})`);
}

// ---- Codex rollout files (docs/providers/codex.md) ----

const T0 = Date.parse("2026-01-01T00:00:00.000Z");
let clock = 0;
const ts = () => new Date(T0 + 1000 * ++clock).toISOString();

export const codex = {
  meta: (id, cwd) => ({ timestamp: ts(), type: "session_meta", payload: { id, timestamp: ts(), cwd, originator: "test", cli_version: "0.1" } }),
  user: (text) => ({ timestamp: ts(), type: "event_msg", payload: { type: "user_message", message: text } }),
  assistant: (text) => ({ timestamp: ts(), type: "response_item", payload: { type: "message", role: "assistant", content: [{ type: "output_text", text }] } }),
  reasoning: (text) => ({ timestamp: ts(), type: "response_item", payload: { type: "reasoning", summary: [{ type: "summary_text", text }] } }),
  shell: (callId, cmd) => ({ timestamp: ts(), type: "response_item", payload: { type: "function_call", name: "exec_command", arguments: JSON.stringify({ cmd }), call_id: callId } }),
  output: (callId, output, exitCode) => ({ timestamp: ts(), type: "response_item", payload: { type: "function_call_output", call_id: callId, output: `Process exited with code ${exitCode}\nOutput:\n${output}` } }),
  plan: (callId, explanation, plan) => ({ timestamp: ts(), type: "response_item", payload: { type: "function_call", name: "update_plan", arguments: JSON.stringify({ explanation, plan }), call_id: callId } }),
  tokens: (input, output) => ({ timestamp: ts(), type: "event_msg", payload: { type: "token_count", info: {
    total_token_usage: { input_tokens: input, cached_input_tokens: Math.floor(input / 2), output_tokens: output, reasoning_output_tokens: 7, total_tokens: input + output },
    last_token_usage: { input_tokens: input, cached_input_tokens: 0, output_tokens: output, reasoning_output_tokens: 7, total_tokens: input + output },
    model_context_window: 258400 } } }),
};

/** Write a Codex rollout under home; returns its path. */
export function writeCodexSession(home, sessionId, records, day = "2026/01/01") {
  const dir = path.join(home, ".codex", "sessions", ...day.split("/"));
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `rollout-2026-01-01T00-00-00-${sessionId}.jsonl`);
  fs.writeFileSync(file, records.map((r) => JSON.stringify(r) + "\n").join(""));
  return file;
}

export function appendRecords(file, records) {
  fs.appendFileSync(file, records.map((r) => JSON.stringify(r) + "\n").join(""));
}

/** A session id in the shape Codex uses, numbered. */
export function sessionId(n, prefix = "01a20040-17cf-78f2-80e0") {
  return `${prefix}-${String(n).padStart(12, "0")}`;
}
