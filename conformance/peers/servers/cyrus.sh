#!/usr/bin/env bash
# cyrus.sh - run Cyrus IMAP's pop3d (Debian's cyrus-pop3d and cyrus-common, unpacked by
# install.sh: cyrus-pop3d conflicts with Dovecot's pop3-server and cyrus-common wants an
# MTA) as a POP3 peer on loopback, under Cyrus' own master process, from a config of ours.
#
#   cyrus.sh start DIR [PLAIN_PORT TLS_PORT]   set up DIR and start; prints the ports
#   cyrus.sh stop DIR                          stop the instance started in DIR
#
# Everything lives in DIR: imapd.conf and cyrus.conf (master's), the mailbox database and
# spool, the SASL password database (sasldb, user tester). The mailbox is filled over LMTP
# (lmtpd on a Unix socket in DIR; the INBOX is created on delivery), as mail reaches a real
# Cyrus. The services run as the mail user pop3kitmail (cyrus_user). The plain port offers
# STLS, the second is implicit TLS (pop3d -s). DIR/env: see common.sh. Needs root,
# sasl2-bin, libsasl2-modules-db and install.sh's trees.
set -euo pipefail
script_name=cyrus.sh
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

mail_user=pop3kitmail
common=$servers_root/cyrus-common
pop=$servers_root/cyrus-pop3d
cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || die "usage: cyrus.sh start|stop DIR [PLAIN_PORT TLS_PORT]"

case "$cmd" in
start)
  [ -x "$pop/usr/lib/cyrus/bin/pop3d" ] && [ -x "$common/usr/lib/cyrus/bin/master" ] ||
    die "Cyrus is not unpacked under $servers_root (conformance/peers/servers/install.sh)"
  command -v saslpasswd2 >/dev/null || die "saslpasswd2 is missing (sasl2-bin; install.sh)"
  [ "$(id -u)" = 0 ] || die "needs root"
  mkdir -p "$dir"; dir=$(cd "$dir" && pwd)
  plain=${3:-$(free_port)}; tls=${4:-$(free_port)}
  ensure_user "$mail_user"
  need_reachable "$dir" "$mail_user"
  uid=$(id -u "$mail_user"); gid=$(id -g "$mail_user")
  rm -rf "$dir/conf" "$dir/spool" "$dir/socket" "$dir/sasldb2"
  mkdir -p "$dir/conf" "$dir/spool" "$dir/socket"
  chmod 755 "$dir"
  make_certs "$dir"
  password=pop3kit-secret
  printf '%s' "$password" | saslpasswd2 -f "$dir/sasldb2" -p -c tester
  bin=$common/usr/lib/cyrus/bin
  cat > "$dir/imapd.conf" <<CONF
# Cyrus for pop3kit's probe: everything under this folder, loopback only.
configdirectory: $dir/conf
partition-default: $dir/spool
cyrus_user: $mail_user
admins: admin
virtdomains: off
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: $dir/sasldb2
sasl_mech_list: PLAIN LOGIN CRAM-MD5
allowplaintext: yes
allowapop: yes
autocreate_quota: 0
autocreate_post: yes
munge8bit: no
reject8bit: no
lmtpsocket: $dir/socket/lmtp
idlesocket: $dir/socket/idle
notifysocket: $dir/socket/notify
tls_server_cert: $dir/server.pem
tls_server_key: $dir/server.key
syslog_prefix: pop3kit-cyrus
CONF
  cat > "$dir/cyrus.conf" <<CONF
START {
  recover cmd="$bin/ctl_cyrusdb -C $dir/imapd.conf -r"
}
SERVICES {
  pop3 cmd="$pop/usr/lib/cyrus/bin/pop3d -C $dir/imapd.conf" listen="127.0.0.1:$plain" prefork=0
  pop3s cmd="$pop/usr/lib/cyrus/bin/pop3d -s -C $dir/imapd.conf" listen="127.0.0.1:$tls" prefork=0
  lmtpunix cmd="$bin/lmtpd -C $dir/imapd.conf" listen="$dir/socket/lmtp" prefork=0
}
EVENTS {
}
CONF
  chown -R "$uid:$gid" "$dir/conf" "$dir/spool" "$dir/socket" "$dir/sasldb2" "$dir/server.key"
  start_group "$dir/group.pid" "$dir/master.log" env \
    LD_LIBRARY_PATH="$common/usr/lib/x86_64-linux-gnu" \
    "$bin/master" -C "$dir/imapd.conf" -M "$dir/cyrus.conf" -p "$dir/master.pid" -D -l 64
  wait_greeting "$plain" && wait_greeting "$tls" tls ||
    { cat "$dir/master.log" >&2; "$0" stop "$dir"; die "Cyrus pop3d did not greet"; }
  python3 "$mailbox_py" lmtp "$dir/socket/lmtp" tester 2>>"$dir/mailbox.log" ||
    { cat "$dir/mailbox.log" >&2; echo "cyrus.sh: (some messages refused, see above)" >&2; }
  version=$(cat "$pop/.version")
  write_env "$dir" cyrus "$version" "$plain" yes "$tls" tester "$password" "$0 stop $dir"
  echo "Cyrus pop3d $version: plain+STLS 127.0.0.1:$plain, TLS 127.0.0.1:$tls"
  ;;
stop)
  stop_pidfile "$dir/group.pid"
  ;;
*) die "unknown command $cmd" ;;
esac
