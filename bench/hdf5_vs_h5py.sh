#!/usr/bin/env bash
# DosNa's hdf5 backend against plain h5py on one chunked HDF5 file, in the
# same run and the same directory: 256^3 float32, chunks 32^3 and 64^3,
# create_load / read_full / read_boxes, warm page cache.
#
#   bench/hdf5_vs_h5py.sh [BUILD_DIR] [WORK_DIR] [ENGINES] [REPS]
#
# BUILD_DIR holds bin/dosna-bench (default build), WORK_DIR is where both
# write (default BUILD_DIR/bench-hdf5; pick a local disk or tmpfs), ENGINES
# is a comma list (default "cpu,threads"). Prints the JSON lines of both
# programs, then a table of speed ratios (h5py time / DosNa time, > 1 = DosNa
# faster) by wall time and by process CPU time (steadier on a busy machine).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-build}"
work="${2:-$build/bench-hdf5}"
engines="${3:-cpu,threads}"
reps="${4:-5}"
mkdir -p "$work/store"
out="$(mktemp)"
trap 'rm -f "$out" "$out.err"' EXIT
for c in 32 64; do
  /usr/bin/python3 "$here/h5py_reference.py" --dir "$work" --shape 256,256,256 \
    --chunks "$c,$c,$c" --reps "$reps" | tee -a "$out"
  for e in ${engines//,/ }; do
    "$build/bin/dosna-bench" --backend hdf5 --engine "$e" --opt "directory=$work" --name store \
      --shape 256,256,256 --chunks "$c,$c,$c" --ops create_load,read_full,read_boxes \
      --reps "$reps" 2>"$out.err" | tee -a "$out"
    grep -E "^dosna-bench: [a-z_]+: median" "$out.err" | sed "s/^/# $e $c /" | tee -a "$out"
  done
done
/usr/bin/python3 - "$out" <<'EOF'
import json, sys
import re
lines = open(sys.argv[1]).read().splitlines()
rows = [json.loads(l) for l in lines if l.startswith("{")]
cpu = {}
for l in lines:
    m = re.match(r"# (\S+) (\d+) dosna-bench: (\w+): median \S+ s wall, (\S+) s cpu", l)
    if m:
        cpu[(m.group(1), int(m.group(2)), m.group(3))] = float(m.group(4))
ref = {(r["op"], r["chunks"][0]): r for r in rows if r["backend"] == "h5py"}
print("\n%-8s %-6s %-12s %9s %9s %7s %9s %9s %7s" % ("engine", "chunks", "op", "dosna s", "h5py s",
      "ratio", "dosna cpu", "h5py cpu", "ratio"))
for r in rows:
    if r["backend"] == "h5py":
        continue
    h = ref.get((r["op"], r["chunks"][0]))
    c = cpu.get((r["engine"], r["chunks"][0], r["op"]))
    if h:
        print("%-8s %-6s %-12s %9.4f %9.4f %7.2f %9.4f %9.4f %7.2f" % (
            r["engine"], r["chunks"][0], r["op"], r["seconds"], h["seconds"],
            h["seconds"] / r["seconds"], c or 0, h["cpu_seconds"],
            h["cpu_seconds"] / c if c else 0))
EOF
