# common.sh - shared by the start scripts in this folder (sourced, not run): free loopback
# ports, a throw-away CA and server certificate, waiting for a greeting, the env file, and
# stopping a process group cleanly.
#
# Every start script writes DIR/env with shell assignments:
#   SERVER_NAME, SERVER_VERSION (the Debian package version tested), SERVER_HOST,
#   SERVER_PORT (plain POP3, empty if none), SERVER_STLS (yes when the plain port offers
#   STLS), SERVER_TLS_PORT (implicit TLS, empty if none), SERVER_USER, SERVER_PASSWORD,
#   SERVER_CA (the CA that signed the certificate), SERVER_STOP (the command that stops it)
# shellcheck shell=bash

servers_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck disable=SC2034 # used by the scripts that source this file
servers_root=${POP3KIT_SERVERS_ROOT:-/var/tmp/pop3kit-servers}
# shellcheck disable=SC2034
mailbox_py=$servers_dir/mailbox.py

# shellcheck disable=SC2154 # script_name is set by the sourcing script
die() { echo "$script_name: $*" >&2; exit 1; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# make_certs DIR: DIR/ca.pem signs DIR/server.pem (key DIR/server.key) for localhost and
# 127.0.0.1; DIR/server-full.pem is key and chain in one file, for servers that want that.
make_certs() {
  local d=$1
  [ -f "$d/server.pem" ] && return 0
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=pop3kit test CA" \
    -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$d/san.ext"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
    -CAcreateserial -days 30 -extfile "$d/san.ext" -out "$d/server.pem" 2>/dev/null
  cat "$d/server.key" "$d/server.pem" > "$d/server-full.pem"
  chmod 644 "$d/server.pem" "$d/ca.pem"
}

# wait_greeting PORT [TLS]: until a connection to 127.0.0.1:PORT gets a "+OK" greeting
# (through TLS when TLS is given), for at most POP3KIT_SERVER_WAIT seconds (30: a loaded
# machine starting Cyrus' master or Dovecot may need more than a few).
wait_greeting() {
  python3 - "$1" "${2:-}" "${POP3KIT_SERVER_WAIT:-30}" <<'PY'
import socket, ssl, sys, time
port, tls = int(sys.argv[1]), sys.argv[2] == "tls"
deadline = time.time() + float(sys.argv[3])
last = "no answer"
while time.time() < deadline:
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
        if tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            s = ctx.wrap_socket(s)
        line = s.makefile("rb").readline()
        s.close()
        if line.startswith(b"+OK"):
            sys.exit(0)
        last = repr(line)
    except OSError as e:
        last = str(e)
    time.sleep(0.05)
print("no greeting on port %d: %s" % (port, last), file=sys.stderr)
sys.exit(1)
PY
}

# session_pids SID: the processes of session SID. A daemon that puts itself in a process
# group of its own (couriertcpd does) stays in the session start_group made.
session_pids() {
  ps -e -o pid=,sid= | awk -v sid="$1" '$2 == sid && $1 != sid { print $1 }'
}

# stop_pidfile FILE: TERM the session (and process group) whose leader's pid is in FILE,
# wait up to POP3KIT_SERVER_STOP_WAIT seconds (5) for all of it, then KILL what is left.
stop_pidfile() {
  local f=$1 pid left i tries
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  left=$(session_pids "$pid")
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  # shellcheck disable=SC2086 # a list of pids
  [ -n "$left" ] && kill -TERM $left 2>/dev/null
  tries=$(python3 -c "print(max(1, int(float('${POP3KIT_SERVER_STOP_WAIT:-5}') / 0.05)))")
  for ((i = 0; i < tries; i++)); do
    left=$(session_pids "$pid")
    kill -0 "$pid" 2>/dev/null || [ -n "$left" ] || break
    sleep 0.05
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
  left=$(session_pids "$pid")
  # shellcheck disable=SC2086
  [ -n "$left" ] && kill -KILL $left 2>/dev/null
  rm -f "$f"
  return 0
}

# start_group PIDFILE LOG CMD...: run CMD in a session (and process group) of its own, in
# the background, its output to LOG, and write the group leader's pid.
start_group() {
  local pidfile=$1 log=$2; shift 2
  setsid "$@" </dev/null >>"$log" 2>&1 &
  echo $! > "$pidfile"
}

# need_reachable DIR USER: DIR (made searchable here) must be reachable by USER, the user
# the server's processes run as. A folder above it that is not searchable (mktemp -d and
# Python's mkdtemp make 0700 folders) would otherwise show only as failed logins
# ("Temporary problem", a TLS handshake closed) with nothing in the server's log.
need_reachable() {
  chmod 755 "$1"
  runuser -u "$2" -- test -x "$1" 2>/dev/null ||
    die "$1 cannot be reached by $2, the user the server runs as: a folder above it is not searchable (chmod 755 it)"
}

# ensure_user NAME: a system user without a login shell (idempotent).
ensure_user() {
  id -u "$1" >/dev/null 2>&1 ||
    useradd --system --no-create-home --shell /usr/sbin/nologin "$1"
}

write_env() { # write_env DIR NAME VERSION PORT STLS TLS_PORT USER PASSWORD STOP
  cat > "$1/env" <<ENV
SERVER_NAME=$2
SERVER_VERSION='$3'
SERVER_HOST=127.0.0.1
SERVER_PORT=$4
SERVER_STLS=$5
SERVER_TLS_PORT=$6
SERVER_USER='$7'
SERVER_PASSWORD='$8'
SERVER_CA=$1/ca.pem
SERVER_STOP='$9'
ENV
}
