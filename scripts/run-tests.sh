#!/usr/bin/env bash
# Runs every suite. Starts the local Ceph + radosgw first (when the services
# script exists) and stops them on any exit, also when a suite fails.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export DOSNA_REQUIRE_SERVICES=${DOSNA_REQUIRE_SERVICES:-${CI:-}}
SERVICES=scripts/local-services.sh
SVC_DIR=""

cleanup() {
  if [ -n "$SVC_DIR" ]; then
    bash "$SERVICES" stop "$SVC_DIR" >/dev/null 2>&1 || true
    rm -rf "$SVC_DIR"
  fi
}
trap cleanup EXIT INT TERM

if [ -f "$SERVICES" ]; then
  SVC_DIR=$(mktemp -d /tmp/dosna-services.XXXXXX)
  if ! bash "$SERVICES" start "$SVC_DIR"; then
    echo "run-tests: local Ceph/radosgw did not start; daemon log tails:" >&2
    for f in "$SVC_DIR"/log/*; do [ -f "$f" ] && { echo "== $f" >&2; tail -n 30 "$f" >&2; }; done
    exit 1
  fi
  # shellcheck disable=SC1091
  . "$SVC_DIR/env.sh"
fi

status=0
echo "== unit + behaviour suites (release)"
# Fault tests stop and restart the shared OSD / radosgw: they run alone.
SERIAL='Fault|Crash'
(cd build && ctest --output-on-failure -j 2 -E "$SERIAL") || status=1
echo "== fault tests (release, one at a time)"
(cd build && ctest --output-on-failure -R "$SERIAL") || status=1
echo "== unit + behaviour suites (ASan + UBSan)"
(cd build/asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -L unit -E "$SERIAL") || status=1
for extra in scripts/tests.d/*.sh; do
  [ -f "$extra" ] || continue
  echo "== $extra"
  bash "$extra" || status=1
done
exit $status
