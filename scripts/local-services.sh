#!/usr/bin/env bash
# Starts and stops a real single-node Ceph cluster (one ceph-mon, one ceph-osd,
# cephx on) and radosgw (S3) bound to 127.0.0.1, with every file under DIR.
#
#   local-services.sh start DIR [--objectstore memstore|bluestore] [--no-rgw] [--pool NAME]
#   local-services.sh stop DIR             kills only the PIDs recorded in DIR/pids
#   local-services.sh osd-stop DIR [SIG]   SIG defaults to TERM (clean on memstore too)
#   local-services.sh osd-start DIR
#   local-services.sh rgw-stop DIR
#   local-services.sh rgw-start DIR
#   local-services.sh status DIR
#
# `start` picks free ports, writes DIR/env.sh (CEPH_CONF, DOSNA_CEPH_POOL,
# DOSNA_S3_ENDPOINT, DOSNA_S3_HTTPS_ENDPOINT, DOSNA_S3_CA_BUNDLE, AWS_*) and
# returns 0 only once a probe put/get on the pool (and an S3 request over
# http and over https) succeeded; otherwise it prints the daemon log tails,
# stops what it started and fails. Every command is idempotent. Nothing is
# written outside DIR; no systemd, no /etc/ceph.
#
# Sourced (`. local-services.sh`) it only defines its functions, so another
# script can build a cluster of another shape from the same pieces
# (scripts/test-hosts.sh: one OSD per network namespace). Such a script calls
# ls_init_dir DIR, sets the conf knobs below, may redefine ls_run to place each
# daemon on its host, and composes make_keys / make_mon / make_osd /
# create_pools_and_probe / make_rgw.
set -uo pipefail

PY=/usr/bin/python3

die() { echo "local-services: $*" >&2; exit 1; }
log() { [ -n "${LS_QUIET:-}" ] || echo "local-services: $*" >&2; }

usage() {
  sed -n '2,16p' "${BASH_SOURCE[0]}" >&2
  exit 2
}

# Points DIR, CONF, PIDS and STATE at the cluster directory DIR (made absolute
# when it exists).
ls_init_dir() {  # dir
  DIR=$1
  if [ -d "$DIR" ]; then DIR=$(cd "$DIR" && pwd); fi
  CONF=$DIR/ceph.conf
  PIDS=$DIR/pids
  # Every ceph tool run from here reads this cluster's conf, never the caller's
  # (a caller that sourced another cluster's env.sh has CEPH_CONF set).
  unset CEPH_ARGS
  export CEPH_CONF=$CONF
  STATE=$DIR/state.env
}

# Runs a command where daemon NAME (mon.a, osd.ID, rgw) or a cluster client
# (client) lives. Here that is this host; a caller may redefine it.
ls_run() {  # name cmd...
  shift
  "$@"
}

# Conf knobs (defaults: everything on loopback, one OSD).
ADDR=127.0.0.1            # address of the mon and radosgw
NETWORK=127.0.0.0/8       # public network
BIND_GLOBAL=1             # 1: every daemon binds ADDR (public/cluster addr in [global])
POOL_SIZE=1               # osd pool default size (min size is 1)
CHOOSELEAF=0              # 0: failure domain osd, 1: host
CONF_GLOBAL_EXTRA=""      # lines appended to [global]
CONF_SECTIONS_EXTRA=""    # sections appended to the conf

# ---------------------------------------------------------------- processes
# A PID counts as ours and alive only if its cmdline mentions DIR/ (zombies
# have an empty cmdline, recycled PIDs another one).
alive() {
  local pid=$1
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$DIR/"
}

pid_of() {  # name -> pid recorded in DIR/pids
  [ -f "$PIDS" ] && awk -v n="$1" '$1 == n { print $2 }' "$PIDS" | tail -n 1
}

