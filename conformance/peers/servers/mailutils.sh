#!/usr/bin/env bash
# mailutils.sh - run GNU Mailutils pop3d (Debian's mailutils-pop3d) as a POP3 peer on
# loopback, from a config of our own, without systemd or inetd.
#
#   mailutils.sh start DIR [PLAIN_PORT TLS_PORT]   set up DIR and start; prints the ports
#   mailutils.sh stop DIR                          stop the instance started in DIR
#
# The plain port offers STLS (tls-mode stls), the second port is implicit TLS (tls-mode
# connection). The user is a virtual one (Mailutils' virtdomain module: a passwd-format
# file per domain), so no system account is touched: tester@pop3kit.test, whose Maildir
# is DIR/mail/tester/INBOX, owned by the mail user pop3kitmail. DIR/env: see common.sh.
# Needs root, mailutils-pop3d, openssl, python3.
set -euo pipefail
script_name=mailutils.sh
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

mail_user=pop3kitmail
cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || die "usage: mailutils.sh start|stop DIR [PLAIN_PORT TLS_PORT]"

case "$cmd" in
start)
  command -v pop3d >/dev/null && grep -q Mailutils <<<"$(pop3d --version 2>/dev/null)" ||
    die "GNU Mailutils pop3d is not installed (conformance/peers/servers/install.sh)"
  mkdir -p "$dir"; dir=$(cd "$dir" && pwd)
  plain=${3:-$(free_port)}; tls=${4:-$(free_port)}
  ensure_user "$mail_user"
  need_reachable "$dir" "$mail_user"
  uid=$(id -u "$mail_user"); gid=$(id -g "$mail_user")
  mkdir -p "$dir/virt" "$dir/mail" "$dir/lock"
  chmod 1777 "$dir/lock"
  make_certs "$dir"
  password=pop3kit-secret
  domain=pop3kit.test
  printf 'tester:%s:%s:%s::%s/mail/tester:/usr/sbin/nologin\n' \
    "$(openssl passwd -6 "$password")" "$uid" "$gid" "$dir" > "$dir/virt/$domain"
  chmod 600 "$dir/virt/$domain"
  # The virtdomain module makes a user's mailbox HOME/INBOX (a mailbox-pattern does not
  # apply to it); its format (Maildir) is recognised from what is there.
  rm -rf "$dir/mail/tester"
  mkdir -p "$dir/mail/tester"
  chown "$uid:$gid" "$dir/mail/tester"
  python3 "$mailbox_py" maildir "$dir/mail/tester/INBOX" --owner "$uid:$gid" 2>>"$dir/mailbox.log"
  chown "$uid:$gid" "$dir/mail"

  cat > "$dir/pop3d.conf" <<CONF
# GNU Mailutils pop3d, for pop3kit's probe: loopback only, virtual users, Maildir.
logging { syslog no; print-severity yes; };
debug { level "pop3d.trace9"; };
auth {
  authorization virtdomain;
  authentication generic;
};
virtdomain { passwd-dir "$dir/virt"; };
tls {
  ssl-certificate-file "$dir/server.pem";
  ssl-key-file "$dir/server.key";
};
tls-file-checks {
  key-file none;
  cert-file none;
  ca-file none;
};
# pop3d's own lock of a mailbox in use, kept in DIR (its default is a system folder).
mandatory-locking {
  enable yes;
  lock-directory "$dir/lock";
};
mode daemon;
foreground yes;
pidfile "$dir/pop3d.pid";
server 127.0.0.1:$plain {
  tls-mode stls;
  transcript yes;
};
server 127.0.0.1:$tls {
  tls-mode connection;
  transcript yes;
};
CONF
  pop3d --config-file="$dir/pop3d.conf" --config-lint >"$dir/lint.out" 2>&1 ||
    { cat "$dir/lint.out" >&2; die "the config does not parse"; }
  start_group "$dir/group.pid" "$dir/pop3d.log" pop3d --config-file="$dir/pop3d.conf"
  wait_greeting "$plain" && wait_greeting "$tls" tls ||
    { cat "$dir/pop3d.log" >&2; "$0" stop "$dir"; die "pop3d did not greet"; }
  version=$(dpkg-query -W -f='${Version}' mailutils-pop3d)
  write_env "$dir" mailutils "$version" "$plain" yes "$tls" "tester@$domain" "$password" \
    "$0 stop $dir"
  echo "mailutils pop3d $version: plain+STLS 127.0.0.1:$plain, TLS 127.0.0.1:$tls"
  ;;
stop)
  stop_pidfile "$dir/group.pid"
  ;;
*) die "unknown command $cmd" ;;
esac
