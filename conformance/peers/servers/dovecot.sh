#!/usr/bin/env bash
# dovecot.sh - Dovecot with the interface of the other start scripts in this folder: runs
# conformance/peers/dovecot.sh (which stays where it is, for the tests and benchmarks that
# use it), fills its Maildir with mailbox.py's awkward messages and writes the common env.
#
#   dovecot.sh start DIR [PLAIN_PORT TLS_PORT]   set up DIR and start; prints the ports
#   dovecot.sh stop DIR                          stop the instance started in DIR
set -euo pipefail
script_name=dovecot.sh
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"
peer=$servers_dir/../dovecot.sh
cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || die "usage: dovecot.sh start|stop DIR [PLAIN_PORT TLS_PORT]"
case "$cmd" in
start)
  mkdir -p "$dir"; dir=$(cd "$dir" && pwd)
  # ../dovecot.sh makes the mail user; it must reach DIR (its Maildir is there).
  ensure_user pop3kitmail
  need_reachable "$dir" pop3kitmail
  "$peer" start "$dir" ${3:+"$3"} ${4:+"$4"}
  # shellcheck disable=SC1091
  . "$dir/env"
  owner="$(id -u pop3kitmail):$(id -g pop3kitmail)"
  python3 "$mailbox_py" maildir "$DOVECOT_MAILDIR" --owner "$owner" 2>>"$dir/mailbox.log"
  wait_greeting "$DOVECOT_PORT" && wait_greeting "$DOVECOT_TLS_PORT" tls ||
    { "$peer" stop "$dir"; die "Dovecot did not greet"; }
  version=$(dpkg-query -W -f='${Version}' dovecot-pop3d)
  cp "$dir/env" "$dir/dovecot.env"
  write_env "$dir" dovecot "$version" "$DOVECOT_PORT" yes "$DOVECOT_TLS_PORT" \
    "$DOVECOT_USER" "$DOVECOT_PASSWORD" "$0 stop $dir"
  cat "$dir/dovecot.env" >> "$dir/env"
  echo "Dovecot $version: plain+STLS 127.0.0.1:$DOVECOT_PORT, TLS 127.0.0.1:$DOVECOT_TLS_PORT"
  ;;
stop) "$peer" stop "$dir" ;;
*) die "unknown command $cmd" ;;
esac
