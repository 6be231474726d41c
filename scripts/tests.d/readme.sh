#!/usr/bin/env bash
# The README's Python and CLI examples, run as printed.
set -euo pipefail
cd "$(dirname "$0")/../.."
/usr/bin/python3 -m pytest -q -p no:cacheprovider tests/readme
