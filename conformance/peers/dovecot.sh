#!/usr/bin/env bash
# dovecot.sh - run Debian's Dovecot as a POP3 peer on loopback, from a config of our own,
# without systemd, for interop tests, the server probe and benchmarks.
#
#   dovecot.sh start DIR [PLAIN_PORT TLS_PORT]   set up DIR (config, CA and server
#                                                certificate, passwd-file, Maildir) and start
#   dovecot.sh stop DIR                          stop the instance started in DIR
#   dovecot.sh add DIR FILE...                   deliver message files into the Maildir
#
# After start, DIR/env holds shell assignments: DOVECOT_HOST, DOVECOT_PORT, DOVECOT_TLS_PORT,
# DOVECOT_USER, DOVECOT_PASSWORD, DOVECOT_CA (the CA file that signed the certificate),
# DOVECOT_MAILDIR. Ports default to free ones. DIR's parents must be searchable by every
# user (Dovecot's login and auth processes run unprivileged and read files in DIR). Needs root (the mail user is a system user),
# dovecot-core, dovecot-pop3d and openssl.
set -euo pipefail

die() { echo "dovecot.sh: $*" >&2; exit 1; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

mail_user=pop3kitmail

cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || die "usage: dovecot.sh start|stop|add DIR ..."

case "$cmd" in
start)
  command -v dovecot >/dev/null || die "dovecot is not installed (apt-get install dovecot-pop3d)"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  plain=${3:-$(free_port)}
  tls=${4:-$(free_port)}
  id -u "$mail_user" >/dev/null 2>&1 ||
    useradd --system --no-create-home --shell /usr/sbin/nologin "$mail_user"
  uid=$(id -u "$mail_user"); gid=$(id -g "$mail_user")
  mkdir -p "$dir/run" "$dir/state" "$dir/home/Maildir/"{cur,new,tmp}
  chown -R "$mail_user:$mail_user" "$dir/home"
  # Dovecot's unprivileged processes must be able to reach the config and run dirs.
  chmod 755 "$dir"

  if [ ! -f "$dir/ca.pem" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=pop3kit test CA" \
      -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
      -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$dir/san.ext"
    openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
      -CAcreateserial -days 30 -extfile "$dir/san.ext" -out "$dir/server.pem" 2>/dev/null
  fi

  password=pop3kit-secret
  printf 'tester:{PLAIN}%s:%s:%s::%s/home::\n' "$password" "$uid" "$gid" "$dir" > "$dir/passwd"

  cat > "$dir/dovecot.conf" <<CONF
instance_name = pop3kit-dovecot-$plain
base_dir = $dir/run
state_dir = $dir/state
protocols = pop3
listen = 127.0.0.1
log_path = $dir/dovecot.log
ssl = yes
ssl_cert = <$dir/server.pem
ssl_key = <$dir/server.key
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = plain login apop cram-md5
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $dir/passwd
}
userdb {
  driver = passwd-file
  args = username_format=%u $dir/passwd
}
mail_location = maildir:~/Maildir
first_valid_uid = 1
pop3_uidl_format = %08Xu%08Xv
pop3_logout_format = top=%t/%p retr=%r/%b del=%d/%m size=%s
# High-performance mode (one long-lived login process per core rather than one per
# connection), so that benchmarks measure Dovecot at its best.
service pop3-login {
  service_count = 0
  process_min_avail = 2
  inet_listener pop3 {
    port = $plain
  }
  inet_listener pop3s {
    port = $tls
    ssl = yes
  }
}
service pop3 {
  service_count = 0
  process_min_avail = 2
}
service anvil {
  chroot =
}
service imap-login {
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    port = 0
  }
}
CONF
  # The master daemonises and keeps the caller's stdout: send it elsewhere.
  dovecot -c "$dir/dovecot.conf" </dev/null >"$dir/master.out" 2>&1 ||
    { cat "$dir/master.out" "$dir/dovecot.log" 2>/dev/null >&2; die "dovecot did not start"; }
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$plain") 2>/dev/null; then break; fi
    sleep 0.05
  done
  cat > "$dir/env" <<ENV
DOVECOT_HOST=127.0.0.1
DOVECOT_PORT=$plain
DOVECOT_TLS_PORT=$tls
DOVECOT_USER=tester
DOVECOT_PASSWORD=$password
DOVECOT_CA=$dir/ca.pem
DOVECOT_MAILDIR=$dir/home/Maildir
ENV
  ;;
stop)
  if [ -f "$dir/run/master.pid" ]; then
    pid=$(cat "$dir/run/master.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  fi
  ;;
add)
  shift 2
  n=0
  for f in "$@"; do
    n=$((n + 1))
    # Dovecot numbers new mail in the order of the names: seconds, then microseconds
    # (zero-padded, read in one call), so that messages added one after the other keep
    # their order even within one second and whatever the process ids.
    name="$(date +%s.M%6N)P$$Q$n.pop3kit"
    install -o "$mail_user" -g "$mail_user" -m 600 "$f" "$dir/home/Maildir/new/$name"
  done
  ;;
*) die "unknown command $cmd" ;;
esac
