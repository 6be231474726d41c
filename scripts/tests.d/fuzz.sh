#!/usr/bin/env bash
# libFuzzer: builds tests/fuzz (clang, ASan + UBSan) into build/fuzz and runs
# every target for a bounded number of inputs, starting from its seed corpus
# in tests/fuzz/corpus/<target>/. A crash, sanitizer report or an exception
# other than a typed dosna::Error fails the suite; the input is kept in
# build/fuzz/findings/ (turn it into a regression test in tests/unit/).
#   DOSNA_FUZZ_RUNS (default 20000) and DOSNA_FUZZ_SECONDS (default 20) bound
#   each target: whichever comes first.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=build/fuzz
RUNS=${DOSNA_FUZZ_RUNS:-20000}
SECONDS_MAX=${DOSNA_FUZZ_SECONDS:-20}
CXX_FUZZ=${DOSNA_FUZZ_CXX:-$(command -v clang++-14 || command -v clang++ || true)}
CC_FUZZ=${DOSNA_FUZZ_CC:-$(command -v clang-14 || command -v clang || true)}
if [ -z "$CXX_FUZZ" ] || [ -z "$CC_FUZZ" ]; then
  echo "fuzz: clang not found (install clang-14 libclang-rt-14-dev)" >&2
  exit 1
fi
if ! cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER="$CC_FUZZ" \
    -DCMAKE_CXX_COMPILER="$CXX_FUZZ" -DDOSNA_FUZZ=ON -DDOSNA_BUILD_TESTS=OFF \
    -DDOSNA_BUILD_TOOLS=OFF -DDOSNA_WITH_PYTHON=OFF -DDOSNA_WITH_MPI=OFF -DDOSNA_WITH_HDF5=ON \
    -DDOSNA_WITH_CEPH=OFF >"$BUILD.configure.log" 2>&1; then
  cat "$BUILD.configure.log" >&2
  exit 1
fi
if ! cmake --build "$BUILD" -j "${JOBS:-2}" --target dosna_fuzz >"$BUILD/build.log" 2>&1; then
  tail -n 40 "$BUILD/build.log" >&2
  exit 1
fi

status=0
mkdir -p "$BUILD/findings"
for bin in "$BUILD"/bin/*_fuzz; do
  target=$(basename "$bin")
  seeds=tests/fuzz/corpus/$target
  work=$(mktemp -d)
  log=$BUILD/$target.log
  "$bin" -runs="$RUNS" -max_total_time="$SECONDS_MAX" -max_len=4096 -timeout=10 \
    -rss_limit_mb=2048 -artifact_prefix="$BUILD/findings/$target-" -print_final_stats=1 \
    "$work" "$seeds" >"$log" 2>&1
  rc=$?
  runs=$(grep -o 'Done [0-9]* runs' "$log" | awk '{print $2}')
  if [ $rc -ne 0 ]; then
    echo "fuzz: $target FAILED (exit $rc); findings in $BUILD/findings/" >&2
    grep -E 'ERROR|SUMMARY|runtime error|terminate|Test unit written' "$log" | head -n 20 >&2
    status=1
  else
    echo "fuzz: $target ${runs:-?} inputs, no crash"
  fi
  rm -rf "$work"
done
exit $status
