#!/bin/sh
# curl.sh - the curl tool's POP3 session, for pop3-fuzz client: CAPA, the login curl
# chooses (SASL when offered, else USER/PASS: RFC 5034, RFC 1939 section 7), RETR 1
# (RFC 1939 section 5) into /dev/null, QUIT. curl's own exit statuses (0-99) are the
# answers of a client that noticed what the server did: run with --ok-exit 0-99 so only
# a signal, a hang or memory growth is a finding.
exec curl -sS --user "${POP3_USER:-user}:${POP3_PASSWORD:-secret}" \
  -o /dev/null "pop3://${POP3_HOST:-127.0.0.1}:${POP3_PORT:?}/1"
