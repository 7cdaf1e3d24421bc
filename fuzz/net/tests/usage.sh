#!/bin/sh
# usage.sh FUZZ - pop3-fuzz's usage errors exit 2 with one line and a hint; --help exits 0.
set -u
fuzz=$1
fail() { echo "FAIL: $*" >&2; exit 1; }
expect() {
    want=$1
    shift
    "$fuzz" "$@" >/dev/null 2>&1
    rc=$?
    [ "$rc" = "$want" ] || fail "pop3-fuzz $* exited $rc, expected $want"
}
expect 2
expect 2 bogus
expect 2 client
expect 2 client --client true --seconds x
expect 2 client --client true --hang-ms 0
expect 2 client --client true --ok-exit 9-3
expect 2 client --client true --ok-exit 256
expect 2 client --client true --no-such-option
expect 2 client --client true stray
expect 2 client --client true --seeds /nonexistent-folder
expect 2 replay
expect 2 replay /nonexistent-file --client true
expect 2 server 127.0.0.1:110 --user u
"$fuzz" server 127.0.0.1:110 2>&1 | grep -q 'server mode: not built yet' || fail "server message"
expect 0 --help
expect 0 client --help
"$fuzz" client --client true --help | grep -q '^usage: pop3-fuzz' || fail "help text"
echo ok
