#!/usr/bin/env bash
# Installs every Debian 12 package DosNa's build, tests, demo and benchmarks
# need. Idempotent: packages already present are not touched, and apt-get
# runs only when something is missing.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake make pkg-config git clang libclang-rt-14-dev
  # core + tests
  libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev libcli11-dev
  libblosc-dev libzstd-dev liblz4-dev zlib1g-dev libisal-dev
  # backends
  libhdf5-dev hdf5-tools librados-dev libradospp-dev libcurl4-openssl-dev
  libtinyxml2-dev curl ca-certificates
  # engines
  libopenmpi-dev openmpi-bin
  # python module and the reference scripts
  python3 python3-dev pybind11-dev python3-numpy python3-h5py python3-scipy
  python3-rados python3-boto3 python3-mpi4py python3-pytest python3-matplotlib
  # dask workers over DosNa datasets (tests/python/test_dask.py) and the zarr reference (bench/)
  python3-dask python3-distributed python3-zarr
  python3-crc32c  # sharded zarr v3 arrays built from the spec (tests/interop/zarr_v3_shards.py)
  python3-six  # the original DosNa, run by tests/interop/original_dosna.py
  # images
  libpng-dev
  # `dosna serve` (HTTP server) and its headless-browser test
  libcpp-httplib-dev chromium
  # local services for the ceph / s3 suites (openssl: the test CA of the https endpoint)
  openssl
  ceph-mon ceph-osd ceph-common radosgw
  # the test hosts of scripts/test-hosts.sh (ip netns, unshare)
  iproute2 util-linux
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
