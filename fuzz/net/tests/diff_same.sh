#!/bin/sh
# diff_same.sh FUZZ CASES PYTHON - two identical clients never disagree: diff_client.py
# twice, over 12 runs of seed 2 on the RFC 1939 example sessions, exits 0 with nothing saved.
set -u
fuzz=$1 cases=$2 py=$3
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$fuzz" diff --client "a=$py $here/diff_client.py" --client "b=$py $here/diff_client.py" \
    --cases "$cases" --filter 'ex-rfc1939-5-*' --iterations 12 --seed 2 --out "$out/found" >"$out/log" 2>&1
rc=$?
cat "$out/log"
[ "$rc" = 0 ] || { echo "FAIL: exit $rc, expected 0" >&2; exit 1; }
grep -q "^12 runs, 0 disagreements$" "$out/log" || { echo "FAIL: summary" >&2; exit 1; }
[ ! -e "$out/found" ] || { echo "FAIL: something was saved" >&2; exit 1; }
