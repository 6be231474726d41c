#!/usr/bin/env bash
# The MPI suite: build/bin/dosna_mpi_tests under `mpiexec -n 2` (MPI
# initialised by the caller first, as mpi4py does) and `-n 3` (DosNa
# initialises MPI itself), for each shared backend: hdf5, ceph, s3. A backend
# that is not built or whose service is not configured runs the engine tests
# only and reports SKIPPED (a failure with DOSNA_REQUIRE_SERVICES=1). Every run
# has a time limit, so a rank left waiting fails the suite instead of hanging.
set -uo pipefail
cd "$(dirname "$0")/../.."
BIN=${DOSNA_BUILD_DIR:-build}/bin/dosna_mpi_tests
LIMIT=${DOSNA_MPI_TIMEOUT:-300}
required=${DOSNA_REQUIRE_SERVICES:-}
[ "$required" = 0 ] || [ "$required" = false ] && required=""

if [ ! -x "$BIN" ]; then
  echo "mpi: $BIN not built (mpi engine off?)" >&2
  if [ -n "$required" ]; then exit 1; fi
  echo "mpi: SKIPPED"
  exit 0
fi
if ! command -v mpiexec >/dev/null; then
  echo "mpi: mpiexec not found (install openmpi-bin)" >&2
  exit 1
fi

status=0
for backend in ${DOSNA_MPI_BACKENDS:-hdf5 ceph s3}; do
  for n in 2 3; do
    init=""
    [ "$n" = 2 ] && init="--caller-init"
    echo "== mpiexec -n $n dosna_mpi_tests --backend=$backend $init"
    timeout -k 10 "$LIMIT" mpiexec --allow-run-as-root --oversubscribe -n "$n" \
      "$BIN" --backend="$backend" $init
    rc=$?
    if [ $rc -ne 0 ]; then
      [ $rc -eq 124 ] && echo "mpi: TIMEOUT after ${LIMIT}s (a rank hung): -n $n $backend" >&2
      echo "mpi: FAILED -n $n --backend=$backend (exit $rc)" >&2
      status=1
    fi
  done
done
exit $status
