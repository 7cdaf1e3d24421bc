#!/bin/sh
# getmail.sh - one getmail6 run, for pop3-fuzz client: USER and PASS, UIDL, LIST, RETR
# of every message, QUIT (RFC 1939 sections 5 to 7), through Python's poplib, into a
# Maildir that is thrown away. getmail exits 0 (done), 2 (configuration), 3 (an error it
# reports) or 127 (a retriever failed); 4 is its "unhandled exception, please report":
# run with --ok-exit 0-3,127.
set -eu
work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-getmail-XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/md/new" "$work/md/cur" "$work/md/tmp"
cat > "$work/rc" <<RC
[retriever]
type = SimplePOP3Retriever
server = ${POP3_HOST:-127.0.0.1}
port = ${POP3_PORT:?}
username = ${POP3_USER:-user}
password = ${POP3_PASSWORD:-secret}
timeout = 5
[destination]
type = Maildir
path = $work/md/
[options]
read_all = true
delete = false
delivered_to = false
received = false
verbose = 0
RC
rc=0
HOME=$work getmail --getmaildir="$work" --rcfile="$work/rc" >/dev/null || rc=$?
exit "$rc"
