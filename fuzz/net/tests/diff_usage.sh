#!/bin/sh
# diff_usage.sh FUZZ - the usage errors of pop3-fuzz diff and of its replay exit 2.
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
expect 0 diff --help
expect 2 diff
expect 2 diff --client pop3kit
expect 2 diff --client pop3kit --client pop3kit
expect 2 diff --client pop3kit --client 'x=/nonexistent/adapter'
expect 2 diff --client pop3kit --client true --seconds x
expect 2 diff --client pop3kit --client true --hang-ms 0
expect 2 diff --client pop3kit --client true --timeout-ms 3600001
expect 2 diff --client pop3kit --client true --stack 0
expect 2 diff --client pop3kit --client true --max-output 0
expect 2 diff --client pop3kit --client true --no-such-option
expect 2 diff --client pop3kit --client true stray
expect 2 diff --client pop3kit --client true --iterations 1 --cases /nonexistent-folder
expect 2 diff --client pop3kit --client true --iterations 1 --filter 'no-such-case-*'
expect 2 replay /nonexistent-file.case
f=$(mktemp --suffix=.case)
echo "not a reproducer" >"$f"
expect 2 replay "$f" --client pop3kit
rm -f "$f"
echo ok
