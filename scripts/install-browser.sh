#!/usr/bin/env bash
# Installs what the dashboard's browser test (crates/agentry/tests/browser.rs) needs: Debian's
# Chromium, and the pinned playwright-core of tests/browser/package-lock.json from the npm
# registry. Idempotent: skips what is already in place.
#
# Usage: scripts/install-browser.sh   (installing Chromium needs root)
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ! -x /usr/bin/chromium ]]; then
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
fi

# The version the lockfile pins, and the installed one (nothing when absent).
pinned=$(node -p 'require("./tests/browser/package-lock.json").packages["node_modules/playwright-core"].version')
installed=$(node -p 'require("./tests/browser/node_modules/playwright-core/package.json").version' 2>/dev/null || true)
if [[ "$installed" != "$pinned" ]]; then
    npm ci --prefix tests/browser --no-audit --no-fund
fi

# Debian's wrapper script prints noise on stderr before the version.
echo "chromium: $(/usr/bin/chromium --version 2>/dev/null)"
echo "playwright-core: $pinned"
