#!/usr/bin/env bash
# dovecot_client.sh - the `pop3` command against a real server: Debian's Dovecot, run on
# loopback from a config of our own (conformance/peers/dovecot.sh), with a Maildir this
# test fills. Every command, every login (USER/PASS, APOP, SASL PLAIN/LOGIN/CRAM-MD5),
# plain, STLS and implicit TLS, byte-exact retrieval of messages with dot lines, a long
# line and 8-bit content, and `fetch` of the whole mailbox.
#
# usage: dovecot_client.sh BUILD_BIN_DIR   (exit 77 = skipped: Dovecot is not installed)
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
peer=$top/conformance/peers/dovecot.sh
command -v dovecot >/dev/null || { echo "dovecot not installed: skipped"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "needs root to run Dovecot's mail user: skipped"; exit 77; }

work=$(mktemp -d /tmp/pop3kit-dovecot-XXXXXX)
chmod 755 "$work" # Dovecot's unprivileged processes read the config and passwd-file below
cleanup() { "$peer" stop "$work/dovecot" || true; rm -rf "$work"; }
trap cleanup EXIT

failures=0
check() { # check NAME COMMAND...: run, report
  local name=$1; shift
  if "$@"; then echo "ok - $name"; else echo "not ok - $name"; failures=$((failures + 1)); fi
}

# Messages, CRLF on disk so that what Dovecot serves is the file, octet for octet.
mkdir -p "$work/msgs"
python3 - "$work/msgs" <<'PY'
import sys, os
d = sys.argv[1]
msgs = {
  "1-dots": b"Subject: dots\r\n\r\n.\r\n..\r\n.hidden\r\n. \r\nend.\r\n",
  "2-long": b"Subject: long line\r\n\r\n" + b"x" * 100000 + b"\r\nafter\r\n",
  "3-8bit": b"Subject: =?utf-8?q?caf=C3=A9?=\r\nContent-Type: text/plain; charset=latin1\r\n\r\ncaf\xe9 \xff\xfe \xc3\xa9\r\n",
  "4-empty-body": b"Subject: nothing\r\n\r\n",
}
for name, data in msgs.items():
    open(os.path.join(d, name), "wb").write(data)
