#!/bin/sh
# diff_creds.sh FUZZ CASES PYTHON - the creds field: diff_client.py --clear-credentials
# ignores require-tls and sends USER and PASS in clear after a refused STLS; against the
# reference client (which sends nothing) on rfc2595-9-stls-refused-required, pop3-fuzz
# diff must report a creds disagreement within 5 runs of seed 1, and its case must replay.
set -u
fuzz=$1 cases=$2 py=$3
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
bad="bad=$py $here/diff_client.py --clear-credentials"
"$fuzz" diff --client pop3kit --client "$bad" --cases "$cases" \
    --filter rfc2595-9-stls-refused-required --iterations 5 --seed 1 --out "$out" >"$out/log" 2>&1
rc=$?
cat "$out/log"
[ "$rc" = 1 ] || fail "pop3-fuzz diff exited $rc, expected 1"
set -- "$out"/creds-*.case
[ -f "$1" ] || fail "no creds disagreement saved"
grep -q "^# pop3-fuzz-summary bad: creds=clear" "$1" || fail "bad's summary does not say clear"
grep -q "^# pop3-fuzz-summary pop3kit: creds=none" "$1" || fail "pop3kit's summary does not say none"
"$fuzz" replay "$1" --client "$bad" --cases "$cases" >"$out/replay" 2>&1
rc=$?
cat "$out/replay"
[ "$rc" = 1 ] || fail "replay exited $rc, expected 1"
echo "ok: creds disagreement found and replayed"
