#!/bin/sh
# planted.sh FUZZ CLIENT KIND SEED ITERATIONS HANG_MS TRIES - pop3-fuzz must find the
# planted bug of CLIENT (a finding of KIND) within ITERATIONS runs of SEED, save it, and
# the saved script must reproduce it with `pop3-fuzz replay`.
set -u
fuzz=$1 client=$2 kind=$3 seed=$4 iterations=$5 hang=$6 tries=$7
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$fuzz" client --client "$client" --iterations "$iterations" --seed "$seed" --out "$dir/findings" \
    --hang-ms "$hang" --minimise-tries "$tries" >"$dir/out" 2>"$dir/err"
rc=$?
cat "$dir/out"
[ "$rc" = 1 ] || { cat "$dir/err" >&2; fail "exit status $rc, expected 1 (findings)"; }
tail -n 1 "$dir/out" | grep -Eq '^[0-9]+ runs, [1-9][0-9]* findings$' || fail "last line"
found=$(ls "$dir/findings/$kind"-*.pop3 2>/dev/null | head -n 1)
[ -n "$found" ] || fail "no $kind finding saved in $(ls "$dir/findings")"
grep -q '^# reproduce: pop3-fuzz replay ' "$found" || fail "no reproduce line in $found"
"$fuzz" replay "$found" --client "$client" --hang-ms "$hang"
rc=$?
[ "$rc" = 1 ] || { cat "$found" | head -c 2000 >&2; fail "replay exit $rc, expected 1"; }
echo "ok: $kind found and replayed"
