#!/usr/bin/env bash
# servers_common.sh - the helpers of conformance/peers/servers/common.sh that every start
# script relies on, without any server: wait_greeting gives up after POP3KIT_SERVER_WAIT
# seconds and succeeds as soon as a greeting comes; stop_pidfile ends every process of the
# session it started, a child that moved to a process group of its own included (as
# couriertcpd does), and honours POP3KIT_SERVER_STOP_WAIT. No root needed.
#
# usage: servers_common.sh
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck disable=SC2034 # read by common.sh's die
script_name=servers_common.sh
# shellcheck source=../peers/servers/common.sh
. "$here/../peers/servers/common.sh"
work=$(mktemp -d)
failures=0
ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; failures=$((failures + 1)); }
cleanup() { stop_pidfile "$work/greeter.pid"; stop_pidfile "$work/group.pid"; rm -rf "$work"; }
trap cleanup EXIT

# 1. Nothing listens: wait_greeting fails, and says so, within the setting.
port=$(free_port)
if out=$(POP3KIT_SERVER_WAIT=0.3 wait_greeting "$port" 2>&1); then
  bad "wait_greeting on a closed port succeeded"
elif grep -q "no greeting on port $port" <<<"$out"; then
  ok "wait_greeting gives up (POP3KIT_SERVER_WAIT=0.3): $out"
else
  bad "wait_greeting failed without saying why: $out"
fi

# 2. A greeter that starts late: wait_greeting waits for it (not a fixed sleep).
port=$(free_port)
start_group "$work/greeter.pid" "$work/greeter.log" python3 -c '
import socket, sys, time
time.sleep(0.5)
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
while True:
    c, _ = s.accept(); c.sendall(b"+OK ready\r\n"); c.close()
' "$port"
if POP3KIT_SERVER_WAIT=30 wait_greeting "$port"; then
  ok "wait_greeting waits for a server that greets late"
else
  bad "wait_greeting missed a late greeting"; cat "$work/greeter.log"
fi
stop_pidfile "$work/greeter.pid"

# 3. stop_pidfile ends the session: the leader, its child, and a grandchild that left
# for a process group of its own (and ignores nothing: TERM ends it).
start_group "$work/group.pid" "$work/group.log" bash -c '
python3 -c "import os, time; os.setpgid(0, 0); open(\"$1\", \"w\").write(str(os.getpid())); time.sleep(600)" &
sleep 600' _ "$work/daemon.pid"
for _ in $(seq 1 200); do [ -s "$work/daemon.pid" ] && break; sleep 0.05; done
leader=$(cat "$work/group.pid"); daemon=$(cat "$work/daemon.pid" 2>/dev/null || echo)
if [ -z "$daemon" ]; then
  bad "the test's daemon did not start"
else
  POP3KIT_SERVER_STOP_WAIT=2 stop_pidfile "$work/group.pid"
  if kill -0 "$leader" 2>/dev/null || kill -0 "$daemon" 2>/dev/null; then
    bad "stop_pidfile left the session's processes running ($leader, $daemon)"
  else
    ok "stop_pidfile ended the session, the daemon in its own process group too"
  fi
fi
[ ! -e "$work/group.pid" ] && ok "stop_pidfile removed the pid file" || bad "pid file left"
echo "# $failures failed"
[ "$failures" = 0 ]
