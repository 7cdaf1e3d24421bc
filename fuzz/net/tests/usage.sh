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
expect 2 client --client true --seed 18446744073709551616
expect 2 client --client true --hang-ms 0
expect 2 client --client true --ok-exit 9-3
expect 2 client --client true --ok-exit 256
expect 2 client --client true --no-such-option
expect 2 client --client true stray
expect 2 client --client true --seeds /nonexistent-folder
expect 2 client --client true --hang-ms 3600001
expect 2 client --client true --idle-ms 3600001
expect 2 client --client true -j 0
expect 2 client --client true -j 65
expect 2 client --client true --stack 65
expect 2 replay
expect 2 replay /nonexistent-file --client true
expect 2 server 127.0.0.1:110 --user u
expect 0 --help
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# The limits at their largest are accepted (a client that exits 0 is no finding).
expect 0 client --client true --iterations 2 -j 64 --stack 64 --hang-ms 3600000 \
    --idle-ms 3600000 --out "$dir"
# --ok-exit decides what an exit status means: 3 is fine by default, not with 0-2.
expect 0 client --client 'exit 3' --iterations 1 --out "$dir"
expect 1 client --client 'exit 3' --iterations 1 --ok-exit 0-2 --minimise-tries 0 --out "$dir"
expect 0 client --help
"$fuzz" client --client true --help | grep -q '^usage: pop3-fuzz' || fail "help text"
# --rss-mb: a client whose shell holds 8 MiB, against a limit of 4 MiB and with the
# check off.
big='x=$(head -c 8388608 /dev/zero | tr "\\0" a); exit 0'
expect 1 client --client "$big" --iterations 1 --rss-mb 4 --minimise-tries 0 --out "$dir"
ls "$dir"/memory-*.pop3 >/dev/null 2>&1 || fail "no memory finding saved"
expect 0 client --client "$big" --iterations 1 --rss-mb 0 --out "$dir/off"
echo ok
