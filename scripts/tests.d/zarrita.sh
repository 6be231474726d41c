#!/usr/bin/env bash
# zarrita.js (npm, pinned in tests/zarrita/package.json) against DosNa's zarr
# v3 arrays on the file store, both ways (tests/zarrita/test_zarrita_interop.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -f build/python/dosna/__init__.py ]; then
  echo "zarrita.sh: build/python/dosna is missing (configure with DOSNA_WITH_PYTHON=ON and build)" >&2
  exit 1
fi
bash scripts/npm-deps.sh tests/zarrita
PYTHONPATH=build/python${PYTHONPATH:+:$PYTHONPATH} /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/zarrita
