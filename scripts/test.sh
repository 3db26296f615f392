#!/usr/bin/env bash
# The whole test suite: what CI runs (.ci/run) and what a newcomer runs.
#
# 1. installs the pinned agent CLIs and playwright-core (package.json /
#    package-lock.json) when missing, so the real-agent tests can run them,
#    and Debian's chromium for the web UI's browser tests (apt-get, when
#    /usr/bin/chromium is missing); a failed install fails;
# 2. checks formatting;
# 3. runs every test of the workspace.
#
# Tests that need the shared real-session fixtures read them from
# ../shared/fixtures (or $TINYVEX_FIXTURES); without them they print
# "SKIPPED ..." loudly and everything else still runs.
set -euo pipefail
cd "$(dirname "$0")/.."

fixtures="${TINYVEX_FIXTURES:-../shared/fixtures}"
warn_fixtures() {
  if [ ! -d "$fixtures" ]; then
    echo "==================================================================" >&2
    echo "WARNING: $fixtures not found: every real-session fixture test was" >&2
    echo "SKIPPED (each printed SKIPPED in its captured output)." >&2
    echo "Set TINYVEX_FIXTURES=/path/to/shared/fixtures to run them." >&2
    echo "==================================================================" >&2
  fi
}
warn_fixtures
trap warn_fixtures EXIT

scripts/install-agents.sh
scripts/install-browser.sh

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked "$@"
