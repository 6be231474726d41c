#!/usr/bin/env bash
# The convolution job across the test hosts of scripts/test-hosts.sh with
# -n 1, 2, 3 ranks (rank r on host h(r+1)), on ceph and s3: one table line
# per (backend, ranks) with the median [min .. max] of every test over
# --ntest repetitions and the 1-minute load average (`uptime`) before and
# after the run, and a figure of the 3D map time against the rank count.
#
#   bench/hosts_scaling.sh [--dir DIR] [--size 128] [--chunk 32] [--ntest 5]
#                          [--backends "ceph s3"] [--out build/hosts-scaling]
#
# Uses the hosts in DIR when they are up (scripts/test-hosts.sh up DIR);
# otherwise brings them up in a temp dir and takes them down afterwards.
# Writes OUT/result.h5 (datasets <backend>/<ranks>, see docs/convolution.md),
# OUT/table.txt and OUT/hosts_scaling.png. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
T=$ROOT/scripts/test-hosts.sh
BIN=${DOSNA_BUILD_DIR:-build}/bin
DIR="" SIZE=128 CHUNK=32 NTEST=5 BACKENDS="ceph s3" OUT=build/hosts-scaling
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) DIR=$2; shift 2 ;;
    --size) SIZE=$2; shift 2 ;;
    --chunk) CHUNK=$2; shift 2 ;;
    --ntest) NTEST=$2; shift 2 ;;
    --backends) BACKENDS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    *) sed -n '2,15p' "$0" >&2; exit 2 ;;
  esac
done
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
OWN=""
if [ -z "$DIR" ] || ! bash "$T" status "$DIR" >/dev/null 2>&1; then
  [ -n "$DIR" ] || DIR=$(mktemp -d /tmp/dosna-hosts-bench.XXXXXX)
  OWN=$DIR
  trap 'bash "$T" down "$OWN" >/dev/null 2>&1; rm -rf "$OWN"' EXIT
  bash "$T" up "$DIR"
fi
# shellcheck disable=SC1091
. "$DIR/env.sh"
load() { awk '{ print $1 }' /proc/loadavg; }
: >"$OUT/loads.txt"
for backend in $BACKENDS; do
  opts=(--connection "$DOSNA_CEPH_POOL")
  [ "$backend" = s3 ] && opts=(--connection hosts-scaling --connection-options "endpoint_url=$DOSNA_S3_ENDPOINT")
  for n in 1 2 3; do
    before=$(load)
    bash "$T" mpiexec "$DIR" -n "$n" "$ROOT/$BIN/dosna-convolution" --backend "$backend" --engine mpi \
      "${opts[@]}" --out "$OUT" --data-sizes "$SIZE" --chunk-sizes "$CHUNK" --ntest "$NTEST" >/dev/null
    echo "$backend $n $before $(load)" >>"$OUT/loads.txt"
  done
done
/usr/bin/python3 - "$OUT" "$SIZE" "$CHUNK" <<'EOF'
import sys
import h5py
import matplotlib
import numpy as np
matplotlib.use('Agg')
import matplotlib.pyplot as plt

out, size, chunk = sys.argv[1], sys.argv[2], sys.argv[3]
loads = {}
for line in open(f'{out}/loads.txt'):
    b, n, l0, l1 = line.split()
    loads[(b, int(n))] = (l0, l1)
tests = ['DATA', '3D', '1D', '3D-exact']
lines = [f'N={size} C={chunk}; seconds: median [min .. max] over the repetitions; '
         'load = 1-min load average before / after the run',
         f'{"backend":8} {"ranks":>5} ' + ' '.join(f'{t:>22}' for t in tests) + '  load']
fig, ax = plt.subplots(figsize=(5, 3.5))
with h5py.File(f'{out}/result.h5', 'r') as f:
    for b in sorted({b for b, _ in loads}):
        ns, med, lo, hi = [], [], [], []
        for n in (1, 2, 3):
            t = f[f'{b}/{n}'][0, 0]  # (test, repetition)
            cells = [f'{np.median(r):.3f} [{r.min():.3f} .. {r.max():.3f}]' for r in t]
            lines.append(f'{b:8} {n:5} ' + ' '.join(f'{c:>22}' for c in cells) +
                         '  %s / %s' % loads[(b, n)])
            ns.append(n); med.append(np.median(t[1])); lo.append(t[1].min()); hi.append(t[1].max())
        ax.errorbar(ns, med, yerr=[np.subtract(med, lo), np.subtract(hi, med)], marker='o',
                    capsize=3, label=b)
ax.set_xticks([1, 2, 3])
ax.set_xlabel('MPI ranks (one per host: h1, h2, h3)')
ax.set_ylabel('3D map time (s)')
ax.set_title(f'convolution 3D map, {size}^3 in {chunk}^3 chunks, across hosts', fontsize=9)
ax.set_ylim(bottom=0)
ax.legend()
fig.tight_layout()
fig.savefig(f'{out}/hosts_scaling.png', dpi=120)
open(f'{out}/table.txt', 'w').write('\n'.join(lines) + '\n')
print('\n'.join(lines))
print(f'figure: {out}/hosts_scaling.png')
EOF
