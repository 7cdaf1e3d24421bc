#!/bin/sh
# server.sh FUZZ PLANTED MOCK BUG SEED ITERATIONS HANG_MS [restart] - pop3-fuzz server must find
# the bug planted in PLANTED (die, hang, broken or extra) within ITERATIONS sessions of SEED and
# save a transcript; the transcript must reproduce it against a fresh planted server
# (replay exit 1) and not against pop3-mock serving a correct maildrop (replay exit 0).
# With "restart", a dead server is started again by --restart on the same port: the
# campaign goes on to its last run.
set -u
fuzz=$1 planted=$2 mock=$3 bug=$4 seed=$5 iterations=$6 hang=$7 restart=${8:-}
dir=$(mktemp -d)
pids=""
trap 'for p in $pids $(cat "$dir/restarted" 2>/dev/null); do kill "$p" 2>/dev/null; done; rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
export POP3_PASSWORD=secret
# wait_port FILE: the port a server wrote there.
wait_port() {
    for _ in $(seq 100); do
        [ -s "$1" ] && { cat "$1"; return 0; }
        sleep 0.1
    done
    fail "no port in $1"
}
start_planted() {
    rm -f "$dir/port"
    "$planted" "$bug" "$dir/port" >/dev/null &
    pids="$pids $!"
    port=$(wait_port "$dir/port")
}
case $bug in
die) kind=dead ;;
extra) kind=broken ;;
*) kind=$bug ;;
esac

start_planted
set --
if [ -n "$restart" ]; then
    set -- --restart "'$planted' $bug '$dir/port2' $port >/dev/null 2>&1 & echo \$! >>'$dir/restarted'"
fi
"$fuzz" server "127.0.0.1:$port" --user user --iterations "$iterations" --seed "$seed" \
    --hang-ms "$hang" --minimise-tries 8 --out "$dir/findings" "$@" >"$dir/out" 2>"$dir/err"
rc=$?
cat "$dir/out"
if [ -n "$restart" ]; then
    grep -q 'campaign stopped' "$dir/out" && fail "the campaign stopped despite --restart"
    tail -n 1 "$dir/out" | grep -Eq "^$iterations runs, [1-9][0-9]* findings$" || fail "not all runs"
    # Deaths only (one after a bare line end, where the command is not known, may add one).
    [ -z "$(ls "$dir/findings" | grep -v '^dead-')" ] || fail "not only deaths: $(ls "$dir/findings")"
    [ -s "$dir/restarted" ] || fail "--restart never ran"
fi
[ "$rc" = 1 ] || { cat "$dir/err" >&2; fail "exit status $rc, expected 1 (findings)"; }
tail -n 1 "$dir/out" | grep -Eq '^[0-9]+ runs, [1-9][0-9]* findings$' || fail "last line"
found=$(ls "$dir/findings/$kind"-*.txt 2>/dev/null | head -n 1)
[ -n "$found" ] || fail "no $kind finding saved in $(ls "$dir/findings")"
cat "$found"
grep -q '^# reproduce: pop3-fuzz replay ' "$found" || fail "no reproduce line in $found"
# The planted bug is the only thing wrong with the server (its farewell line is not).
[ -n "$restart" ] || [ "$(ls "$dir/findings" | wc -l)" = 1 ] ||
    fail "more than one finding: $(ls "$dir/findings")"
# Neither the password nor the base64 PLAIN credentials the server may echo.
grep -qi -e 'secret' -e 'AHVZZXIAC2VJCMV0' "$found" && fail "the credentials are in $found"

start_planted
"$fuzz" replay "$found" "127.0.0.1:$port" --hang-ms "$hang"
rc=$?
[ "$rc" = 1 ] || fail "replay against the planted server: exit $rc, expected 1"

mkdir -p "$dir/maildrop"
printf 'Subject: one\r\n\r\nfirst\r\n' >"$dir/maildrop/1"
printf 'Subject: two\r\n\r\nsecond\r\n' >"$dir/maildrop/2"
"$mock" --maildrop "$dir/maildrop" --user user --password secret --listen 127.0.0.1:0 \
    --port-file "$dir/mockport" >/dev/null &
pids="$pids $!"
port=$(wait_port "$dir/mockport")
"$fuzz" replay "$found" "127.0.0.1:$port" --hang-ms 3000
rc=$?
[ "$rc" = 0 ] || fail "replay against pop3-mock: exit $rc, expected 0"
echo "ok: $kind found, replayed against the planted server (1) and pop3-mock (0)"
