#!/bin/sh
# diff_planted.sh FUZZ CASES PYTHON - pop3-fuzz diff against a planted client bug: the
# reference client and diff_client.py --keep-dots (it keeps the "." of a byte-stuffed
# line) on the dot-stuffing case must disagree on a body within 10 runs of seed 1; the
# saved case must replay (exit 1) with the planted client, and not with the fixed one.
set -u
fuzz=$1 cases=$2 py=$3
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
bad="bad=$py $here/diff_client.py --keep-dots"
good="bad=$py $here/diff_client.py"
"$fuzz" diff --client pop3kit --client "$bad" --cases "$cases" --filter rfc1939-3.4-unstuff \
    --iterations 10 --seed 1 --out "$out" >"$out/log" 2>&1
rc=$?
cat "$out/log"
[ "$rc" = 1 ] || fail "pop3-fuzz diff exited $rc, expected 1 (disagreements)"
grep -q "disagreements$" "$out/log" || fail "no summary line"
set -- "$out"/body-*.case
[ -f "$1" ] || fail "no body disagreement saved"
"$fuzz" replay "$1" --client "$bad" --cases "$cases" >"$out/replay" 2>&1
rc=$?
cat "$out/replay"
[ "$rc" = 1 ] || fail "replay with the planted client exited $rc, expected 1"
grep -q "^reproduced: body differs" "$out/replay" || fail "replay did not say reproduced"
"$fuzz" replay "$1" --client "$good" --cases "$cases" >"$out/replay2" 2>&1
rc=$?
[ "$rc" = 0 ] || fail "replay with the fixed client exited $rc, expected 0"
echo "ok: found, saved as $(basename "$1"), replayed"
