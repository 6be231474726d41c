#!/usr/bin/env bash
# Credentials and signatures never appear in what DosNa prints or logs. With
# radosgw's debug log at level 20 (which records the SigV4 signature of every
# request it verifies), runs the s3 suites -- the C++ S3 tests and the s3
# backend x engine matrix, the Python and CLI tests of s3 -- and CLI commands
# that fail on purpose (wrong secret, unknown CA, unreachable endpoint,
# corrupt chunk, bad options), keeping every output. Then greps each of those
# logs (and ctest's logs of the run before) for the secret key, a wrong secret
# the commands used, and every signature radosgw saw; and radosgw's debug log
# for the secrets (it holds the signatures by design: it verifies them).
# Needs the local services' environment (scripts/local-services.sh env.sh).
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
fail() { echo "s3_secrets: FAIL: $*" >&2; exit 1; }
if [ -z "${DOSNA_S3_ENDPOINT:-}" ] || [ -z "${DOSNA_S3_HTTPS_ENDPOINT:-}" ] || [ -z "${CEPH_CONF:-}" ]; then
  case "${DOSNA_REQUIRE_SERVICES:-}" in
    ''|0|false|no) echo "s3_secrets: skipped (no local services: DOSNA_S3_ENDPOINT, DOSNA_S3_HTTPS_ENDPOINT, CEPH_CONF)"; exit 0 ;;
    *) fail "DOSNA_REQUIRE_SERVICES is set but the s3 services' environment is not" ;;
  esac
fi
for f in build/bin/dosna build/bin/dosna_tests build/python/dosna/__init__.py; do
  [ -e "$f" ] || fail "$f is missing (build first)"
done
SVC=$(dirname "$CEPH_CONF")
ASOK=$SVC/run/client.rgw.local.asok
RGWLOG=$SVC/log/client.rgw.local.log
[ -S "$ASOK" ] && [ -f "$RGWLOG" ] || fail "no radosgw admin socket / log in $SVC"
W=$(mktemp -d /tmp/dosna-s3-secrets.XXXXXX)
rgw_debug() { ceph --admin-daemon "$ASOK" config set debug_rgw "$1" >/dev/null; }
# The debug lines this run added to radosgw's log go again at the end (they
# are large, and hold signatures).
trap 'rgw_debug 1/5 2>/dev/null; [ -n "${start:-}" ] && truncate -s "$start" "$RGWLOG"; rm -rf "$W"' EXIT
WRONG_SECRET=WrongSecretForTheLogGrep0123456789abcdefXYZ

start=$(stat -c %s "$RGWLOG") || fail "cannot read $RGWLOG"
rgw_debug 20 || fail "cannot raise radosgw's debug level"

echo "s3_secrets: running the s3 suites with radosgw at debug 20"
# The C++ suites; the S3Fault tests restart radosgw (which resets its debug
# level), they ran in the suites before.
(cd build/tests && ../bin/dosna_tests --gtest_filter='S3*:*/s3_*:-S3Fault.*') >"$W/gtest.log" 2>&1 ||
  { tail -n 30 "$W/gtest.log" >&2; fail "the C++ s3 tests failed"; }
PYTHONPATH=build/python /usr/bin/python3 -m pytest -q -rA -p no:cacheprovider tests/python -k s3 \
  >"$W/python.log" 2>&1 || { tail -n 30 "$W/python.log" >&2; fail "the Python s3 tests failed"; }
/usr/bin/python3 -m pytest -q -rA -p no:cacheprovider tests/cli/test_cli.py -k s3 \
  >"$W/cli-tests.log" 2>&1 || { tail -n 30 "$W/cli-tests.log" >&2; fail "the CLI s3 tests failed"; }

