// The page: sign-in, the connection indicator, and a hash router over the
// views (#/ threads, #/thread/<id>, #/search?q=..., #/status).

import { clear } from "./dom.js";
import { RpcClient } from "./rpc.js";
import { takeTokenFromFragment, storedToken, storeToken, forgetToken, checkToken, looksLikeToken } from "./auth.js";
import { ThreadStore } from "./threadlist.js";
import { mountThreads } from "./views/threads.js";
import { mountThread } from "./views/thread.js";
import { mountSearch } from "./views/search.js";
import { mountStatus } from "./views/status.js";

const main = document.getElementById("main");
const conn = document.getElementById("conn");
const signin = document.getElementById("signin");
const signinForm = document.getElementById("signin-form");
const signinError = document.getElementById("signin-error");
const tokenInput = document.getElementById("token-input");

let rpc = null;
let store = null;
let view = null;

// Tests and curious people: window.tinyvex.rpc.stats, .view.list.
window.tinyvex = { get rpc() { return rpc; }, get view() { return view; }, get store() { return store; } };

const STATE_TEXT = {
  connecting: "connecting…",
  open: "live",
  reconnecting: "disconnected, reconnecting…",
  "signed-out": "signed out",
  stopped: "stopped",
};

function showState(state, detail = {}) {
  conn.dataset.state = state;
  let text = STATE_TEXT[state] || state;
  if (state === "reconnecting" && detail.delay) text = `disconnected, retrying in ${(detail.delay / 1000).toFixed(1)} s`;
  conn.textContent = text;
  document.body.classList.toggle("offline", state === "reconnecting");
}

function showSignin(message = "") {
  signin.hidden = false;
  document.body.classList.add("signed-out");
  signinError.textContent = message;
  signinError.hidden = !message;
  tokenInput.value = "";
  tokenInput.focus();
}

signinForm.addEventListener("submit", async (e) => {
  e.preventDefault();
  const token = tokenInput.value.trim();
  if (!looksLikeToken(token)) {
    showSignin("That does not look like a token: `tinyvex token` prints it.");
    return;
  }
  const verdict = await checkToken(token);
  if (verdict === "ok") {
    storeToken(token);
    start(token);
  } else {
    showSignin(verdict === "refused" ? "The server refused this token." : "The server is not reachable.");
  }
});

document.getElementById("signout").addEventListener("click", () => {
  forgetToken();
  stop();
  showSignin();
});

function stop() {
  if (view) { view.unmount(); view = null; }
  if (rpc) { rpc.stop(); rpc = null; }
  store = null;
  clear(main);
}

function start(token) {
  stop();
  signin.hidden = true;
  document.body.classList.remove("signed-out");
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  rpc = new RpcClient(`${scheme}//${location.host}/ws`, token);
  rpc.addEventListener("state", (e) => showState(e.detail.state, e.detail));
  rpc.addEventListener("authfailed", () => {
    forgetToken();
    stop();
    showSignin("The server refused the stored token (was it changed?). Paste the current one.");
  });
  store = new ThreadStore(rpc);
  rpc.start();
  store.start();
  route();
}

/** "#/thread/ID?item=X" -> {path: ["thread", "ID"], params: {item: "X"}}. */
function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = raw.split("?");
  const params = Object.fromEntries(new URLSearchParams(query));
  return { path: path.split("/").filter(Boolean).map(decodeURIComponent), params };
}

function route() {
  if (!rpc) return;
  const { path, params } = parseHash();
  if (view) { view.unmount(); view = null; }
  const name = path[0] || "threads";
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.dataset.nav === name);
  if (name === "thread" && path[1]) {
    document.title = "Thread · Tinyvex";
    const focusSeq = params.seq !== undefined ? Number(params.seq) : undefined;
    view = mountThread(main, { rpc, threadId: path[1], focusItem: params.item, focusSeq });
  } else if (name === "search") {
    document.title = "Search · Tinyvex";
    view = mountSearch(main, {
      rpc,
      params,
      setParams(p) {
        const q = new URLSearchParams(p).toString();
        history.replaceState(null, "", `#/search${q ? "?" + q : ""}`);
      },
    });
  } else if (name === "status") {
    document.title = "Status · Tinyvex";
    view = mountStatus(main, { rpc });
  } else {
    document.title = "Tinyvex";
    view = mountThreads(main, { store });
  }
}

window.addEventListener("hashchange", () => {
  // A token pasted into the address bar of an open page.
  const token = takeTokenFromFragment();
  if (token) { storeToken(token); start(token); return; }
  route();
});

const fromFragment = takeTokenFromFragment();
if (fromFragment) storeToken(fromFragment);
const token = fromFragment || storedToken();
if (token) start(token); else showSignin();
// Visible to tests: the page has wired itself up.
document.body.dataset.ready = "true";