record_pid() {  # name pid
  local tmp
  tmp=$(mktemp "$DIR/.pids.XXXXXX")
  [ -f "$PIDS" ] && awk -v n="$1" '$1 != n' "$PIDS" >"$tmp"
  echo "$1 $2" >>"$tmp"
  mv "$tmp" "$PIDS"
}

forget_pid() {
  [ -f "$PIDS" ] || return 0
  local tmp
  tmp=$(mktemp "$DIR/.pids.XXXXXX")
  awk -v n="$1" '$1 != n' "$PIDS" >"$tmp"
  mv "$tmp" "$PIDS"
}

# Reads the pid file a daemonized ceph process writes into DIR/run.
wait_pidfile() {  # file timeout_s -> pid
  local f=$1 t=$2 i=0 pid
  while [ $i -lt $((t * 20)) ]; do
    if [ -s "$f" ]; then
      pid=$(tr -dc '0-9' <"$f")
      if alive "$pid"; then echo "$pid"; return 0; fi
    fi
    sleep 0.05; i=$((i + 1))
  done
  return 1
}

# Sends SIG to a recorded daemon and waits until it is gone; SIGKILL after
# `grace` seconds.
kill_daemon() {  # name sig grace_s
  local name=$1 sig=$2 grace=$3 pid i
  pid=$(pid_of "$name")
  if [ -z "$pid" ] || ! alive "$pid"; then forget_pid "$name"; return 0; fi
  kill "-$sig" "$pid" 2>/dev/null || true
  i=0
  while alive "$pid" && [ $i -lt $((grace * 20)) ]; do sleep 0.05; i=$((i + 1)); done
  if alive "$pid"; then
    log "$name (pid $pid) still running after ${grace}s; sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
    i=0
    while alive "$pid" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
  fi
  forget_pid "$name"
}

