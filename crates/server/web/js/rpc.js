// JSON-RPC 2.0 client of `tinyvex serve` (docs/protocol.md) with live
// subscriptions that survive disconnects: after a reconnect every
// subscription is sent again with `since` (the revision of the last complete
// delivery it applied) and `store_id`, so the server answers with exactly
// the changes that were missed.
//
// Browsers cannot set headers on a WebSocket: the token goes in the
// subprotocol list (`tinyvex.v1`, `tinyvex.token.<token>`), never in the URL.
//
// Events (EventTarget): "state" {detail: {state, attempt, delay}},
// "job" {detail: job progress}, "authfailed".
// States: connecting, open, reconnecting, signed-out, stopped.

import { checkToken } from "./auth.js";

const BACKOFF_FIRST_MS = 250;
const BACKOFF_MAX_MS = 8000;

export class RpcClient extends EventTarget {
  constructor(url, token) {
    super();
    this.url = url;
    this.token = token;
    this.ws = null;
    this.state = "stopped";
    this.nextId = 1;
    this.pending = new Map();   // request id -> {resolve, reject}
    this.waiting = [];          // calls made while not connected
    this.subs = new Set();      // live Subscription objects
    this.byServerId = new Map(); // server subscription id -> Subscription
    this.attempt = 0;
    this.timer = null;
    // Counters for tests and the status line.
    this.stats = { connects: 0, resumed: 0, snapshots: 0, resnapshots: 0, deliveries: 0 };
  }

  start() {
    if (this.state !== "stopped") return;
    this.connect();
  }

  stop() {
    this.setState("stopped");
    clearTimeout(this.timer);
    if (this.ws) { this.ws.onclose = null; this.ws.close(1000, "bye"); this.ws = null; }
    this.failAll(new Error("stopped"));
    this.failWaiting(new Error("stopped"));
  }

  setState(state, extra = {}) {
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: { state, ...extra } }));
  }

  connect() {
    this.setState(this.attempt ? "reconnecting" : "connecting", { attempt: this.attempt });
    let ws;
    try {
      ws = new WebSocket(this.url, ["tinyvex.v1", "tinyvex.token." + this.token]);
    } catch (e) {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.attempt = 0;
      this.stats.connects++;
      this.setState("open");
      for (const sub of this.subs) this.sendSubscribe(sub);
      const waiting = this.waiting;
      this.waiting = [];
      for (const w of waiting) this.send(w);
    };
    ws.onmessage = (e) => this.onMessage(e.data);
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.failAll(new Error("connection lost"));
      this.byServerId.clear();
      for (const sub of this.subs) sub.serverId = null;
      if (this.state === "stopped") return;
      if (!opened) this.checkAuthThenRetry();
      else this.scheduleReconnect();
    };
  }

  /** A socket that never opened: a refused token or a server that is down. */
  async checkAuthThenRetry() {
    // Unreachable or another status: keep trying.
    const refused = (await checkToken(this.token)) === "refused";
    if (this.state === "stopped") return;
    if (refused) {
      this.setState("signed-out");
      this.failWaiting(new Error("signed-out"));
      this.dispatchEvent(new CustomEvent("authfailed"));
    } else {
      this.scheduleReconnect();
    }
  }

  scheduleReconnect() {
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** this.attempt);
    const delay = Math.round(base / 2 + Math.random() * base / 2);
    this.attempt++;
    this.setState("reconnecting", { attempt: this.attempt, delay });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  failAll(error) {
    for (const { reject } of this.pending.values()) reject(error);
    this.pending.clear();
  }

  /** Reject the calls queued for a connection that will not come. */
  failWaiting(error) {
    for (const { reject } of this.waiting) reject(error);
    this.waiting = [];
  }

  /** Call a method; waits for the connection when there is none. */
  call(method, params = {}) {
    return new Promise((resolve, reject) => {
      const request = { method, params, resolve, reject };
      if (this.state === "open") this.send(request);
      else if (this.state === "stopped" || this.state === "signed-out") reject(new Error(this.state));
      else this.waiting.push(request);
    });
  }

  send({ method, params, resolve, reject }) {
    const id = this.nextId++;
    this.pending.set(id, { resolve, reject });
    this.ws.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
  }

  onMessage(text) {
    let m;
    try { m = JSON.parse(text); } catch (_) { return; }
    if (m.id !== undefined && m.id !== null && !m.method) {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (!p) return;
      if (m.error) p.reject(Object.assign(new Error(m.error.message), { code: m.error.code, data: m.error.data }));
      else p.resolve(m.result);
    } else if (m.method === "changes") {
      const sub = this.byServerId.get(m.params.subscription);
      if (sub) sub.deliver(m.params);
    } else if (m.method === "job") {
      this.dispatchEvent(new CustomEvent("job", { detail: m.params }));
    }
  }

  /**
   * Start a live query. `onDelivery(delivery)` gets the first delivery and
   * every later one (see docs/protocol.md "Client algorithm"); `onError(e)`
   * gets a refused subscribe. Returns the Subscription; `close()` ends it.
   */
  subscribe(query, onDelivery, onError = () => {}) {
    const sub = new Subscription(this, query, onDelivery, onError);
    this.subs.add(sub);
    if (this.state === "open") this.sendSubscribe(sub);
    return sub;
  }

  sendSubscribe(sub) {
    const params = { query: sub.query };
    const resuming = sub.revision !== null;
    if (resuming) { params.since = sub.revision; params.store_id = sub.storeId; }
    const generation = ++sub.generation;
    this.call("subscribe", params).then((d) => {
      if (!this.subs.has(sub) || generation !== sub.generation) {
        this.call("unsubscribe", { subscription: d.subscription }).catch(() => {});
        return;
      }
      sub.serverId = d.subscription;
      sub.storeId = d.store_id;
      this.byServerId.set(d.subscription, sub);
      if (resuming && !d.snapshot) this.stats.resumed++;
      if (resuming && d.snapshot) this.stats.resnapshots++;
      if (!resuming) this.stats.snapshots++;
      sub.deliver(d);
    }, (e) => {
      if (e.message !== "connection lost" && this.subs.has(sub)) sub.onError(e);
    });
  }
}

export class Subscription {
  constructor(client, query, onDelivery, onError) {
    this.client = client;
    this.query = query;
    this.onDelivery = onDelivery;
    this.onError = onError;
    this.serverId = null;
    this.storeId = null;
    this.revision = null;  // of the last complete delivery applied
    this.generation = 0;
  }

  deliver(d) {
    this.client.stats.deliveries++;
    this.onDelivery(d);
    if (!d.more) this.revision = d.revision;
  }

  close() {
    this.client.subs.delete(this);
    if (this.serverId !== null) {
      this.client.byServerId.delete(this.serverId);
      if (this.client.state === "open") {
        this.client.call("unsubscribe", { subscription: this.serverId }).catch(() => {});
      }
      this.serverId = null;
    }
  }
}
