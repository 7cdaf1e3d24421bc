#!/usr/bin/env bash
# popa3d.sh - run popa3d (Debian's popa3d, unpacked by install.sh since it conflicts with
# Dovecot's pop3-server) as a POP3 peer on loopback, inetd style: inetd.py listens on
# 127.0.0.1 and starts popa3d per connection. No systemd, no system inetd.
#
#   popa3d.sh start DIR [PLAIN_PORT]   set up DIR and start; prints the port
#   popa3d.sh stop DIR                 stop the instance started in DIR
#
# popa3d has no TLS (plain only), authenticates through PAM (the system's accounts) and
# reads /var/mail/USER (paths compiled in): the user is a system account of its own,
# pop3kitpop, with a password set here, and the mbox /var/mail/pop3kitpop is written at
# start and removed at stop, so one instance at a time. popa3d chroots to /var/lib/popa3d
# and runs as the user popa3d before login; both are made here. DIR/env: see common.sh.
# Needs root, install.sh's tree, python3.
set -euo pipefail
script_name=popa3d.sh
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

user=pop3kitpop
bin=$servers_root/popa3d/usr/sbin/popa3d
cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || die "usage: popa3d.sh start|stop DIR [PLAIN_PORT]"

case "$cmd" in
start)
  [ -x "$bin" ] || die "popa3d is not unpacked at $bin (conformance/peers/servers/install.sh)"
  [ "$(id -u)" = 0 ] || die "needs root (PAM logins and popa3d's chroot)"
  mkdir -p "$dir"; dir=$(cd "$dir" && pwd)
  plain=${3:-$(free_port)}
  ensure_user popa3d
  mkdir -p /var/lib/popa3d && chmod 755 /var/lib/popa3d
  ensure_user "$user"
  password=pop3kit-secret
  echo "$user:$password" | chpasswd
  # popa3d refuses a locked account; chpasswd has just unlocked it.
  mkdir -p /var/mail
  python3 "$mailbox_py" mbox "/var/mail/$user" --owner "$(id -u "$user"):$(id -g "$user")" \
    2>>"$dir/mailbox.log"
  start_group "$dir/group.pid" "$dir/inetd.log" python3 "$servers_dir/inetd.py" "$plain" "$bin"
  wait_greeting "$plain" || { cat "$dir/inetd.log" >&2; "$0" stop "$dir"; die "popa3d did not greet"; }
  version=$(cat "$servers_root/popa3d/.version")
  write_env "$dir" popa3d "$version" "$plain" no "" "$user" "$password" "$0 stop $dir"
  echo "popa3d $version: plain 127.0.0.1:$plain (no TLS)"
  ;;
stop)
  stop_pidfile "$dir/group.pid"
  rm -f "/var/mail/$user" "/var/mail/$user.lock"
  ;;
*) die "unknown command $cmd" ;;
esac
