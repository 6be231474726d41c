#!/usr/bin/env bash
# The soak with faults: starts a Ceph + radosgw cluster of its own
# (scripts/local-services.sh) and a small tmpfs for the hdf5 store, all in a
# new temp directory, runs build/bin/dosna-soak on ram, hdf5, ceph and s3 at
# once with faults injected on a schedule (OSD and radosgw restarts, a writer
# process SIGKILLed, the tmpfs filled up), prints its summary, and removes
# everything again on any exit. Exits with dosna-soak's status: 0 only if no
# acknowledged write was lost (see docs/safety.md).
#
#   scripts/soak.sh [--seconds N] [--tmpfs-mib M] [--keep] [dosna-soak options...]
#
# --tmpfs-mib: size of the hdf5 filesystem (default 64). --keep: leave the
# work directory (ledger, logs) behind. Needs root for the tmpfs mount; the
# cluster is its own, so the faults never touch another cluster (make test's).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${DOSNA_BUILD_DIR:-build}/bin/dosna-soak
SERVICES=$ROOT/scripts/local-services.sh

SECONDS_ARG=60
TMPFS_MIB=64
KEEP=0
PASS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECONDS_ARG=$2; shift 2 ;;
    --seconds=*) SECONDS_ARG=${1#*=}; shift ;;
    --tmpfs-mib) TMPFS_MIB=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) PASS+=("$1"); shift ;;
  esac
done
case "$SECONDS_ARG" in ''|*[!0-9]*) echo "soak: --seconds needs a whole number, got '$SECONDS_ARG'" >&2; exit 2 ;; esac

if [ ! -x "$BIN" ]; then
  echo "soak: $BIN is missing (make build)" >&2
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "soak: needs root to mount the tmpfs of the disk-full fault" >&2
  exit 1
fi

WORK=$(mktemp -d /tmp/dosna-soak.XXXXXX)
SVC=$WORK/services
H5=$WORK/hdf5
cleanup() {
  bash "$SERVICES" stop "$SVC" >/dev/null 2>&1 || true
  if mountpoint -q "$H5"; then umount "$H5" || umount -l "$H5"; fi
  if [ "$KEEP" = 1 ]; then echo "soak: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$H5"
mount -t tmpfs -o "size=${TMPFS_MIB}m,mode=0700" dosna-soak-hdf5 "$H5" || {
  echo "soak: cannot mount a ${TMPFS_MIB} MiB tmpfs on $H5" >&2
  exit 1
}

# Our own cluster: the faults stop its daemons. Nothing of a caller's cluster
# (make test exports one) may leak into it.
unset CEPH_CONF DOSNA_CEPH_POOL DOSNA_S3_ENDPOINT AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY \
  AWS_SHARED_CREDENTIALS_FILE AWS_CONFIG_FILE AWS_PROFILE
if ! LS_QUIET=1 bash "$SERVICES" start "$SVC"; then
  echo "soak: the local Ceph/radosgw did not start" >&2
  exit 1
fi
# shellcheck disable=SC1091
. "$SVC/env.sh"

# The workload is bounded by --seconds; the final check and recovery waits
# by their own limits. This guard only catches a hang.
timeout -k 10 $((SECONDS_ARG + 900)) "$BIN" --seconds "$SECONDS_ARG" --work "$WORK/soak" \
  --hdf5-dir "$H5" --services-dir "$SVC" --services-script "$SERVICES" "${PASS[@]}"
rc=$?
if [ $rc -ne 0 ]; then
  [ $rc -eq 124 ] && echo "soak: dosna-soak did not finish (hung); killed" >&2
  for f in "$WORK"/soak/*.log; do
    [ -s "$f" ] || continue
    echo "== $f (tail)" >&2
    tail -n 20 "$f" >&2
  done
fi
exit $rc
