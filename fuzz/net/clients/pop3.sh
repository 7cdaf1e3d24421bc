#!/bin/sh
# pop3.sh - our own client's mail-reading session, for pop3-fuzz client: `pop3 fetch`
# (CAPA, the login it chooses, STAT, LIST/UIDL, pipelined RETR of every message into a
# Maildir: RFC 1939, RFC 2449, RFC 5034). $POP3_BIN names the program (a sanitizer build's
# build-asan/bin/pop3 for a campaign); its exit statuses 0-5 are its documented verdicts.
set -eu
work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-pop3-XXXXXX")
trap 'rm -rf "$work"' EXIT
rc=0
"${POP3_BIN:-pop3}" -H "${POP3_HOST:-127.0.0.1}" -p "${POP3_PORT:?}" -u "${POP3_USER:-user}" \
  --timeout 2 fetch "$work/Maildir" >/dev/null || rc=$?
exit "$rc"
