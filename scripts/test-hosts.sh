#!/usr/bin/env bash
# A test network of three hosts on this machine, with one Ceph cluster across
# them and OpenMPI launching ranks on them. Needs root (ip netns).
#
#   test-hosts.sh up [DIR]                  hosts h1 h2 h3 + Ceph; writes DIR/env.sh
#   test-hosts.sh down [DIR]                daemons, processes and namespaces gone
#   test-hosts.sh exec DIR HOST CMD...      runs CMD on HOST (h1, h2 or h3)
#   test-hosts.sh mpiexec DIR ARGS...       mpiexec on h1, ranks on h1, h2, h3 in turn
#   test-hosts.sh osd-kill DIR HOST [SIG]   stops HOST's OSD with SIG (default KILL)
#   test-hosts.sh status DIR                daemons and namespaces; non-zero unless all run
#
# DIR defaults to /tmp/dosna-hosts. Host hN is a network namespace whose eth0
# (10.77.0.N/24) is a veth into a bridge in a fourth namespace, the switch.
# No namespace has a default route or NAT and nothing is attached to the
# machine's own network, so nothing leaves the machine. Commands on a host
# also get their own hostname (UTS namespace) and DIR/hosts as /etc/hosts (a
# bind mount private to them); /etc itself is never written.
#
# Ceph: the monitor and radosgw (http://10.77.0.1:7480) on h1, osd.N-1 on hN
# (memstore), CRUSH failure domain host, pool size 2, min_size 1, so any one
# host's OSD may die without losing data. Fast failure detection: a killed OSD
# is marked down within a few seconds and clients carry on with the others.
# DIR/env.sh sets CEPH_CONF, DOSNA_CEPH_POOL, DOSNA_S3_ENDPOINT and AWS_*;
# its values are valid on the hosts only (run clients through exec/mpiexec).
#
# mpiexec: OpenMPI's rsh launcher with DIR/agent as its remote agent; the
# agent enters the named host and runs the daemon's command line there, as
# ssh would. TCP (bootstrap and MPI traffic) is restricted to 10.77.0.0/24.
# `up` and `down` are idempotent; `down` also cleans up after a failed `up`
# or a run that was killed (every process left in a namespace is killed).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SELF=$HERE/test-hosts.sh
# shellcheck source=local-services.sh
. "$HERE/local-services.sh"

HOSTS="h1 h2 h3"
SUBNET=10.77.0
NET=$SUBNET.0/24

th_die() { echo "test-hosts: $*" >&2; exit 1; }

th_usage() {
  sed -n '2,11p' "$SELF" >&2
  exit 2
}

