#!/usr/bin/env bash
# The `dosna` command line, driven end to end by tests/cli/test_cli.py.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -x build/bin/dosna ]; then
  echo "cli.sh: build/bin/dosna is missing (build with DOSNA_BUILD_TOOLS=ON)" >&2
  exit 1
fi
exec /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/cli/test_cli.py "$@"
