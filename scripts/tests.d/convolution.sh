#!/usr/bin/env bash
# The convolution job against scipy.ndimage: filters, 3D / 1D / 3D-exact
# results and result.h5's layout, on ram and (when built) hdf5 with threads.
set -uo pipefail
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3
WORK=$(mktemp -d /tmp/dosna-conv-test.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
status=0
if [ ! -x build/bin/dosna-convolution ]; then
  echo "convolution: build/bin/dosna-convolution is missing (build first)" >&2
  exit 1
fi
BACKENDS=ram
if [ -d src/backends/hdf5 ]; then BACKENDS="$BACKENDS hdf5"; fi
ENGINE=cpu
if [ -d src/engines/threads ]; then ENGINE=threads; fi
# ceph and s3 when built and their local services are up (run-tests.sh
# sources local-services' env.sh); with DOSNA_REQUIRE_SERVICES a missing
# service fails.
for svc in ceph s3; do
  [ -d "src/backends/$svc" ] || continue
  if { [ "$svc" = ceph ] && [ -n "${DOSNA_CEPH_POOL:-}" ] && [ -n "${CEPH_CONF:-}" ]; } ||
     { [ "$svc" = s3 ] && [ -n "${DOSNA_S3_ENDPOINT:-}" ]; }; then
    BACKENDS="$BACKENDS $svc"
  elif [ -n "${DOSNA_REQUIRE_SERVICES:-}" ]; then
    echo "convolution: $svc service environment missing (DOSNA_REQUIRE_SERVICES is set)" >&2
    status=1
  else
    echo "-- convolution check: $svc skipped (no service environment)"
  fi
done
for backend in $BACKENDS; do
  echo "-- convolution check: $backend x $ENGINE"
  conn="$WORK/$backend-store"
  opts=()
  case $backend in
    ram) conn=conv-check ;;
    ceph) conn=$DOSNA_CEPH_POOL ;;
    s3) conn=conv-check-$$; opts=("endpoint_url=$DOSNA_S3_ENDPOINT") ;;
  esac
  rc=0
  $PY tests/convolution/check_convolution.py build/bin "$WORK/$backend" "$backend" "$ENGINE" "$conn" \
    "${opts[@]}" >"$WORK/$backend.log" 2>&1 || rc=$?
  grep -v '^ok\|^\[' "$WORK/$backend.log"
  [ "$rc" -eq 0 ] || { echo "convolution check failed on $backend (exit $rc)" >&2; status=1; }
done
if [ -x build/bin/dosna-convolution ] && command -v mpiexec >/dev/null && [ -d src/engines/mpi ] && [ -d src/backends/hdf5 ]; then
  echo "-- convolution under mpiexec -n 2 (hdf5)"
  if ! mpiexec --allow-run-as-root --oversubscribe -n 2 build/bin/dosna-convolution --backend hdf5 \
      --engine mpi --connection "$WORK/mpi-store" --out "$WORK/mpi" --data-sizes 40 \
      --chunk-sizes 16 --ntest 1 --save-volumes >"$WORK/mpi.log" 2>&1; then
    cat "$WORK/mpi.log" >&2; status=1
  else
    $PY - "$WORK/mpi" <<'PY' || status=1
import sys, numpy as np, h5py
from scipy import ndimage
d = sys.argv[1]
raw = lambda k: np.fromfile(f'{d}/{k}-40-16.f32', dtype=np.float32).reshape(40, 40, 40)
want = ndimage.gaussian_filter(raw('data'), 1.5, mode='reflect', truncate=4.0)
err = np.max(np.abs(raw('conv3dexact') - want) / np.abs(want))
with h5py.File(f'{d}/result.h5') as f:
    ok = f['hdf5/2'].shape == (1, 1, 4, 1)
print(f'mpi: 3D-exact max rel err {err:.2e}, result.h5 hdf5/2 ok={ok}')
sys.exit(0 if err <= 1e-5 and ok else 1)
PY
  fi
fi
exit $status
