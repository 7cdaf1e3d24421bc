#!/bin/sh
# server_usage.sh FUZZ - pop3-fuzz server's and replay's usage errors exit 2 with one line.
set -u
fuzz=$1
fail() { echo "FAIL: $*" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
expect() {
    want=$1
    shift
    "$fuzz" "$@" >/dev/null 2>"$dir/err"
    rc=$?
    [ "$rc" = "$want" ] || fail "pop3-fuzz $* exited $rc, expected $want"
    if [ "$want" = 2 ]; then
        head -n 1 "$dir/err" | grep -q '^pop3-fuzz: ' || fail "pop3-fuzz $*: no one-line message"
    fi
}
export POP3_PASSWORD=secret
expect 2 server
expect 2 server 127.0.0.1:110
expect 2 server 127.0.0.1 --user u
expect 2 server 127.0.0.1:0 --user u
expect 2 server 127.0.0.1:65536 --user u
expect 2 server :110 --user u
expect 2 server 127.0.0.1:x --user u
expect 2 server 127.0.0.1:110 --user u --tls --starttls
expect 2 server 127.0.0.1:110 --user u --insecure --cafile /dev/null
expect 2 server 127.0.0.1:110 --user u --hang-ms 0
expect 2 server 127.0.0.1:110 --user u --seconds x
# Past 64 bits is not a number (it never silently becomes the largest one).
expect 2 server 127.0.0.1:110 --user u --seed 18446744073709551616
expect 2 server 127.0.0.1:110 --user u --seconds ' 5'
expect 2 server 127.0.0.1:110 --user u --max-line 10
expect 2 server 127.0.0.1:110 --user u --stack 65
expect 2 server 127.0.0.1:110 --user u --no-such-option
expect 2 server 127.0.0.1:110 --user u stray
expect 2 server 127.0.0.1:110 --user u --password-file /nonexistent-file
POP3_PASSWORD= expect 2 server 127.0.0.1:110 --user u --password-file /nonexistent-file
( unset POP3_PASSWORD; expect 2 server 127.0.0.1:110 --user u ) || exit 1
expect 0 server --help
"$fuzz" server --help | grep -q '^usage: pop3-fuzz server' || fail "help text"
# Nothing listens on port 1: the campaign cannot start (2, not a finding).
expect 2 server 127.0.0.1:1 --user u --iterations 1 --hang-ms 200 --out "$dir/f"
# A transcript with a bad line, and replay's own usage errors.
printf '# pop3-fuzz server transcript\nX: nothing\n' >"$dir/bad.txt"
expect 2 replay "$dir/bad.txt" 127.0.0.1:110 --user u
printf '# pop3-fuzz server transcript\nC: NOOP \\q\n' >"$dir/bad.txt"
expect 2 replay "$dir/bad.txt" 127.0.0.1:110 --user u
printf '# pop3-fuzz server transcript\nC: NOOP\n' >"$dir/ok.txt"
expect 2 replay "$dir/ok.txt"
expect 2 replay "$dir/ok.txt" 127.0.0.1:110
expect 2 replay "$dir/ok.txt" 127.0.0.1:110 --user u extra
echo ok
