#!/bin/sh
# diff_persistent.sh FUZZ CASES PYTHON - an adapter that declares itself persistent serves
# every run of a diff campaign from one process (its process id is the same for all 12
# runs), and --one-shot starts one per run; the verdicts are the same either way.
set -u
fuzz=$1 cases=$2 py=$3
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
run() { # run LOG [--one-shot]
    log=$1
    shift
    DIFF_PID_LOG=$out/$log "$fuzz" diff "$@" --client "a=$py $here/diff_client_persistent.py" \
        --client "b=$py $here/diff_client.py" --cases "$cases" --filter 'ex-rfc1939-5-*' \
        --iterations 12 --seed 2 --out "$out/found-$log" >"$out/$log.out" 2>&1
    rc=$?
    cat "$out/$log.out"
    [ "$rc" = 0 ] || fail "exit $rc, expected 0"
    grep -q "^12 runs, 0 disagreements$" "$out/$log.out" || fail "summary"
}
run persistent
[ "$(wc -l < "$out/persistent")" -ge 12 ] || fail "the persistent adapter served fewer than 12 cases"
[ "$(sort -u "$out/persistent" | wc -l)" = 1 ] || fail "more than one process: $(sort -u "$out/persistent" | tr '\n' ' ')"
run oneshot --one-shot
n=$(wc -l < "$out/oneshot")
[ "$n" -ge 12 ] || fail "--one-shot served fewer than 12 cases"
[ "$(sort -u "$out/oneshot" | wc -l)" = "$n" ] || fail "--one-shot reused a process"
echo "ok: one process for $(wc -l < "$out/persistent") cases; --one-shot: $n processes"
