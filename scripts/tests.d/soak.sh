#!/usr/bin/env bash
# The soak with faults in its 60-second form (scripts/soak.sh: a Ceph +
# radosgw cluster and a tmpfs of its own, so its faults never stop the
# cluster the other suites use), then the controls of its final check: a run
# with an acked write undone, a torn box, a non-dosna failure and a growing
# heap must FAIL and name each.
set -uo pipefail
cd "$(dirname "$0")/../.."
BIN=${DOSNA_BUILD_DIR:-build}/bin/dosna-soak
status=0
bash scripts/soak.sh --seconds "${DOSNA_SOAK_SECONDS:-60}" || { echo "soak: FAILED" >&2; status=1; }

work=$(mktemp -d /tmp/dosna-soak-control.XXXXXX)
out=$("$BIN" --seconds 6 --stores ram,hdf5 --faults none --work "$work" \
  --sabotage stale,torn,untyped,rss 2>&1)
rc=$?
rm -rf "$work"
control_fail() { echo "soak control: FAIL: $*" >&2; echo "$out" >&2; status=1; }
[ $rc -eq 1 ] || control_fail "the sabotaged run exited $rc, not 1"
[ "$(grep -c 'elements: lost 1, torn 1,' <<<"$out")" = 2 ] || control_fail "an undone or torn write was not seen"
grep -q 'FAIL: 1 failures were not dosna errors' <<<"$out" || control_fail "a non-dosna failure was not seen"
grep -q 'bound: warm-up + 64 -> EXCEEDED' <<<"$out" || control_fail "the RSS growth was not seen"
grep -q '^result: FAIL' <<<"$out" || control_fail "no FAIL result"
[ $status -eq 0 ] && echo "soak: ok (and its controls fail as they must)"
exit $status
