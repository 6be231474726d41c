#!/usr/bin/env bash
# MPI across hosts (needs root): scripts/test-hosts.sh builds three hosts
# (network namespaces) with one Ceph cluster across them, then
#  1. up is idempotent; ranks of `mpiexec -n 3` land on h1, h2, h3 with their
#     own addresses; the hosts have no route off their subnet; nothing was
#     added to this machine's own network or /etc/hosts;
#  2. the MPI suite (with its lost-update test: interleaved rows sharing
#     chunks) and the convolution job (== scipy) pass with -n 3 on ceph and s3;
#  3. h3's OSD is killed (SIGKILL) while the convolution job (ceph) and the
#     lost-update test (s3, repeated) run: both complete, nothing is lost,
#     the monitor marks the OSD down; the lost-update test then passes on
#     ceph with that host still down;
#  4. down kills a process left on a host, removes every namespace, and is
#     idempotent.
# Everything is torn down on any exit. Time limits per step keep a hung rank
# from hanging the suite (whole run: about 1-2 min on this machine).
set -uo pipefail
cd "$(dirname "$0")/../.."
T=scripts/test-hosts.sh
BIN=${DOSNA_BUILD_DIR:-build}/bin
PY=/usr/bin/python3
LIMIT=${DOSNA_HOSTS_TIMEOUT:-120}
required=${DOSNA_REQUIRE_SERVICES:-}
[ "$required" = 0 ] || [ "$required" = false ] && required=""

skip() {
  echo "hosts: $*" >&2
  [ -n "$required" ] && exit 1
  echo "hosts: SKIPPED"
  exit 0
}
[ "$(id -u)" = 0 ] || skip "needs root (ip netns)"
for tool in ip unshare mpiexec; do command -v "$tool" >/dev/null || skip "$tool not found"; done
for b in dosna_mpi_tests dosna-convolution; do [ -x "$BIN/$b" ] || skip "$BIN/$b not built"; done
for b in ceph s3; do [ -d "src/backends/$b" ] || skip "the $b backend is not in this tree"; done