log_tails() {
  local f
  for f in "$DIR"/log/*.log "$DIR"/log/*.out; do
    [ -s "$f" ] || continue
    echo "== $f" >&2
    tail -n 30 "$f" >&2
  done
}

# ---------------------------------------------------------------- ports
# Picks N distinct free TCP ports on 127.0.0.1 outside the ephemeral range,
# bind-tested, so several clusters can run on this machine at once.
free_ports() {
  "$PY" - "$1" <<'EOF'
import random, socket, sys
n = int(sys.argv[1])
out = []
rng = random.SystemRandom()
while len(out) < n:
    p = rng.randrange(20000, 32000)
    if p in out or p + 1 in out or p - 1 in out:
        continue
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # As the daemons do: a port in TIME_WAIT is free, a listening one is not.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    out.append(p)
print(" ".join(map(str, out)))
EOF
}

# Whether TCP port P is free on ADDR where radosgw runs.
port_free() {  # port
  ls_run rgw "$PY" -c 'import socket,sys
s=socket.socket()
s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)
try: s.bind((sys.argv[1],int(sys.argv[2])))
except OSError: sys.exit(1)' "$ADDR" "$1"
}

# ---------------------------------------------------------------- config
write_conf() {
  local bind="" osd_pool_size_one=""
  if [ "$BIND_GLOBAL" = 1 ]; then
    bind="public addr = $ADDR
cluster addr = $ADDR"
  fi
  [ "$POOL_SIZE" = 1 ] && osd_pool_size_one="mon allow pool size one = true
mon warn on pool no redundancy = false"
  cat >"$CONF" <<EOF
[global]
fsid = $FSID
mon host = [v2:$ADDR:$MON_PORT,v1:$ADDR:$MON_PORT1]
mon initial members = a
$bind
public network = $NETWORK
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
auth allow insecure global id reclaim = false
keyring = $DIR/keyring
run dir = $DIR/run
crash dir = $DIR/crash
log file = $DIR/log/\$name.log
pid file = $DIR/run/\$name.pid
admin socket = $DIR/run/\$name.asok
osd pool default size = $POOL_SIZE
osd pool default min size = 1
$osd_pool_size_one
mon allow pool delete = true
osd crush chooseleaf type = $CHOOSELEAF
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
mon mgr mkfs grace = 31536000
mon data avail warn = 2
mon data avail crit = 1
ms bind ipv6 = false
$CONF_GLOBAL_EXTRA

[mon]
mon data = $DIR/mon/ceph-\$id
paxos propose interval = 0.05

[osd]
osd data = $DIR/osd/ceph-\$id
keyring = $DIR/osd/ceph-\$id/keyring
osd objectstore = $OBJECTSTORE
memstore device bytes = 4294967296
bluestore block path = $DIR/osd/ceph-\$id/block.file
bluestore block size = 10737418240
bluestore block create = true
bluestore fsck on mkfs = false
osd memory target = 1073741824

[client]
admin socket =
log file =

[client.rgw.local]
rgw frontends = beast endpoint=$ADDR:$RGW_PORT ssl_endpoint=$ADDR:$RGW_SSL_PORT ssl_certificate=$DIR/tls/server.crt ssl_private_key=$DIR/tls/server.key tcp_nodelay=1
rgw thread pool size = 64
admin socket = $DIR/run/\$name.asok
log file = $DIR/log/\$name.log
rgw data = $DIR/rgw
$CONF_SECTIONS_EXTRA
EOF
}

write_state() {
  cat >"$STATE" <<EOF
FSID=$FSID
MON_PORT=$MON_PORT
MON_PORT1=$MON_PORT1
RGW_PORT=$RGW_PORT
RGW_SSL_PORT=$RGW_SSL_PORT
OBJECTSTORE=$OBJECTSTORE
WITH_RGW=$WITH_RGW
POOL=$POOL
OSD_UUID=$OSD_UUID
EOF
}

write_env() {
  cat >"$DIR/aws-credentials" <<EOF
[default]
aws_access_key_id = $ACCESS_KEY
aws_secret_access_key = $SECRET_KEY
EOF
  cat >"$DIR/aws-config" <<EOF
[default]
region = us-east-1
EOF
  chmod 600 "$DIR/aws-credentials"
  {
    echo "export CEPH_CONF=$DIR/ceph.conf"
    echo "export DOSNA_CEPH_POOL=$POOL"
    if [ "$WITH_RGW" = 1 ]; then
      echo "export DOSNA_S3_ENDPOINT=http://$ADDR:$RGW_PORT"
      echo "export DOSNA_S3_HTTPS_ENDPOINT=https://$ADDR:$RGW_SSL_PORT"
      echo "export DOSNA_S3_CA_BUNDLE=$DIR/tls/ca.crt"
      echo "export AWS_ACCESS_KEY_ID=$ACCESS_KEY"
      echo "export AWS_SECRET_ACCESS_KEY=$SECRET_KEY"
      echo "export AWS_DEFAULT_REGION=us-east-1"
      echo "export AWS_SHARED_CREDENTIALS_FILE=$DIR/aws-credentials"
      echo "export AWS_CONFIG_FILE=$DIR/aws-config"
    fi
  } >"$DIR/env.sh"
}

# ---------------------------------------------------------------- daemons
start_mon() {
  ls_run mon.a ceph-mon -c "$CONF" -i a >>"$DIR/log/mon.a.out" 2>&1 || return 1
  local pid
  pid=$(wait_pidfile "$DIR/run/mon.a.pid" 15) || return 1
  record_pid mon.a "$pid"
}

start_osd() {  # [id]
  local id=${1:-0} pid
  rm -f "$DIR/run/osd.$id.pid"
  ls_run "osd.$id" ceph-osd -c "$CONF" -i "$id" >>"$DIR/log/osd.$id.out" 2>&1 || return 1
  pid=$(wait_pidfile "$DIR/run/osd.$id.pid" 30) || return 1
  record_pid "osd.$id" "$pid"
}

# Waits until the OSD reports itself active with its PGs loaded. A memstore
# OSD that went down without unmounting comes back with no PGs: report it.
wait_osd_active() {  # timeout_s [id]
  local t=$1 id=${2:-0} i=0 out
  while [ $i -lt $((t * 10)) ]; do
    out=$(ceph --admin-daemon "$DIR/run/osd.$id.asok" status 2>/dev/null || true)
    if echo "$out" | grep -q '"state": "active"'; then
      if echo "$out" | grep -q '"num_pgs": 0,'; then
        echo "osd.$id is active but has no PGs (a memstore OSD that was not stopped cleanly loses its data; use --objectstore bluestore for kill tests)" >&2
        return 1
      fi
      return 0
    fi
    alive "$(pid_of "osd.$id")" || return 1
    sleep 0.1; i=$((i + 1))
  done
  return 1
}

# A test CA and a server certificate it signed (ADDR and localhost), for
# radosgw's https endpoint: DIR/tls/{ca.crt,server.crt,server.key}.
make_tls() {
  local t=$DIR/tls
  mkdir -p "$t" || return 1
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
    -subj "/CN=DosNa local-services test CA" -keyout "$t/ca.key" -out "$t/ca.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" &&
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$ADDR" \
    -keyout "$t/server.key" -out "$t/server.csr" &&
  printf '%s\n' "subjectAltName=IP:$ADDR,DNS:localhost" "basicConstraints=CA:FALSE" \
    "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" >"$t/server.ext" &&
  openssl x509 -req -in "$t/server.csr" -CA "$t/ca.crt" -CAkey "$t/ca.key" -CAcreateserial \
    -days 30 -extfile "$t/server.ext" -out "$t/server.crt" || return 1
  chmod 600 "$t/ca.key" "$t/server.key"
}

start_rgw() {
  rm -f "$DIR/run/client.rgw.local.pid"
  ls_run rgw radosgw -c "$CONF" -n client.rgw.local >>"$DIR/log/client.rgw.local.out" 2>&1 || return 1
  local pid
  pid=$(wait_pidfile "$DIR/run/client.rgw.local.pid" 30) || return 1
  record_pid rgw "$pid"
}

wait_rgw() {  # timeout_s: both endpoints answer (https verified with the test CA)
  ls_run client "$PY" - "$ADDR" "$RGW_PORT" "$RGW_SSL_PORT" "$DIR/tls/ca.crt" "$1" <<'EOF'
import ssl, sys, time, urllib.request
addr, port, ssl_port, ca, timeout = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], float(sys.argv[5])
ctx = ssl.create_default_context(cafile=ca)
end = time.time() + timeout
todo = [f"http://{addr}:{port}/", f"https://{addr}:{ssl_port}/"]
while todo and time.time() < end:
    try:
        with urllib.request.urlopen(todo[0], timeout=2, context=ctx) as r:
            if r.status == 200:
                todo.pop(0)
                continue
    except Exception:
        pass
    time.sleep(0.1)
sys.exit(1 if todo else 0)
EOF
}

# Creates the pools (ours and radosgw's) from one process, then probes a
# put/get on our pool until it succeeds.
create_pools_and_probe() {
  local rgw_pools=""
  [ "$WITH_RGW" = 1 ] && rgw_pools=".rgw.root default.rgw.log default.rgw.control default.rgw.meta default.rgw.buckets.index default.rgw.buckets.data default.rgw.buckets.non-ec"
  CEPH_CONF=$CONF ls_run client "$PY" - "$POOL" $rgw_pools <<'EOF'
import json, os, sys, threading, time
import rados

pool, rgw_pools = sys.argv[1], sys.argv[2:]
c = rados.Rados(conffile=os.environ["CEPH_CONF"],
                conf={"rados_osd_op_timeout": "5", "rados_mon_op_timeout": "10"})
c.connect(timeout=10)
errors = []

def make(name, app):
    for cmd in ({"prefix": "osd pool create", "pool": name},
                {"prefix": "osd pool application enable", "pool": name, "app": app,
                 "yes_i_really_mean_it": True}):
        ret, _, err = c.mon_command(json.dumps(cmd), b"")
        if ret != 0:
            errors.append(f"{cmd['prefix']} {name}: {ret} {err}")
            return

threads = [threading.Thread(target=make, args=(pool, "dosna"))]
threads += [threading.Thread(target=make, args=(p, "rgw")) for p in rgw_pools]
for t in threads: t.start()
for t in threads: t.join()
if errors:
    print("\n".join(errors), file=sys.stderr)
    sys.exit(1)

payload = os.urandom(1 << 16)
end = time.time() + 60
last = None
while time.time() < end:
    try:
        with c.open_ioctx(pool) as io:
            io.write_full("local-services-probe", payload)
            if io.read("local-services-probe", len(payload) + 1) != payload:
                raise RuntimeError("probe read back different bytes")
            io.remove_object("local-services-probe")
        c.shutdown()
        sys.exit(0)
    except Exception as e:  # PGs not active yet
        last = e
        time.sleep(0.1)
print(f"probe put/get on pool {pool} failed: {last!r}", file=sys.stderr)
sys.exit(1)
EOF
}

# ---------------------------------------------------------------- building blocks
# Each one fails through fail_start (log tails, stop what runs, return 1).

# Keys: one keyring for mon., client.admin and client.rgw.local; the mon's
# mkfs imports all of them into its auth database.
make_keys() {
  ceph-authtool --create-keyring "$DIR/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null &&
  ceph-authtool "$DIR/keyring" --gen-key -n client.admin \
    --cap mon 'allow *' --cap osd 'allow *' --cap mds 'allow *' --cap mgr 'allow *' >/dev/null &&
  ceph-authtool "$DIR/keyring" --gen-key -n client.rgw.local \
    --cap mon 'allow rw' --cap osd 'allow rwx' --cap mgr 'allow rw' >/dev/null ||
    { fail_start "ceph-authtool failed"; return 1; }
  chmod 600 "$DIR/keyring"
}

# Monitor a at ADDR: monmap, mkfs, start.
make_mon() {
  monmaptool --create --fsid "$FSID" \
    --addv a "[v2:$ADDR:$MON_PORT,v1:$ADDR:$MON_PORT1]" "$DIR/monmap" >/dev/null ||
    { fail_start "monmaptool failed"; return 1; }
  ls_run mon.a ceph-mon -c "$CONF" --mkfs -i a --monmap "$DIR/monmap" --keyring "$DIR/keyring" \
    >>"$DIR/log/mon.a.out" 2>&1 || { fail_start "ceph-mon --mkfs failed"; return 1; }
  start_mon || { fail_start "ceph-mon did not start"; return 1; }
}

# OSD ID with UUID: registered with the monitor, its key and store made, started.
make_osd() {  # id uuid
  local id=$1 uuid=$2 osd_key osd_id
  mkdir -p "$DIR/osd/ceph-$id"
  osd_key=$(ceph-authtool --gen-print-key) || { fail_start "ceph-authtool --gen-print-key failed"; return 1; }
  osd_id=$(echo "{\"cephx_secret\": \"$osd_key\"}" |
           ls_run client timeout 30 ceph -c "$CONF" --connect-timeout 20 osd new "$uuid" -i - 2>>"$DIR/log/ceph-cli.out") ||
    { fail_start "ceph osd new failed (is the monitor answering?)"; return 1; }
  [ "$osd_id" = "$id" ] || { fail_start "expected osd id $id, got '$osd_id'"; return 1; }
  printf '[osd.%s]\n\tkey = %s\n' "$id" "$osd_key" >"$DIR/osd/ceph-$id/keyring"
  chmod 600 "$DIR/osd/ceph-$id/keyring"
  ls_run "osd.$id" ceph-osd -c "$CONF" -i "$id" --mkfs --osd-uuid "$uuid" >>"$DIR/log/osd.$id.out" 2>&1 ||
    { fail_start "ceph-osd --mkfs failed"; return 1; }
  start_osd "$id" || { fail_start "ceph-osd did not start"; return 1; }
}

# radosgw at ADDR:RGW_PORT (http) and ADDR:RGW_SSL_PORT (https, make_tls's
# certificate) with an S3 user whose fresh keys land in
# ACCESS_KEY / SECRET_KEY.
make_rgw() {
  ACCESS_KEY=$("$PY" -c 'import secrets,string; a=string.ascii_uppercase+string.digits; print("".join(secrets.choice(a) for _ in range(20)))')
  SECRET_KEY=$("$PY" -c 'import secrets,string; a=string.ascii_letters+string.digits; print("".join(secrets.choice(a) for _ in range(40)))')
  port_free "$RGW_PORT" || { fail_start "port $RGW_PORT already in use"; return 1; }
  port_free "$RGW_SSL_PORT" || { fail_start "port $RGW_SSL_PORT already in use"; return 1; }
  make_tls 2>>"$DIR/log/openssl.out" || { fail_start "openssl could not make the test certificates"; return 1; }
  start_rgw || { fail_start "radosgw did not start"; return 1; }
  ls_run client timeout 60 radosgw-admin -c "$CONF" user create --uid dosna --display-name DosNa \
    --access-key "$ACCESS_KEY" --secret-key "$SECRET_KEY" >/dev/null 2>>"$DIR/log/radosgw-admin.out" ||
    { fail_start "radosgw-admin user create failed"; return 1; }
  wait_rgw 30 || { fail_start "radosgw did not answer on $ADDR:$RGW_PORT (http) and :$RGW_SSL_PORT (https)"; return 1; }
}

fail_start() {
  echo "local-services: start failed: $*" >&2
  log_tails
  cmd_stop
  return 1
}

# ---------------------------------------------------------------- commands
running() {
  local n
  for n in mon.a osd.0; do alive "$(pid_of "$n")" || return 1; done
  return 0
}

cmd_start() {
  OBJECTSTORE=memstore
  WITH_RGW=1
  POOL=dosna
  while [ $# -gt 0 ]; do
    case "$1" in
      --objectstore) OBJECTSTORE=$2; shift 2 ;;
      --objectstore=*) OBJECTSTORE=${1#*=}; shift ;;
      --no-rgw) WITH_RGW=0; shift ;;
      --pool) POOL=$2; shift 2 ;;
      *) die "start: unknown option $1" ;;
    esac
  done
  case "$OBJECTSTORE" in memstore|bluestore) ;; *) die "start: objectstore must be memstore or bluestore, got '$OBJECTSTORE'" ;; esac

  if [ -f "$STATE" ] && running; then
    log "already running in $DIR"
    return 0
  fi
  if [ -f "$STATE" ] || [ -f "$PIDS" ]; then
    # A previous, partial instance: stop what is left and start afresh.
    cmd_stop
    rm -rf "$DIR/mon" "$DIR/osd" "$DIR/run" "$DIR/rgw" "$DIR/tls" "$STATE" "$DIR/env.sh"
  fi
  mkdir -p "$DIR/run" "$DIR/log" "$DIR/crash" "$DIR/mon" "$DIR/osd/ceph-0" "$DIR/rgw"

  local ports
  ports=$(free_ports 4) || die "cannot pick free ports"
  read -r MON_PORT MON_PORT1 RGW_PORT RGW_SSL_PORT <<<"$ports"
  FSID=$("$PY" -c 'import uuid; print(uuid.uuid4())')
  OSD_UUID=$("$PY" -c 'import uuid; print(uuid.uuid4())')
  write_conf
  write_state

  make_keys || return 1
  make_mon || return 1
  make_osd 0 "$OSD_UUID" || return 1
  create_pools_and_probe 2>>"$DIR/log/pools.out" ||
    { fail_start "pool creation / probe put-get failed: $(tail -n 3 "$DIR/log/pools.out")"; return 1; }
  ACCESS_KEY=""; SECRET_KEY=""
  if [ "$WITH_RGW" = 1 ]; then make_rgw || return 1; fi
  write_env
  log "up in $DIR (objectstore $OBJECTSTORE, pool $POOL, mon $MON_PORT$([ "$WITH_RGW" = 1 ] && echo ", s3 http://$ADDR:$RGW_PORT"))"
}

load_state() {
  [ -f "$STATE" ] || die "no cluster state in $DIR (run start first)"
  # shellcheck disable=SC1090
  . "$STATE"
}

# Stops every recorded daemon: radosgw, the OSDs, the monitor last.
cmd_stop() {
  [ -d "$DIR" ] || return 0
  [ -f "$PIDS" ] || return 0
  kill_daemon rgw TERM 5
  # A memstore OSD is simply discarded at stop; the fast shutdown is fine.
  local osd
  for osd in $(awk '$1 ~ /^osd\./ { print $1 }' "$PIDS"); do kill_daemon "$osd" TERM 15; done
  kill_daemon mon.a TERM 10
  rm -f "$PIDS"
}

cmd_osd_stop() {
  local sig=${1:-TERM}
  sig=${sig#SIG}
  load_state
  local pid
  pid=$(pid_of osd.0)
  if [ -z "$pid" ] || ! alive "$pid"; then forget_pid osd.0; return 0; fi
  if [ "$OBJECTSTORE" = memstore ] && [ "$sig" = TERM ]; then
    # Makes memstore unmount (dump its RAM into DIR/osd) so a restart keeps data.
    ceph --admin-daemon "$DIR/run/osd.0.asok" config set osd_fast_shutdown false >/dev/null ||
      die "osd-stop: cannot switch off osd_fast_shutdown via the admin socket"
  fi
  kill_daemon osd.0 "$sig" 120
}

cmd_osd_start() {
  load_state
  if alive "$(pid_of osd.0)"; then return 0; fi
  start_osd || { log_tails; die "osd-start: ceph-osd did not start"; }
  wait_osd_active 60 || { log_tails; die "osd-start: osd.0 did not become active"; }
}

cmd_rgw_stop() {
  load_state
  kill_daemon rgw TERM 5
}

cmd_rgw_start() {
  load_state
  [ "$WITH_RGW" = 1 ] || die "rgw-start: cluster was started with --no-rgw"
  if alive "$(pid_of rgw)"; then return 0; fi
  port_free "$RGW_PORT" || die "rgw-start: port $RGW_PORT already in use"
  port_free "$RGW_SSL_PORT" || die "rgw-start: port $RGW_SSL_PORT already in use"
  start_rgw || { log_tails; die "rgw-start: radosgw did not start"; }
  wait_rgw 30 || { log_tails; die "rgw-start: radosgw did not answer on $ADDR:$RGW_PORT / :$RGW_SSL_PORT"; }
}

# Lists each daemon; non-zero unless every daemon of the cluster runs.
cmd_status() {
  [ -f "$STATE" ] || { echo "not running"; return 1; }
  load_state
  local rc=0 name pid names="mon.a osd.0"
  [ "$WITH_RGW" = 1 ] && names="$names rgw"
  for name in $names; do
    pid=$(pid_of "$name")
    if [ -n "$pid" ] && alive "$pid"; then
      echo "$name $pid running"
    else
      echo "$name stopped"
      rc=1
    fi
  done
  return $rc
}

ls_main() {
  [ $# -ge 2 ] || usage
  local cmd=$1
  case "$cmd" in
    start|osd-start|rgw-start|status) [ -d "$2" ] || mkdir -p "$2" || die "cannot create $2" ;;
  esac
  ls_init_dir "$2"
  shift 2
  case "$cmd" in
    start) cmd_start "$@" ;;
    stop) cmd_stop ;;
    osd-stop) cmd_osd_stop "$@" ;;
    osd-start) cmd_osd_start ;;
    rgw-stop) cmd_rgw_stop ;;
    rgw-start) cmd_rgw_start ;;
    status) cmd_status ;;
    *) usage ;;
  esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then ls_main "$@"; fi
