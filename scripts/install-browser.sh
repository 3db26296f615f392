#!/usr/bin/env bash
# Installs the browser the web UI's end-to-end tests drive: Debian's
# `chromium` (/usr/bin/chromium), with apt-get, when it is missing.
# (playwright-core, which drives it, is pinned in package.json and installed
# by scripts/install-agents.sh; Playwright's own browser download cannot work
# here and is never used.)
#
# Idempotent. Any failure exits non-zero: a missing browser must fail the
# browser tests, never skip them.
#
# Env: TINYVEX_CHROMIUM=/path/to/chromium uses that binary instead (nothing is
# installed; it must exist).
set -euo pipefail

die() { echo "install-browser: ERROR: $*" >&2; exit 1; }

if [ -n "${TINYVEX_CHROMIUM:-}" ]; then
  [ -x "$TINYVEX_CHROMIUM" ] || die "TINYVEX_CHROMIUM=$TINYVEX_CHROMIUM is not an executable"
  exit 0
fi

install() {
  if [ -x /usr/bin/chromium ]; then
    return 0
  fi
  command -v apt-get >/dev/null 2>&1 \
    || die "/usr/bin/chromium is missing and apt-get is not available; install Chromium or set TINYVEX_CHROMIUM"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "/usr/bin/chromium is missing; installing it needs root (apt-get install chromium)"
    SUDO="sudo -n"
  fi
  echo "install-browser: installing Debian's chromium with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >&2 || die "apt-get update failed"
  $SUDO apt-get install -y -qq chromium >&2 || die "apt-get install chromium failed"
  [ -x /usr/bin/chromium ] || die "/usr/bin/chromium missing after apt-get install chromium"
  /usr/bin/chromium --version >&2 || die "/usr/bin/chromium does not run"
  echo "install-browser: done" >&2
}

# Serialize concurrent callers (parallel test binaries) when flock exists.
if command -v flock >/dev/null 2>&1; then
  exec 9>"${TMPDIR:-/tmp}/tinyvex-install-browser.lock"
  flock 9
fi
install
