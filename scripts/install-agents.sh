#!/usr/bin/env bash
# Installs the pinned coding-agent CLIs (package.json / package-lock.json) into
# ./node_modules, so tests can run the real tools (node_modules/.bin/codex, ...),
# and playwright-core for the web UI's browser tests (its browser is Debian's
# chromium, installed by scripts/install-browser.sh).
#
# Idempotent: runs `npm ci` only when node_modules is missing or stale, i.e.
# when the lockfile changed since the last successful install (a stamp with
# the lockfile's hash is kept in node_modules/) or an expected binary is gone.
# Any failure exits non-zero: a missing agent must fail tests, not skip them.
#
# Env: TINYVEX_FORCE_AGENT_INSTALL=1 forces a reinstall.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"

# Binaries that must exist after a successful install.
BINS=(codex claude opencode gemini)
# Packages (no binary needed) that must exist after a successful install.
PACKAGES=(playwright-core)

STAMP="node_modules/.tinyvex-lock.sha256"

die() { echo "install-agents: ERROR: $*" >&2; exit 1; }

command -v node >/dev/null 2>&1 || die "node not found in PATH (Node.js >= 18 is needed for the agent CLIs)"
command -v npm >/dev/null 2>&1 || die "npm not found in PATH"
[ -f package-lock.json ] || die "package-lock.json missing in $ROOT"

lock_hash() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum package-lock.json | cut -d' ' -f1
  else
    shasum -a 256 package-lock.json | cut -d' ' -f1
  fi
}

up_to_date() {
  [ "${TINYVEX_FORCE_AGENT_INSTALL:-0}" = "1" ] && return 1
  [ -f "$STAMP" ] || return 1
  [ "$(cat "$STAMP")" = "$(lock_hash)" ] || return 1
  for b in "${BINS[@]}"; do
    [ -x "node_modules/.bin/$b" ] || return 1
  done
  for p in "${PACKAGES[@]}"; do
    [ -f "node_modules/$p/package.json" ] || return 1
  done
  return 0
}

install() {
  if up_to_date; then
    return 0
  fi
  echo "install-agents: installing pinned agent CLIs with npm ci (lockfile changed or node_modules missing)" >&2
  rm -f "$STAMP"
  npm ci --no-audit --no-fund --loglevel=error >&2 || die "npm ci failed"
  for b in "${BINS[@]}"; do
    [ -x "node_modules/.bin/$b" ] || die "node_modules/.bin/$b missing after npm ci"
  done
  for b in "${BINS[@]}"; do
    "node_modules/.bin/$b" --version >/dev/null 2>&1 \
      || die "node_modules/.bin/$b does not run (platform binary package missing?)"
  done
  for p in "${PACKAGES[@]}"; do
    [ -f "node_modules/$p/package.json" ] || die "node_modules/$p missing after npm ci"
  done
  lock_hash > "$STAMP"
  echo "install-agents: done" >&2
}

# Serialize concurrent callers (parallel test binaries) when flock exists.
if command -v flock >/dev/null 2>&1; then
  LOCK="${TMPDIR:-/tmp}/tinyvex-install-agents-$(printf '%s' "$ROOT" | cksum | cut -d' ' -f1).lock"
  exec 9>"$LOCK"
  flock 9
fi
install
