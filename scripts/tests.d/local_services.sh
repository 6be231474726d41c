#!/usr/bin/env bash
# Checks scripts/local-services.sh itself on a cluster of its own: start,
# idempotent start, data through rados and S3 (http, and https verified with
# the test CA), osd-stop/osd-start keeping the data, rgw-stop/rgw-start, stop
# leaving no process behind, stop idempotent.
set -uo pipefail
cd "$(dirname "$0")/../.."
S=scripts/local-services.sh
D=$(mktemp -d /tmp/dosna-svc-test.XXXXXX)
fail() { echo "local_services test: FAIL: $*" >&2; bash "$S" stop "$D" >/dev/null 2>&1; rm -rf "$D"; exit 1; }
trap 'bash "$S" stop "$D" >/dev/null 2>&1; rm -rf "$D"' EXIT

unset CEPH_CONF DOSNA_CEPH_POOL
bash "$S" start "$D" || fail "start"
bash "$S" start "$D" 2>/dev/null || fail "second start is not a no-op"
# shellcheck disable=SC1091
. "$D/env.sh"
[ -n "$CEPH_CONF" ] && [ -n "$DOSNA_CEPH_POOL" ] && [ -n "$DOSNA_S3_ENDPOINT" ] &&
  [ -n "$DOSNA_S3_HTTPS_ENDPOINT" ] && [ -f "$DOSNA_S3_CA_BUNDLE" ] || fail "env.sh incomplete"
grep -q '^\[default\]' "$AWS_SHARED_CREDENTIALS_FILE" || fail "no [default] profile"
head -c 100000 /dev/urandom >"$D/in"
rados -p "$DOSNA_CEPH_POOL" put obj "$D/in" || fail "rados put"
/usr/bin/python3 - <<'PY' || fail "S3 round trip"
import boto3, os
s3 = boto3.client("s3", endpoint_url=os.environ["DOSNA_S3_ENDPOINT"])
s3.create_bucket(Bucket="svc-test")
s3.put_object(Bucket="svc-test", Key="k", Body=b"x" * 1000)
assert s3.get_object(Bucket="svc-test", Key="k")["Body"].read() == b"x" * 1000
s3.delete_object(Bucket="svc-test", Key="k")
s3.delete_bucket(Bucket="svc-test")
# https with the test CA; the system CAs do not know it.
tls = boto3.client("s3", endpoint_url=os.environ["DOSNA_S3_HTTPS_ENDPOINT"],
                   verify=os.environ["DOSNA_S3_CA_BUNDLE"])
tls.list_buckets()
try:
    boto3.client("s3", endpoint_url=os.environ["DOSNA_S3_HTTPS_ENDPOINT"]).list_buckets()
    raise SystemExit("https verified without the test CA")
except Exception as e:
    if "SSL" not in repr(e) and "certificate" not in repr(e):
        raise
PY
bash "$S" osd-stop "$D" || fail "osd-stop"
bash "$S" status "$D" >/dev/null && fail "status says all running with the OSD stopped"
bash "$S" osd-start "$D" || fail "osd-start"
rados -p "$DOSNA_CEPH_POOL" get obj "$D/out" || fail "rados get after the OSD restart"
cmp -s "$D/in" "$D/out" || fail "object changed across the OSD restart"
bash "$S" rgw-stop "$D" || fail "rgw-stop"
bash "$S" rgw-start "$D" || fail "rgw-start"
bash "$S" status "$D" >/dev/null || fail "not all daemons running"
pids=$(awk '{print $2}' "$D/pids")
bash "$S" stop "$D" || fail "stop"
for p in $pids; do
  if [ -r "/proc/$p/cmdline" ] && tr '\0' ' ' <"/proc/$p/cmdline" | grep -qF "$D/"; then
    fail "pid $p still running after stop"
  fi
done
bash "$S" stop "$D" || fail "second stop"
bash "$S" stop "$D/missing" || fail "stop of a missing dir"
echo "local_services test: ok"