PY
"$peer" start "$work/dovecot" >/dev/null
# Deliver in a stable order: Dovecot numbers messages by arrival.
for f in "$work"/msgs/*; do "$peer" add "$work/dovecot" "$f"; sleep 0.01; done
# shellcheck disable=SC1091
. "$work/dovecot/env"
export POP3_PASSWORD=$DOVECOT_PASSWORD
pop3=("$bin/pop3" -H "$DOVECOT_HOST" -p "$DOVECOT_PORT" -u "$DOVECOT_USER" --timeout 10)
files=("$work"/msgs/*)

total=0
for f in "${files[@]}"; do total=$((total + $(stat -c %s "$f"))); done
check "stat counts and sizes" test "$("${pop3[@]}" stat)" = "${#files[@]} $total"

want_list=$(i=0; for f in "${files[@]}"; do i=$((i + 1)); echo "$i $(stat -c %s "$f")"; done)
check "list matches the files" test "$("${pop3[@]}" list)" = "$want_list"
check "list 2" test "$("${pop3[@]}" list 2)" = "2 $(stat -c %s "${files[1]}")"
check "uidl has 4 lines" test "$("${pop3[@]}" uidl | wc -l)" = 4
uid3=$("${pop3[@]}" uidl | sed -n 3p)
check "uidl 3" test "$("${pop3[@]}" uidl 3)" = "$uid3"

i=0
for f in "${files[@]}"; do
  i=$((i + 1))
  "${pop3[@]}" retr "$i" > "$work/got-$i"
  check "retr $i byte-exact ($(basename "$f"))" cmp -s "$f" "$work/got-$i"
done
check "top 1 0 is the header and the blank line" \
  test "$("${pop3[@]}" top 1 0 | od -c)" = "$(printf 'Subject: dots\r\n\r\n' | od -c)"
check "top 1 2" test "$("${pop3[@]}" top 1 2 | od -c)" = "$(printf 'Subject: dots\r\n\r\n.\r\n..\r\n' | od -c)"
check "noop" "${pop3[@]}" noop
check "retr of a missing message says -ERR (exit 1)" \
  bash -c '"$@" retr 99 >/dev/null 2>&1; test $? = 1' _ "${pop3[@]}"
capa=$("${pop3[@]}" capa)
check "capa lists SASL and STLS" bash -c 'grep -q "^SASL " <<<"$1" && grep -qx STLS <<<"$1"' _ "$capa"

check "APOP login" "${pop3[@]}" --apop stat
for mech in PLAIN LOGIN CRAM-MD5; do
  check "AUTH $mech" "${pop3[@]}" --auth "$mech" stat
done
POP3_PASSWORD=wrong "${pop3[@]}" stat >/dev/null 2>"$work/err" && rc=0 || rc=$?
check "a wrong password exits 1" test "$rc" = 1
check "a wrong password names [AUTH]" grep -q "AUTH" "$work/err"

check "STLS with the test CA" "${pop3[@]}" --starttls --cafile "$DOVECOT_CA" stat
"${pop3[@]}" --starttls stat >/dev/null 2>"$work/err" && rc=0 || rc=$?
check "STLS against an untrusted certificate exits 3" test "$rc" = 3
tls=("$bin/pop3" -H "$DOVECOT_HOST" -p "$DOVECOT_TLS_PORT" -u "$DOVECOT_USER" --tls --timeout 10)
check "implicit TLS with the test CA" "${tls[@]}" --cafile "$DOVECOT_CA" stat
"${tls[@]}" --cafile "$DOVECOT_CA" retr 2 > "$work/tls-2"
check "implicit TLS retr byte-exact" cmp -s "${files[1]}" "$work/tls-2"
check "implicit TLS with --insecure" "${tls[@]}" --insecure stat

# fetch: every message into a Maildir, byte for byte with --keep-crlf (the default
# stores LF line ends); a second run fetches nothing.
"${pop3[@]}" fetch "$work/Maildir" --keep-crlf --uidl-state "$work/state"
check "fetch stored every message" test "$(ls "$work/Maildir/new" | wc -l)" = "${#files[@]}"
want_sums=$(for f in "${files[@]}"; do sha256sum < "$f"; done | sort)
got_sums=$(for f in "$work"/Maildir/new/*; do sha256sum < "$f"; done | sort)
check "fetch is byte-exact" test "$want_sums" = "$got_sums"
check "the UIDL state names every message" test "$(grep -c '^uid ' "$work/state")" = "${#files[@]}"
"${pop3[@]}" fetch "$work/Maildir" --keep-crlf --uidl-state "$work/state"
check "a second fetch fetches nothing" test "$(ls "$work/Maildir/new" | wc -l)" = "${#files[@]}"

# dele: committed by QUIT.
check "dele 4" "${pop3[@]}" dele 4
check "after dele, 3 messages" test "$("${pop3[@]}" stat | cut -d' ' -f1)" = 3
"${pop3[@]}" fetch "$work/Maildir2" --delete
check "fetch --delete stored 3" test "$(ls "$work/Maildir2/new" | wc -l)" = 3
check "fetch --delete emptied the mailbox" test "$("${pop3[@]}" stat)" = "0 0"

# fetch --delete across batches: messages are synced 64 at a time and each DELE waits for
# its batch; 150 messages end in two full batches and a short one, all deleted.
for i in $(seq 1 150); do printf 'Subject: batch %d\r\n\r\nbody %d\r\n' "$i" "$i" > "$work/b$i"; done
for i in $(seq 1 150); do "$peer" add "$work/dovecot" "$work/b$i"; done
check "150 messages to fetch" test "$("${pop3[@]}" stat | cut -d' ' -f1)" = 150
"${pop3[@]}" fetch "$work/Maildir3" --delete
check "fetch --delete stored 150" test "$(ls "$work/Maildir3/new" | wc -l)" = 150
check "fetch --delete across batches emptied the mailbox" test "$("${pop3[@]}" stat)" = "0 0"

if [ "$failures" -gt 0 ]; then echo "$failures checks failed"; exit 1; fi
echo "all checks passed"
