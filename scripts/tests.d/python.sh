#!/usr/bin/env bash
# The Python module's suite (tests/python) with Debian's /usr/bin/python3
# against the package assembled in build/python. pytest's exit code is
# propagated; "no tests collected" (5) counts as a failure too.
set -uo pipefail
cd "$(dirname "$0")/../.."
if [ ! -f build/python/dosna/__init__.py ]; then
  echo "python.sh: build/python/dosna is missing (configure with DOSNA_WITH_PYTHON=ON and build)" >&2
  exit 1
fi
PYTHONPATH=build/python${PYTHONPATH:+:$PYTHONPATH} /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/python
exit $?