# Sets DIR (absolute, also when it does not exist) and the namespace names,
# which are unique per DIR so several networks can coexist.
th_init() {  # dir
  local d=$1
  case "$d" in /*) ;; *) d=$PWD/$d ;; esac
  d=$(realpath -m "$d")
  ls_init_dir "$d"
  TAG=$(printf %s "$DIR" | cksum | awk '{ printf "%05x", $1 % 1048576 }')
  NS_PREFIX=dosna-$TAG
}

ns_of() {  # host -> namespace
  echo "$NS_PREFIX-$1"
}

# h1|h2|h3 or 10.77.0.N -> hN; fails for anything else.
host_name() {  # name
  case "$1" in
    h1|h2|h3) echo "$1" ;;
    "$SUBNET".[123]) echo "h${1##*.}" ;;
    *) return 1 ;;
  esac
}

ns_exists() {  # namespace
  [ -e "/run/netns/$1" ]
}

# Runs CMD on HOST: in its network namespace, with its hostname and hosts file.
host_exec() {  # host cmd...
  local h=$1
  shift
  ns_exists "$(ns_of "$h")" || { echo "test-hosts: host $h is not up (no namespace $(ns_of "$h"))" >&2; return 1; }
  ip netns exec "$(ns_of "$h")" unshare --uts -- /bin/sh -c \
    'hostname "$1" && mount --bind "$2" /etc/hosts && shift 2 && exec "$@"' \
    sh "$h" "$DIR/hosts" "$@"
}

# Places the cluster's daemons for local-services' building blocks: osd.N on
# host h(N+1), everything else on h1.
ls_run() {  # name cmd...
  local who=$1 h=h1
  shift
  case "$who" in osd.*) h=h$((${who#osd.} + 1)) ;; esac
  host_exec "$h" "$@"
}

# ---------------------------------------------------------------- network
net_up() {
  local sw i h ns tmp
  sw=$(ns_of sw)
  ip netns add "$sw" || return 1
  ip -n "$sw" link set dev lo up &&
    ip -n "$sw" link add br0 type bridge &&
    ip -n "$sw" link set dev br0 up || return 1
  i=0
  for h in $HOSTS; do
    i=$((i + 1))
    ns=$(ns_of "$h")
    tmp=dn$TAG$h  # both ends are made here, then moved and renamed
    ip netns add "$ns" &&
      ip link add "${tmp}s" type veth peer name "${tmp}h" &&
      ip link set dev "${tmp}s" netns "$sw" &&
      ip link set dev "${tmp}h" netns "$ns" &&
      ip -n "$sw" link set dev "${tmp}s" name "port$i" &&
      ip -n "$sw" link set dev "port$i" master br0 &&
      ip -n "$sw" link set dev "port$i" up &&
      ip -n "$ns" link set dev "${tmp}h" name eth0 &&
      ip -n "$ns" addr add "$SUBNET.$i/24" dev eth0 &&
      ip -n "$ns" link set dev eth0 up &&
      ip -n "$ns" link set dev lo up || return 1
  done
}

# Kills every process still in one of our namespaces, then deletes them.
net_down() {
  local n ns pids i
  for n in $HOSTS sw; do
    ns=$(ns_of "$n")
    ns_exists "$ns" || continue
    pids=$(ip netns pids "$ns" 2>/dev/null)
    if [ -n "$pids" ]; then
      # shellcheck disable=SC2086
      kill -KILL $pids 2>/dev/null
      i=0
      while [ $i -lt 100 ]; do
        pids=$(ip netns pids "$ns" 2>/dev/null | while read -r p; do
          grep -qs '^State:.*Z' "/proc/$p/status" || echo "$p"; done)
        [ -z "$pids" ] && break
        sleep 0.05; i=$((i + 1))
      done
    fi
    ip netns del "$ns" 2>/dev/null || echo "test-hosts: cannot delete namespace $ns" >&2
  done
  # A veth pair left in this namespace by a net_up that failed half-way.
  for h in $HOSTS; do ip link del "dn$TAG${h}s" 2>/dev/null; done
  return 0
}

write_hosts_file() {
  local i=0 h
  {
    echo "127.0.0.1 localhost"
    for h in $HOSTS; do i=$((i + 1)); echo "$SUBNET.$i $h"; done
  } >"$DIR/hosts"
}

# The remote agent OpenMPI's rsh launcher calls as `agent HOST CMD...`.
write_agent() {
  cat >"$DIR/agent" <<EOF
#!/bin/sh
exec bash '$SELF' agent '$DIR' "\$@"
EOF
  chmod 755 "$DIR/agent"
}

# ---------------------------------------------------------------- ceph
# The cluster's shape on top of local-services' defaults.
ceph_knobs() {
  ADDR=$SUBNET.1
  NETWORK=$NET
  BIND_GLOBAL=0
  POOL_SIZE=2
  CHOOSELEAF=1
  OBJECTSTORE=memstore
  WITH_RGW=1
  POOL=dosna
  MON_PORT=3300
  MON_PORT1=6789
  RGW_PORT=7480
  RGW_SSL_PORT=7443
  CONF_GLOBAL_EXTRA="osd heartbeat interval = 1
osd heartbeat grace = 4
mon osd adjust heartbeat grace = false
osd crush update on start = true"
  local i=0 h
  CONF_SECTIONS_EXTRA="
[mon.a]
public addr = $SUBNET.1

[client.rgw.local]
public addr = $SUBNET.1"
  for h in $HOSTS; do
    CONF_SECTIONS_EXTRA="$CONF_SECTIONS_EXTRA

[osd.$i]
public addr = $SUBNET.$((i + 1))
cluster addr = $SUBNET.$((i + 1))
crush location = root=default host=$h"
    i=$((i + 1))
  done
}

ceph_up() {
  ceph_knobs
  mkdir -p "$DIR/run" "$DIR/log" "$DIR/crash" "$DIR/mon" "$DIR/osd" "$DIR/rgw"
  FSID=$("$PY" -c 'import uuid; print(uuid.uuid4())')
  OSD_UUID=""
  write_conf
  make_keys || return 1
  make_mon || return 1
  local i=0 h
  for h in $HOSTS; do
    make_osd "$i" "$("$PY" -c 'import uuid; print(uuid.uuid4())')" || return 1
    i=$((i + 1))
  done
  # Every OSD in the map before the pools exist: each PG starts with two copies.
  for i in 0 1 2; do
    wait_osd_active 60 "$i" || { fail_start "osd.$i did not become active"; return 1; }
  done
  create_pools_and_probe 2>>"$DIR/log/pools.out" ||
    { fail_start "pool creation / probe put-get failed: $(tail -n 3 "$DIR/log/pools.out")"; return 1; }
  make_rgw || return 1
  write_env
}

# ---------------------------------------------------------------- commands
all_running() {
  local h n
  for h in $HOSTS sw; do ns_exists "$(ns_of "$h")" || return 1; done
  for n in mon.a osd.0 osd.1 osd.2 rgw; do alive "$(pid_of "$n")" || return 1; done
  [ -f "$DIR/env.sh" ]
}

th_up() {
  [ "$(id -u)" = 0 ] || th_die "up needs root (ip netns)"
  if [ -d "$DIR" ] && all_running; then
    echo "test-hosts: already up in $DIR" >&2
    return 0
  fi
  th_down  # whatever a previous, partial run left
  mkdir -p "$DIR" || th_die "cannot create $DIR"
  write_hosts_file
  write_agent
  net_up || { echo "test-hosts: network setup failed" >&2; th_down; return 1; }
  ceph_up || { th_down; return 1; }
  echo "test-hosts: up in $DIR (hosts $HOSTS on $NET; mon and s3 http://$ADDR:$RGW_PORT on h1)" >&2
}

th_down() {
  if [ -f "$PIDS" ]; then LS_QUIET=1 cmd_stop; fi
  net_down
  if [ -d "$DIR" ]; then
    # The logs stay for a look after a failure; the rest goes.
    (cd "$DIR" && rm -rf mon osd run rgw crash pids state.env env.sh ceph.conf keyring monmap \
      aws-credentials aws-config hosts agent tmp .pids.*)
  fi
  return 0
}

th_osd_kill() {  # host [sig]
  local h sig=${2:-KILL} n
  h=$(host_name "$1") || th_die "osd-kill: unknown host '$1' (h1, h2 or h3)"
  n=$((${h#h} - 1))
  sig=${sig#SIG}
  alive "$(pid_of "osd.$n")" || th_die "osd-kill: osd.$n on $h is not running"
  kill_daemon "osd.$n" "$sig" 30
}

th_status() {
  local rc=0 h n pid
  for h in $HOSTS sw; do
    if ns_exists "$(ns_of "$h")"; then echo "$h $(ns_of "$h") up"; else echo "$h down"; rc=1; fi
  done
  for n in mon.a osd.0 osd.1 osd.2 rgw; do
    pid=$(pid_of "$n")
    if alive "$pid"; then echo "$n $pid running"; else echo "$n stopped"; rc=1; fi
  done
  return $rc
}

# mpiexec from h1 over the three hosts, one slot each (--oversubscribe for
# more). Each job keeps its session directories under a DIR/tmp of its own:
# two jobs started at once on one host race on a shared /tmp/ompi.HOST.UID.
th_mpiexec() {  # args...
  local tmp rc
  mkdir -p "$DIR/tmp" && tmp=$(mktemp -d "$DIR/tmp/mpi.XXXXXX") || th_die "cannot make a session dir under $DIR/tmp"
  host_exec h1 mpiexec --allow-run-as-root --oversubscribe --host h1,h2,h3 \
    --mca plm_rsh_agent "$DIR/agent" --mca plm_rsh_no_tree_spawn 1 \
    --mca orte_tmpdir_base "$tmp" \
    --mca oob_tcp_if_include "$NET" --mca btl_tcp_if_include "$NET" "$@"
  rc=$?
  rm -rf "$tmp"
  return $rc
}

# As ssh: HOST, then the words of a shell command line.
th_agent() {  # [options] host words...
  while [ $# -gt 0 ] && [ "${1#-}" != "$1" ]; do shift; done
  [ $# -ge 1 ] || th_die "agent: no host"
  local h
  h=$(host_name "$1") || th_die "agent: unknown host '$1' (h1, h2 or h3)"
  shift
  host_exec "$h" /bin/bash -c "$*"
}

th_main() {
  [ $# -ge 1 ] || th_usage
  local cmd=$1
  shift
  case "$cmd" in
    up|down)
      th_init "${1:-/tmp/dosna-hosts}"
      if [ "$cmd" = up ]; then th_up; else th_down; fi ;;
    exec)
      [ $# -ge 3 ] || th_usage
      th_init "$1"
      local h
      h=$(host_name "$2") || th_die "exec: unknown host '$2' (h1, h2 or h3)"
      shift 2
      host_exec "$h" "$@" ;;
    mpiexec) [ $# -ge 1 ] || th_usage; th_init "$1"; shift; th_mpiexec "$@" ;;
    agent) [ $# -ge 2 ] || th_usage; th_init "$1"; shift; th_agent "$@" ;;
    osd-kill) [ $# -ge 2 ] || th_usage; th_init "$1"; shift; th_osd_kill "$@" ;;
    status) [ $# -ge 1 ] || th_usage; th_init "$1"; th_status ;;
    *) th_usage ;;
  esac
}

th_main "$@"
