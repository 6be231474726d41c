#!/usr/bin/env bash
# The main job on the embedded default backend: the README example, then the
# convolution benchmark (hdf5 store in build/demo/store, threads engine) at
# sizes that finish in about two minutes on two cores, then timings.png.
# Override with DEMO_BACKEND, DEMO_ENGINE, DEMO_SIZES, DEMO_CHUNKS, DEMO_NTEST.
set -euo pipefail
cd "$(dirname "$0")/.."
build/bin/dosna-readme-example

backend=${DEMO_BACKEND:-hdf5}
engine=${DEMO_ENGINE:-threads}
demo=build/demo
out=$demo/out
rm -rf "$demo/store" "$out"
mkdir -p "$demo/store" "$out"
echo
echo "== dosna-convolution on $backend x $engine (progress on stderr)"
opts=()
[ "$backend" = hdf5 ] && opts=(--connection-options "directory=$demo")
# shellcheck disable=SC2086
build/bin/dosna-convolution --backend "$backend" --engine "$engine" --connection store \
  "${opts[@]}" --out "$out" \
  --data-sizes ${DEMO_SIZES:-64 128 256} --chunk-sizes ${DEMO_CHUNKS:-32 48 64 96 128} \
  --ntest "${DEMO_NTEST:-3}"
/usr/bin/python3 scripts/plot_timings.py "$out/result.h5" -o "$out/timings.png"
echo
echo "result.h5:   $out/result.h5"
echo "timings.png: $out/timings.png"
echo "images:      $(ls "$out"/conv*.png | wc -l) PNGs in $out (conv3d_*, conv3x1d_*, conv3dexact_*)"
