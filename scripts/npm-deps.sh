#!/usr/bin/env bash
# npm-deps.sh DIR: installs the node modules a test directory pins (exact
# versions in DIR/package.json, resolved in DIR/package-lock.json) into
# DIR/node_modules with `npm ci`, from npm's cache (~/.npm) when it holds
# them. No-op once the installed tree matches. DIR is relative to the
# repository: tests/viewer (puppeteer-core; the browser is Debian's chromium,
# scripts/install-deps.sh), tests/zarrita (zarrita.js). Fails when npm cannot
# install, so a suite needing the modules fails rather than skips.
set -euo pipefail
dir=${1:?usage: scripts/npm-deps.sh DIR (e.g. tests/zarrita)}
cd "$(dirname "$0")/../$dir"
npm ls --all >/dev/null 2>&1 && exit 0
npm ci --no-audit --no-fund --loglevel=error >/dev/null
