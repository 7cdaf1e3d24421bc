#!/bin/sh
# mpop.sh - one mpop session, for pop3-fuzz client: CAPA, USER and PASS, STAT, LIST,
# UIDL, RETR of every message with pipelining as mpop chooses it (RFC 1939, RFC 2449),
# QUIT; delivered into an mbox that is thrown away. mpop's exit statuses are sysexits:
# 70 (EX_SOFTWARE) is its internal error, the others are verdicts on the server: run
# with --ok-exit 0,64-69,71-78.
set -eu
work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-mpop-XXXXXX")
trap 'rm -rf "$work"' EXIT
printf '%s' "${POP3_PASSWORD:-secret}" > "$work/password"
rc=0
HOME=$work mpop --host="${POP3_HOST:-127.0.0.1}" --port="${POP3_PORT:?}" --timeout=5 \
  --auth=user --user="${POP3_USER:-user}" --passwordeval="cat $work/password" \
  --tls=off --keep=on --only-new=off --received-header=off \
  --uidls-file="$work/uidls" --delivery="mbox,$work/mbox" >/dev/null || rc=$?
exit "$rc"
