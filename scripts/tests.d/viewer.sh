#!/usr/bin/env bash
# `dosna serve`: the HTTP API (tests/viewer/test_viewer_api.py) and the page in
# headless Chromium (tests/viewer/browser_test.js).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -x build/bin/dosna ]; then
  echo "viewer.sh: build/bin/dosna is missing (build with DOSNA_BUILD_TOOLS=ON)" >&2
  exit 1
fi
/usr/bin/python3 -m pytest -q -p no:cacheprovider tests/viewer/test_viewer_api.py
bash scripts/npm-deps.sh tests/viewer
(cd tests/viewer && /usr/bin/python3 -m pytest -q -p no:cacheprovider test_viewer_browser.py)