D=$(mktemp -d /tmp/dosna-hosts-test.XXXXXX)
status=0
cleanup() {
  if [ "$status" != 0 ]; then
    for f in "$D"/log/*.log; do [ -s "$f" ] && { echo "== $f" >&2; tail -n 8 "$f" | cut -c1-240 >&2; }; done
  fi
  bash "$T" down "$D" >/dev/null 2>&1
  rm -rf "$D"
}
trap cleanup EXIT
trap 'status=1; exit 130' INT TERM
fail() { echo "hosts: FAIL: $*" >&2; status=1; }
fatal() { fail "$*"; exit 1; }
run() { timeout -k 10 "$LIMIT" "$@"; }
mpi() { run bash "$T" mpiexec "$D" "$@"; }
on() { run bash "$T" exec "$D" "$@"; }

links_before=$(ip -o link | awk -F': ' '{ print $2 }' | sort)
etc_hosts=$(cksum </etc/hosts)
unset CEPH_CONF DOSNA_CEPH_POOL DOSNA_S3_ENDPOINT AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY

echo "-- up"
SECONDS=0
run bash "$T" up "$D" || fatal "test-hosts.sh up"
echo "up in ${SECONDS}s"
run bash "$T" up "$D" 2>&1 | grep -q "already up" || fail "a second up is not a no-op"
# shellcheck disable=SC1091
. "$D/env.sh"

echo "-- placement and isolation"
got=$(mpi -n 3 sh -c 'echo "$OMPI_COMM_WORLD_RANK $(hostname) $(ip -o -4 addr show eth0 | awk "{ print \$4 }")"' | sort)
want=$'0 h1 10.77.0.1/24\n1 h2 10.77.0.2/24\n2 h3 10.77.0.3/24'
[ "$got" = "$want" ] || fail "ranks not on h1 h2 h3: $got"
on h2 ip route | grep -q default && fail "h2 has a default route"
on h3 getent hosts h1 | grep -q '^10\.77\.0\.1 ' || fail "h3 does not resolve h1"
on h2 "$PY" -c '
import errno, socket, sys
s = socket.socket()
s.settimeout(2)
sys.exit(0 if s.connect_ex(("192.0.2.1", 80)) == errno.ENETUNREACH else 1)' ||
  fail "h2 reaches an address off its subnet"
[ "$(ip -o link | awk -F': ' '{ print $2 }' | sort)" = "$links_before" ] ||
  fail "links added to this machine's own network namespace"
[ "$(cksum </etc/hosts)" = "$etc_hosts" ] || fail "/etc/hosts changed"
on h1 ceph osd tree | grep -cE ' host h[123]( |$)' | grep -qx 3 || fail "crush has not three hosts"

for backend in ceph s3; do
  echo "-- mpiexec -n 3 dosna_mpi_tests --backend=$backend (across hosts)"
  mpi -n 3 "$BIN/dosna_mpi_tests" --backend="$backend" >"$D/mpi-$backend.log" 2>&1 ||
    { tail -n 40 "$D/mpi-$backend.log" >&2; fail "MPI suite on $backend"; }
  grep -E '^\S*\[  PASSED  \]|tests ran' "$D/mpi-$backend.log" | sed 's/\x1b\[[0-9;]*m//g'
done

conv() {  # backend out N ntest [extra args]
  local backend=$1 out=$2 n=$3 ntest=$4
  shift 4
  local opts=(--connection "$DOSNA_CEPH_POOL")
  [ "$backend" = s3 ] && opts=(--connection "hosts-conv-$$" --connection-options "endpoint_url=$DOSNA_S3_ENDPOINT")
  mpi -n 3 "$BIN/dosna-convolution" --backend "$backend" --engine mpi "${opts[@]}" \
    --out "$out" --data-sizes "$n" --chunk-sizes 16 --ntest "$ntest" --save-volumes "$@"
}
check_volumes() {  # out N
  "$PY" tests/convolution/check_convolution.py --volumes "$1" "$2" 16 3 | grep -v '^ok ' ||
    fail "convolution results in $1"
}
for backend in ceph s3; do
  echo "-- mpiexec -n 3 dosna-convolution --backend $backend (across hosts)"
  if conv "$backend" "$D/conv-$backend" 40 1 >"$D/conv-$backend.log" 2>&1; then
    check_volumes "$D/conv-$backend" 40
  else
    tail -n 30 "$D/conv-$backend.log" >&2; fail "convolution on $backend"
  fi
done

echo "-- h3's OSD killed while the convolution job (ceph) and the lost-update test (s3) run"
REPEAT=20
N_KILL=96
running() { kill -0 "$conv_pid" 2>/dev/null && kill -0 "$stress_pid" 2>/dev/null; }
# Waits (up to 60 s) until PATTERN occurs COUNT times in FILE while both jobs run.
wait_for() {  # file pattern count
  local i=0
  while [ "$(grep -c "$2" "$1")" -lt "$3" ]; do
    i=$((i + 1))
    [ $i -lt 1200 ] && running || return 1
    sleep 0.05
  done
}
: >"$D/stress-kill.log"
: >"$D/conv-kill.log"
mpi -n 3 "$BIN/dosna_mpi_tests" --backend=s3 --gtest_filter='MpiData.RanksWriteInterleaved*' \
  --gtest_repeat=$REPEAT >"$D/stress-kill.log" 2>&1 &
stress_pid=$!
conv_pid=$stress_pid
wait_for "$D/stress-kill.log" 'OK \]' 2
conv ceph "$D/conv-kill" $N_KILL 1 >"$D/conv-kill.log" 2>&1 &
conv_pid=$!
# The kill comes once the volume is loaded: the maps whose results are
# checked (--save-volumes keeps this, the only repetition) run after it.
if wait_for "$D/conv-kill.log" 'test 1/1 DATA' 1 && ! grep -q '3D-exact' "$D/conv-kill.log"; then
  echo "killing osd.2 on h3 after $(grep -c 'OK \]' "$D/stress-kill.log") rounds of the test and the convolution's DATA step"
  bash "$T" osd-kill "$D" h3 KILL || fail "osd-kill h3"
  running || fail "a job ended before the OSD was down, so the kill was not mid-run"
else
  fail "the jobs were not both running, before the convolution's maps, when the OSD was to be killed"
fi
SECONDS=0
wait "$conv_pid" || { tail -n 30 "$D/conv-kill.log" >&2; fail "convolution with h3's OSD killed"; }
echo "convolution done ${SECONDS}s after the kill"
wait "$stress_pid" || { tail -n 40 "$D/stress-kill.log" >&2; fail "lost-update test with h3's OSD killed"; }
echo "lost-update test ($REPEAT rounds) done ${SECONDS}s after the kill"
check_volumes "$D/conv-kill" $N_KILL
passed=$(grep -c '\[  PASSED  \]' "$D/stress-kill.log")
[ "$passed" = "$REPEAT" ] || fail "lost-update test passed $passed of $REPEAT rounds"
grep 'OK \]' "$D/stress-kill.log" | sed 's/.*(\([0-9]*\) ms).*/\1/' | sort -n | tail -n 1 |
  sed 's/^/slowest round: /; s/$/ ms/'
on h1 ceph osd dump | grep -q '^osd\.2 down' || fail "osd.2 not marked down after the kill"
mpi -n 3 "$BIN/dosna_mpi_tests" --backend=ceph --gtest_filter='MpiData.RanksWriteInterleaved*' \
  --gtest_repeat=5 >"$D/stress-degraded.log" 2>&1 ||
  { tail -n 40 "$D/stress-degraded.log" >&2; fail "lost-update test on ceph with h3's OSD down"; }

echo "-- down"
namespaces=$(bash "$T" status "$D" | awk '$3 == "up" { print $2 }')
bash "$T" exec "$D" h2 sleep 600 2>/dev/null &
stray=$!
sleep 0.5
bash "$T" down "$D" || fail "down"
i=0
while kill -0 "$stray" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
if kill -0 "$stray" 2>/dev/null; then
  fail "a process left on h2 survived down"
  kill "$stray"
fi
for ns in $namespaces; do ip netns list | grep -qw "$ns" && fail "namespace $ns left after down"; done
pgrep -f "$D/" >/dev/null && fail "processes of $D left after down"
bash "$T" down "$D" || fail "a second down"
[ "$(ip -o link | awk -F': ' '{ print $2 }' | sort)" = "$links_before" ] || fail "links left after down"

[ "$status" = 0 ] && echo "hosts: ok"
exit $status