# CLI commands, most failing on purpose: every message they print is kept.
D=$ROOT/build/bin/dosna
S="s3://secrets?endpoint_url=$DOSNA_S3_ENDPOINT"
T="s3://secrets?endpoint_url=$DOSNA_S3_HTTPS_ENDPOINT"
NAME=secrets-$$
{
  say() { echo "== $*"; }  # the commands' labels (xtrace would print the wrong secret)
  say create; "$D" create "$S" "$NAME" --shape 16,16 --chunks 8,8 --dtype f4
  say ls; "$D" ls "$S"
  say info; "$D" info "$S" "$NAME"
  say slice; "$D" slice "$S" "$NAME" 0:2,0:2
  say ls https with the CA; "$D" ls "$T&verify=$DOSNA_S3_CA_BUNDLE"
  say ls https, unknown CA; "$D" ls "$T"
  say ls https, verify=False; "$D" ls "$T&verify=False"
  say ls refused; "$D" ls "s3://secrets?endpoint_url=http://127.0.0.1:9"
  say bad option; "$D" ls "$S&deadline=x"
  say endpoint with a query; "$D" ls "s3://secrets?endpoint_url=$DOSNA_S3_ENDPOINT/?X-Amz-Signature=0"
  say wrong secret; AWS_SECRET_ACCESS_KEY=$WRONG_SECRET "$D" ls "$S"
  say wrong secret, info; AWS_SECRET_ACCESS_KEY=$WRONG_SECRET "$D" info "$S" "$NAME"
  say unknown key; AWS_ACCESS_KEY_ID=NOSUCHKEY "$D" ls "$S"
  say short chunk
  /usr/bin/python3 - "$NAME" <<'EOF'
import boto3, os, sys
boto3.client("s3", endpoint_url=os.environ["DOSNA_S3_ENDPOINT"]).put_object(
    Bucket=sys.argv[1], Key="0.0", Body=b"short")
EOF
  say slice of a wrong-size chunk; "$D" slice "$S" "$NAME" 0:2,0:2
  say export; "$D" export "$S" "$NAME" "$W/out.npy"
  say rm; "$D" rm "$S" "$NAME"
  say rm again; "$D" rm "$S" "$NAME"
} >"$W/cli.log" 2>&1

rgw_debug 1/5 || fail "cannot reset radosgw's debug level"

/usr/bin/python3 - "$W" "$ROOT" "$WRONG_SECRET" "$RGWLOG" "$start" <<'EOF'
import glob, os, re, sys
work, root, wrong, rgwlog, start = sys.argv[1:]
secrets = {"AWS_SECRET_ACCESS_KEY": os.environ["AWS_SECRET_ACCESS_KEY"], "the wrong secret": wrong}
with open(rgwlog, "rb") as f:
    f.seek(int(start))
    rgw = f.read().decode(errors="replace")
signatures = set(re.findall(r"(?:v4 signature format|generated signature) = ([0-9a-f]{64})", rgw))
if len(signatures) < 100:
    sys.exit(f"s3_secrets: FAIL: radosgw logged only {len(signatures)} signatures; the check proves nothing")
logs = [os.path.join(work, n) for n in ("gtest.log", "python.log", "cli-tests.log", "cli.log")]
logs += glob.glob(os.path.join(root, "build", "Testing", "Temporary", "*.log"))
logs += glob.glob(os.path.join(root, "build", "fuzz", "*.log"))
problems = []
for path in logs:
    text = open(path, errors="replace").read()
    for what, secret in secrets.items():
        if secret in text:
            problems.append(f"{path}: holds {what}")
    leaked = signatures & set(re.findall(r"[0-9a-f]{64}", text))
    if leaked:
        problems.append(f"{path}: holds {len(leaked)} request signature(s), e.g. {sorted(leaked)[0][:12]}...")
for what, secret in secrets.items():
    if secret in rgw:
        problems.append(f"radosgw's debug log holds {what}")
cli = open(os.path.join(work, "cli.log"), errors="replace").read()
for expected in ("not trusted", "insecure", "SignatureDoesNotMatch", "holds 5 bytes", "1 attempt in"):
    if expected not in cli:
        problems.append(f"cli.log lacks '{expected}': the failing commands did not run as meant")
if problems:
    sys.exit("s3_secrets: FAIL:\n  " + "\n  ".join(problems))
print(f"s3_secrets: ok ({len(logs)} logs, {len(signatures)} signatures and 2 secrets checked, "
      f"{len(rgw) >> 20} MiB of radosgw debug log)")
EOF
