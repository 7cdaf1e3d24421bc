#!/usr/bin/env bash
# courier.sh - run Courier's pop3d (Debian's courier-pop, unpacked by install.sh since it
# conflicts with Dovecot's pop3-server; courier-base and courier-authlib are installed) as
# a POP3 peer on loopback, from a config of our own, without systemd.
#
#   courier.sh start DIR [PLAIN_PORT TLS_PORT]   set up DIR and start; prints the ports
#   courier.sh stop DIR                          stop the instance started in DIR
#
# Courier's login process asks authdaemond over a socket whose path is compiled in
# (/run/courier/authdaemon/socket), and authdaemond reads /etc/courier: the instance runs
# in a mount namespace of its own (unshare -m) where DIR/etc is mounted on /etc/courier
# and DIR/run on /run/courier, so the system's Courier, if any, is neither read nor
# touched. The user tester lives in that private userdb; its Maildir is DIR/home/Maildir,
# owned by the mail user pop3kitmail. The plain port offers STLS (couriertls), the second
# port is implicit TLS. DIR/env: see common.sh. Needs root (mount namespaces), unshare,
# courier-base, courier-authdaemon, courier-authlib-userdb and install.sh's tree.
set -euo pipefail
script_name=courier.sh
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

mail_user=pop3kitmail
root=$servers_root/courier-pop
cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || die "usage: courier.sh start|stop DIR [PLAIN_PORT TLS_PORT]"

case "$cmd" in
start)
  [ -x "$root/usr/lib/courier/courier/courierpop3login" ] ||
    die "courier-pop is not unpacked under $root (conformance/peers/servers/install.sh)"
  for b in couriertcpd couriertls userdb userdbpw makeuserdb unshare; do
    command -v "$b" >/dev/null || die "$b is missing (conformance/peers/servers/install.sh)"
  done
  [ -x /usr/lib/courier/courier-authlib/authdaemond ] || die "courier-authdaemon is missing"
  [ "$(id -u)" = 0 ] || die "needs root (a mount namespace)"
  unshare -m true 2>/dev/null || die "cannot make a mount namespace here (unshare -m)"
  mkdir -p "$dir"; dir=$(cd "$dir" && pwd)
  plain=${3:-$(free_port)}; tls=${4:-$(free_port)}
  ensure_user "$mail_user"
  need_reachable "$dir" "$mail_user"
  uid=$(id -u "$mail_user"); gid=$(id -g "$mail_user")
  mkdir -p "$dir/etc" "$dir/run/authdaemon" "$dir/home"
  chmod 755 "$dir" "$dir/home"
  make_certs "$dir"
  password=pop3kit-secret
  cat > "$dir/etc/authdaemonrc" <<RC
authmodulelist="authuserdb"
daemons=2
authdaemonvar=/run/courier/authdaemon
DEBUG_LOGIN=0
DEFAULTOPTIONS=""
LOGGEROPTS=""
RC
  rm -f "$dir/etc/userdb" "$dir/etc/userdb.dat"
  touch "$dir/etc/userdb"; chmod 600 "$dir/etc/userdb"
  userdb -f "$dir/etc/userdb" tester set "home=$dir/home" "mail=$dir/home/Maildir" \
    "uid=$uid" "gid=$gid"
  # userdbpw reads the password twice on its standard input.
  hash=$(printf '%s\n%s\n' "$password" "$password" | userdbpw -md5)
  userdb -f "$dir/etc/userdb" tester set "systempw=$hash"
  makeuserdb -f "$dir/etc/userdb"
  rm -rf "$dir/home/Maildir"
  python3 "$mailbox_py" maildir "$dir/home/Maildir" --owner "$uid:$gid" 2>>"$dir/mailbox.log"
  chown "$uid:$gid" "$dir/home"

  # What /etc/courier/pop3d and pop3d-ssl would set, for our instance: Debian's defaults
  # (no SASL in clear), but for the SASL list under TLS, its own suggested one.
  cat > "$dir/pop3d.env" <<ENV
export PATH=/usr/bin:/bin:/usr/sbin:/sbin
export LD_LIBRARY_PATH=$root/usr/lib
export MAILDIRPATH=Maildir
export POP3AUTH=""
export POP3AUTH_TLS="LOGIN PLAIN"
export POP3_PROXY=0
export POP3_STARTTLS=YES
export POP3_TLS_REQUIRED=0
export COURIERTLS=/usr/bin/couriertls
export TLS_CERTFILE=$dir/server-full.pem
export TLS_VERIFYPEER=NONE
export TLS_PROTOCOL=TLSv1.2+
export MIME_UNICODE_MESSAGE_TYPE=message/global
ENV
  login=$root/usr/lib/courier/courier/courierpop3login
  pop3d=$root/usr/lib/courier/courier/courierpop3d
  cat > "$dir/run.sh" <<RUN
#!/bin/bash
# Runs inside the mount namespace: our /etc/courier and /run/courier, then the daemons.
set -e
mount --make-rprivate / 2>/dev/null || true
mkdir -p /etc/courier /run/courier
mount --bind "$dir/etc" /etc/courier
mount --bind "$dir/run" /run/courier
set -a; . "$dir/etc/authdaemonrc"; set +a
/usr/lib/courier/courier-authlib/authdaemond &
. "$dir/pop3d.env"
couriertcpd -address=127.0.0.1 -nodnslookup -noidentlookup -maxprocs=40 -maxperip=40 \\
  $plain "$login" "$pop3d" Maildir &
POP3_TLS=1 couriertcpd -address=127.0.0.1 -nodnslookup -noidentlookup -maxprocs=40 \\
  -maxperip=40 $tls /usr/bin/couriertls -server -tcpd "$login" "$pop3d" Maildir &
wait
RUN
  chmod 755 "$dir/run.sh"
  start_group "$dir/group.pid" "$dir/courier.log" unshare -m bash "$dir/run.sh"
  wait_greeting "$plain" && wait_greeting "$tls" tls ||
    { cat "$dir/courier.log" >&2; "$0" stop "$dir"; die "Courier pop3d did not greet"; }
  version=$(cat "$root/.version")
  write_env "$dir" courier "$version" "$plain" yes "$tls" tester "$password" "$0 stop $dir"
  echo "Courier pop3d $version: plain+STLS 127.0.0.1:$plain, TLS 127.0.0.1:$tls"
  ;;
stop)
  stop_pidfile "$dir/group.pid"
  ;;
*) die "unknown command $cmd" ;;
esac
