#!/usr/bin/env bash
# The ceph benchmark lines of issue 4, all measured in one run on one pool:
#   rados bench write -b 1048576 -t 16   (reference for create_load)
#   rados bench seq -t 16                (reference for read_full)
#   build/bin/dosna-ceph-sync-boxes      (the same boxes read one chunk at a
#                                         time, one synchronous whole-object
#                                         read each: reference for read_boxes)
#   build/bin/dosna-bench --backend ceph create_load,read_full,read_boxes
#   (one Dataset::read_many of all boxes) and read_boxes_each (one
#   Dataset::read per box, measured in the same loop) on 256^3 float32 in
#   64^3 chunks (1 MiB objects, like the rados bench)
# and the ratios. Every line is JSON; MB is 10^6 bytes everywhere (rados
# bench prints MiB/s; converted here).
#
#   bench/ceph_reference.sh [--seconds 5] [--rounds 3] [--reps 3] [--engine cpu] [--objectstore memstore|bluestore]
#
# The machine is shared and noisy, so the measurements are interleaved:
# each of --rounds rounds runs every reference and dosna-bench once
# (dosna-bench and the box reference report the median of --reps reps);
# the summary line gives the median of each op over the rounds and the
# ratios of those medians.
#
# Uses the cluster of CEPH_CONF / DOSNA_CEPH_POOL when both are set (source
# the env.sh of scripts/local-services.sh); otherwise starts a cluster of its
# own (--no-rgw, memstore unless --objectstore says otherwise) and stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SECONDS_RUN=5
ROUNDS=3
REPS=3
ENGINE=cpu
OBJECTSTORE=memstore
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECONDS_RUN=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --reps) REPS=$2; shift 2 ;;
    --engine) ENGINE=$2; shift 2 ;;
    --objectstore) OBJECTSTORE=$2; shift 2 ;;
    *) echo "usage: $0 [--seconds S] [--rounds N] [--reps N] [--engine E] [--objectstore memstore|bluestore]" >&2; exit 2 ;;
  esac
done

OWN=""
cleanup() {
  if [ -n "$OWN" ]; then
    bash "$ROOT/scripts/local-services.sh" stop "$OWN" >/dev/null 2>&1 || true
    rm -rf "$OWN"
  fi
}
trap cleanup EXIT INT TERM
if [ -z "${CEPH_CONF:-}" ] || [ -z "${DOSNA_CEPH_POOL:-}" ]; then
  OWN=$(mktemp -d /tmp/dosna-bench-ceph.XXXXXX)
  bash "$ROOT/scripts/local-services.sh" start "$OWN" --no-rgw --objectstore "$OBJECTSTORE" >&2
  # shellcheck disable=SC1091
  . "$OWN/env.sh"
fi
POOL=$DOSNA_CEPH_POOL
STORE=$(ceph osd metadata 0 -f json 2>/dev/null | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin).get("osd_objectstore","?"))' || echo "?")

RUN=dosna-ref-$$
rados_line() {  # op, rados bench output file
  /usr/bin/python3 - "$1" "$2" "$POOL" "$STORE" <<'PY'
import json, re, sys
op, path, pool, store = sys.argv[1:5]
text = open(path).read()
def num(label):
    m = re.search(re.escape(label) + r"\s*:?\s*([0-9.]+)", text)
    return float(m.group(1)) if m else None
mib = num("Bandwidth (MB/sec):")
sec = num("Total time run:")
lat = num("Average Latency(s):")
print(json.dumps({"op": op, "backend": "rados bench", "pool": pool, "objectstore": store,
                  "object_bytes": 1048576, "concurrency": 16, "seconds": sec,
                  "mb_per_s": mib * 1.048576 if mib is not None else None,
                  "avg_latency_s": lat}))
PY
}

TMP=$(mktemp -d /tmp/dosna-bench-out.XXXXXX)
trap 'rm -rf "$TMP"; cleanup' EXIT INT TERM
: >"$TMP/lines"
BENCH=$ROOT/build/bin/dosna-bench
[ -x "$BENCH" ] || echo "ceph_reference: $BENCH not built; only the reference lines are measured" >&2
for round in $(seq 1 "$ROUNDS"); do
  # --max-objects keeps a fast memstore OSD (4 GiB reported capacity) from
  # filling up, which blocks every write (LOCAL_SERVICES.md, pitfall 9).
  rados bench -p "$POOL" "$SECONDS_RUN" write -b 1048576 -t 16 --max-objects 1024 --no-cleanup \
    --run-name "$RUN" >"$TMP/write.txt" 2>&1
  rados_line rados_bench_write "$TMP/write.txt" | tee -a "$TMP/lines"
  rados bench -p "$POOL" "$SECONDS_RUN" seq -t 16 --run-name "$RUN" >"$TMP/seq.txt" 2>&1
  rados_line rados_bench_seq "$TMP/seq.txt" | tee -a "$TMP/lines"
  rados -p "$POOL" cleanup --run-name "$RUN" >/dev/null 2>&1 || true
  "$ROOT/build/bin/dosna-ceph-sync-boxes" --reps "$REPS" | tee -a "$TMP/lines"
  if [ -x "$BENCH" ]; then
    "$BENCH" --backend ceph --engine "$ENGINE" --name "$POOL" --opt "conffile=$CEPH_CONF" \
      --shape 256,256,256 --chunks 64,64,64 --dtype '<f4' --ops create_load,read_full,read_boxes,read_boxes_each \
      --reps "$REPS" 2>/dev/null | tee -a "$TMP/lines"
  fi
done

/usr/bin/python3 - "$TMP/lines" "$STORE" <<'PY'
import json, sys
import statistics
runs = {}
for raw in open(sys.argv[1]):
    raw = raw.strip()
    if raw.startswith("{"):
        d = json.loads(raw)
        runs.setdefault(d["op"], []).append(d)
lines = {}
for op, ds in runs.items():
    lines[op] = {f: statistics.median(d[f] for d in ds if d.get(f) is not None)
                 for f in ("mb_per_s", "ops_per_s") if any(d.get(f) is not None for d in ds)}
    lines[op]["rounds"] = len(ds)
def ratio(a, b, field):
    if a in lines and b in lines and lines[b].get(field):
        return lines[a][field] / lines[b][field]
    return None
out = {"op": "summary", "objectstore": sys.argv[2], "medians": lines,
       "create_load_vs_rados_write": ratio("create_load", "rados_bench_write", "mb_per_s"),
       "read_full_vs_rados_seq": ratio("read_full", "rados_bench_seq", "mb_per_s"),
       "read_boxes_vs_sync_one_chunk": ratio("read_boxes", "read_boxes_sync_reference", "ops_per_s"),
       "read_boxes_each_vs_sync_one_chunk": ratio("read_boxes_each", "read_boxes_sync_reference",
                                                  "ops_per_s"),
       "targets": {"create_load_vs_rados_write": 0.8, "read_full_vs_rados_seq": 0.8,
                   "read_boxes_vs_sync_one_chunk": 5.0}}
print(json.dumps(out))
PY
