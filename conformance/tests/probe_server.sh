#!/usr/bin/env bash
# probe_server.sh - pop3-conform --probe against a real server started on
# loopback by conformance/peers/servers/NAME.sh (dovecot, popa3d, mailutils, courier, cyrus), filled with
# the awkward mailbox of peers/servers/mailbox.py: in clear, over STLS and over implicit
# TLS where the server offers them, once with --destructive, and once with --json. The
# findings are the server's (real deviations are expected): this checks that the probe
# ran to completion, logged in, saw every message, and that its JSON report parses.
# A server that is not installed is a failure with the command that installs it, never a
# skip: CI installs them (peers/servers/install.sh).
#
# usage: probe_server.sh NAME POP3_CONFORM
set -euo pipefail
name=$1; conform=$2
here=$(cd "$(dirname "$0")" && pwd)
peer=$here/../peers/servers/$name.sh
[ -x "$peer" ] || { echo "not ok - no start script $peer"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "not ok - needs root (system accounts, mount namespaces)"; exit 1; }

work=$(mktemp -d /tmp/pop3kit-probe-$name-XXXXXX)
chmod 755 "$work"
cleanup() { "$peer" stop "$work/srv" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

if ! "$peer" start "$work/srv" > "$work/start.out" 2>&1; then
  sed 's/^/#   /' "$work/start.out"
  echo "not ok - $name could not be started; install it as root with"
  echo "#   conformance/peers/servers/install.sh"
  exit 1
fi
sed 's/^/# /' "$work/start.out"
# shellcheck disable=SC1091
. "$work/srv/env"
export POP3_PASSWORD=$SERVER_PASSWORD
messages=$(python3 "$here/../peers/servers/mailbox.py" list | wc -l)

failures=0
run() { # run LABEL PROBE-ARGS...
  local label=$1; shift
  local out rc=0 t0 t1
  t0=$(date +%s.%N)
  out=$("$conform" --probe "$@" --user "$SERVER_USER" --timeout 10 --json 2>&1) || rc=$?
  t1=$(date +%s.%N)
  local verdict
  verdict=$(python3 -c '
import json, sys
want = int(sys.argv[1])
try:
    d = json.loads(sys.stdin.read())
except ValueError as e:
    print("the JSON report does not parse: %s" % e); sys.exit()
if d.get("format") != "pop3-conform-probe/1":
    print("not a probe report"); sys.exit()
if d["exit_status"] not in (0, 1):
    print("the probe did not complete (exit %s): %s" % (d["exit_status"], d["error"])); sys.exit()
if not any(f["requirement"] == "RFC1939-7.6" and f["severity"] == "pass" for f in d["findings"]):
    print("no login"); sys.exit()
stat = [f["message"] for f in d["findings"] if f["message"].startswith("STAT: ")]
if not stat or not stat[0].startswith("STAT: %d messages" % want):
    print("the probe did not see the %d messages: %s" % (want, stat)); sys.exit()
s = d["summary"]
print("ok %d passed, %d notes, %d deviations; quirks: %s" % (
    s["passed"], s["notes"], s["deviations"], " ".join(s["quirks"]) or "none"))
' "$messages" <<<"$out")
  local secs
  secs=$(python3 -c "print('%.1f' % ($t1 - $t0))")
  if [ "${verdict#ok }" != "$verdict" ]; then
    echo "ok - $name $label: ${verdict#ok } (${secs}s)"
  else
    printf '%s\n' "$out" | head -c 4000 | sed 's/^/#   /'
    echo "not ok - $name $label: $verdict (exit $rc)"; failures=$((failures + 1))
  fi
}
if [ -n "$SERVER_PORT" ]; then
  run plain "$SERVER_HOST:$SERVER_PORT"
  [ "$SERVER_STLS" = yes ] && run STLS "$SERVER_HOST:$SERVER_PORT" --starttls --cafile "$SERVER_CA"
fi
[ -n "$SERVER_TLS_PORT" ] &&
  run "implicit TLS" "localhost:$SERVER_TLS_PORT" --tls --cafile "$SERVER_CA"
# The port to use when one will do: the plain one, else implicit TLS.
main=("$SERVER_HOST:${SERVER_PORT:-$SERVER_TLS_PORT}")
[ -z "$SERVER_PORT" ] && main+=(--tls --cafile "$SERVER_CA")
# Last: it deletes nothing for good (no QUIT after DELE), but drops a connection after DELE.
run destructive "${main[@]}" --destructive
# The text report too: it must end with the summary line.
text=$("$conform" --probe "${main[@]}" --user "$SERVER_USER" --timeout 10 2>&1) || true
if grep -q '^probe: [0-9]* passed' <<<"$text"; then
  echo "ok - $name text report"
else
  printf '%s\n' "$text" | sed 's/^/#   /'; echo "not ok - $name text report"; failures=$((failures + 1))
fi
# Every server here takes a lower-case command; a refused "capa" from a server without CAPA
# (popa3d) is the probe's blind spot, which must show as a note, not a deviation.
if grep -q 'RFC1939-3.2.*lower case is refused' <<<"$text"; then
  printf '%s\n' "$text" | grep 'RFC1939-3.2' | sed 's/^/#   /'
  echo "not ok - $name: lower case reported refused"; failures=$((failures + 1))
else
  echo "ok - $name: no false lower-case deviation"
fi
echo "# $name $SERVER_VERSION: $failures failed"
[ "$failures" = 0 ]
