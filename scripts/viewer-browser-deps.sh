#!/usr/bin/env bash
# Installs puppeteer-core (pinned in tests/viewer/package.json) into
# tests/viewer/node_modules for the viewer's browser test; the browser itself
# is Debian's chromium (scripts/install-deps.sh). No-op once installed.
set -euo pipefail
cd "$(dirname "$0")/../tests/viewer"
[ -d node_modules/puppeteer-core ] && exit 0
npm install --no-audit --no-fund --loglevel=error >/dev/null
