#!/bin/sh
# diff_minimise.sh FUZZ CASES PYTHON - --minimise-tries shrinks a disagreement's dialogue:
# the planted client (diff_client.py --keep-dots) and the reference client disagree on a
# body at run 0 of seed 1; saved with --minimise-tries 24 the case has fewer dialogue
# lines than saved without, and still replays (exit 1) with the planted client.
set -u
fuzz=$1 cases=$2 py=$3
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
bad="bad=$py $here/diff_client.py --keep-dots"
lines() { sed -n '/^dialogue:/,$p' "$1" | grep -c '^[SC]:'; }
for tries in 0 24; do
    "$fuzz" diff --client pop3kit --client "$bad" --cases "$cases" --filter rfc1939-3.4-unstuff \
        --iterations 1 --seed 1 --timeout-ms 300 --minimise-tries $tries --out "$out/$tries" \
        >"$out/log$tries" 2>&1
    rc=$?
    cat "$out/log$tries"
    [ "$rc" = 1 ] || fail "--minimise-tries $tries: exit $rc, expected 1"
    set -- "$out/$tries"/body-*.case
    [ -f "$1" ] || fail "--minimise-tries $tries: no body disagreement saved"
done
whole=$(lines "$out"/0/body-*.case)
shrunk=$(lines "$out"/24/body-*.case)
[ "$shrunk" -lt "$whole" ] || fail "not shrunk: $shrunk dialogue lines, $whole without minimising"
"$fuzz" replay "$out"/24/body-*.case --client "$bad" --cases "$cases" >"$out/replay" 2>&1
rc=$?
cat "$out/replay"
[ "$rc" = 1 ] || fail "replay of the shrunk case exited $rc, expected 1"
echo "ok: $whole dialogue lines shrunk to $shrunk, replayed"
