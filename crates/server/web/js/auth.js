// The access token in the browser.
//
// * `tinyvex serve` prints http://127.0.0.1:8787/#token=<token>. The
//   fragment is never sent to the server; the page reads it, keeps the token
//   in sessionStorage (this tab only, gone when the tab closes) and removes
//   it from the address bar and the history entry with history.replaceState.
// * Or the user pastes it into the sign-in form.
// * It is checked with GET /auth/check carrying an Authorization header (not
//   a URL), then presented on the WebSocket as a subprotocol entry.

const KEY = "tinyvex.token";
const TOKEN_CHARS = /^[A-Za-z0-9._~+-]{8,256}$/;

/** The token from `#token=...`, removed from the address bar; or null. */
export function takeTokenFromFragment() {
  const m = /^#token=([^&]*)(?:&(.*))?$/.exec(location.hash);
  if (!m) return null;
  const rest = m[2] ? "#" + m[2] : "#/";
  history.replaceState(null, "", location.pathname + location.search + rest);
  const token = decodeURIComponent(m[1]).trim();
  return looksLikeToken(token) ? token : null;
}

export function storedToken() {
  try { return sessionStorage.getItem(KEY); } catch (_) { return null; }
}

export function storeToken(token) {
  try { sessionStorage.setItem(KEY, token); } catch (_) { /* private mode: memory only */ }
}

export function forgetToken() {
  try { sessionStorage.removeItem(KEY); } catch (_) { /* nothing stored */ }
}

export function looksLikeToken(token) {
  return TOKEN_CHARS.test(token);
}

/** "ok", "refused" (401/403) or "unreachable". */
export async function checkToken(token) {
  try {
    const r = await fetch("/auth/check", {
      headers: { Authorization: "Bearer " + token },
      cache: "no-store",
    });
    if (r.ok) return "ok";
    return r.status === 401 || r.status === 403 ? "refused" : "unreachable";
  } catch (_) {
    return "unreachable";
  }
}
