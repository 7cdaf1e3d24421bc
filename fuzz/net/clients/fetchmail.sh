#!/bin/sh
# fetchmail.sh - one fetchmail poll, for pop3-fuzz client: CAPA, USER and PASS, STAT,
# LIST and RETR of every message, QUIT (RFC 1939 sections 4 to 7); messages go to an MDA
# that discards them. fetchmail's exit statuses 0-14 are its documented verdicts (no
# mail, socket error, authentication failed, protocol error, ...); 23 is its internal
# error: run with --ok-exit 0-14.
set -eu
work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-fetchmail-XXXXXX")
trap 'rm -rf "$work"' EXIT
printf 'poll %s protocol pop3 port %s auth password timeout 5 user "%s" password "%s" mda "cat >/dev/null" keep fetchall sslproto ""\n' \
  "${POP3_HOST:-127.0.0.1}" "${POP3_PORT:?}" "${POP3_USER:-user}" "${POP3_PASSWORD:-secret}" > "$work/rc"
chmod 600 "$work/rc"
rc=0
HOME=$work FETCHMAILHOME=$work fetchmail -f "$work/rc" --nosyslog --nodetach \
  --idfile "$work/ids" --pidfile "$work/pid" >/dev/null || rc=$?
exit "$rc"
