#!/usr/bin/env bash
# probe_dovecot.sh - pop3-conform --probe against a real server: Debian's Dovecot, run on
# loopback from a config of our own (conformance/peers/dovecot.sh), in clear, over STLS and
# over implicit TLS, once with --destructive, and once with --json (the document must parse).
# The probe must complete, log in, and find what is known of Dovecot 2.3 (it lists CAPA in
# CAPA: quirk capa-lists-capa; it hangs up after three bad commands before login:
# max-bad-commands; CAPA after login drops USER and SASL: capa-drops-auth, Q53; a second
# session is let in: no-lock, Q54) and no other named quirk (this maildrop has neither an
# empty message nor one without a final line end, so not Q51 or Q52).
#
# usage: probe_dovecot.sh POP3_CONFORM   (exit 77 = skipped: no Dovecot, or not root)
set -euo pipefail
conform=$1
here=$(cd "$(dirname "$0")" && pwd)
peer=$here/../peers/dovecot.sh
command -v dovecot >/dev/null || { echo "dovecot not installed: skipped"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "needs root to run Dovecot's mail user: skipped"; exit 77; }

work=$(mktemp -d /tmp/pop3kit-probe-dovecot-XXXXXX)
chmod 755 "$work" # Dovecot's unprivileged processes read the config below
cleanup() { "$peer" stop "$work/dovecot" || true; rm -rf "$work"; }
trap cleanup EXIT

mkdir -p "$work/msgs"
printf 'From: a@example.org\r\nSubject: dots\r\n\r\n.hidden\r\n..two\r\nline\r\n' > "$work/msgs/1"
printf 'From: b@example.org\r\nSubject: plain\r\n\r\none\r\ntwo\r\nthree\r\nfour\r\n' > "$work/msgs/2"
"$peer" start "$work/dovecot" >/dev/null
for f in "$work"/msgs/*; do "$peer" add "$work/dovecot" "$f"; sleep 0.01; done
# shellcheck disable=SC1091
. "$work/dovecot/env"
export POP3_PASSWORD=$DOVECOT_PASSWORD

failures=0
run() { # run NAME PROBE-ARGS...
  local name=$1; shift
  local out rc=0
  out=$("$conform" --probe "$@" --user "$DOVECOT_USER" --timeout 5 2>&1) || rc=$?
  printf '%s\n' "$out" | sed 's/^/#   /'
  local named
  named=$(printf '%s\n' "$out" | grep -o 'quirk=[a-z0-9-]*' | sort -u | tr '\n' ' ')
  if [ "$rc" -gt 1 ]; then
    echo "not ok - $name: the probe did not complete (exit $rc)"; failures=$((failures + 1))
  # A here-string, not a pipe: with pipefail, grep -q quitting early can fail the printf.
  elif ! grep -q '^pass  RFC1939-7.6   logged in' <<<"$out"; then
    echo "not ok - $name: no login"; failures=$((failures + 1))
  elif [ -n "$(printf '%s' "$named" | sed 's/quirk=capa-lists-capa//; s/quirk=max-bad-commands//;
                 s/quirk=capa-drops-auth//; s/quirk=no-lock//; s/ //g')" ]; then
    echo "not ok - $name: unexpected quirks: $named"; failures=$((failures + 1))
  else
    echo "ok - $name (exit $rc, quirks: ${named:-none})"
  fi
}
run "plain" "$DOVECOT_HOST:$DOVECOT_PORT"
run "STLS" "$DOVECOT_HOST:$DOVECOT_PORT" --starttls --cafile "$DOVECOT_CA"
run "implicit TLS" "localhost:$DOVECOT_TLS_PORT" --tls --cafile "$DOVECOT_CA"
run "destructive" "$DOVECOT_HOST:$DOVECOT_PORT" --destructive
# The JSON report of a real server: valid JSON (whatever octets the server sends), what it
# supports, the same quirks as the text report.
json=$("$conform" --probe "$DOVECOT_HOST:$DOVECOT_PORT" --user "$DOVECOT_USER" --timeout 5 \
       --json 2>/dev/null) || true
if python3 -c '
import json, sys
d = json.loads(sys.stdin.read())
assert d["format"] == "pop3-conform-probe/1" and d["exit_status"] in (0, 1), d["exit_status"]
assert d["supported"]["capa"] and "UIDL" in d["supported"]["capabilities"]
assert any(f["requirement"] == "RFC1939-7.6" and f["severity"] == "pass" for f in d["findings"])
assert set(d["summary"]["quirks"]) <= {"capa-lists-capa", "max-bad-commands", "capa-drops-auth",
                                       "no-lock"}, d["summary"]
' <<<"$json"; then
  echo "ok - --json"
else
  printf '%s\n' "$json" | sed 's/^/#   /'
  echo "not ok - --json"; failures=$((failures + 1))
fi
echo "$failures failed"
[ "$failures" = 0 ]
