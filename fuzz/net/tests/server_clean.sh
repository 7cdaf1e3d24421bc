#!/bin/sh
# server_clean.sh FUZZ MOCK ITERATIONS [stls] - pop3-fuzz server against pop3-mock serving
# a small maildrop: a correct server, so no finding. With "stls" the mock has a
# certificate (a throw-away one) and every +OK to a fuzzed STLS is followed by a
# handshake (--insecure).
set -u
fuzz=$1 mock=$2 iterations=$3 stls=${4:-}
dir=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
mkdir -p "$dir/maildrop"
printf 'Subject: one\r\n\r\nfirst\r\n' >"$dir/maildrop/1"
printf 'Subject: two\r\n\r\nsecond\r\n.dot\r\n' >"$dir/maildrop/2"
printf 'Subject: three\r\n\r\n' >"$dir/maildrop/3"
set --
if [ -n "$stls" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
        -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null || fail "openssl req"
    set -- --tls-cert "$dir/cert.pem" --tls-key "$dir/key.pem"
fi
"$mock" --maildrop "$dir/maildrop" --user user --password secret --listen 127.0.0.1:0 \
    --port-file "$dir/port" "$@" >/dev/null &
pid=$!
for _ in $(seq 100); do
    [ -s "$dir/port" ] && break
    sleep 0.1
done
[ -s "$dir/port" ] || fail "pop3-mock did not start"
set --
[ -n "$stls" ] && set -- --insecure
POP3_PASSWORD=secret "$fuzz" server "127.0.0.1:$(cat "$dir/port")" --user user \
    --iterations "$iterations" --seed 1 --hang-ms 3000 --out "$dir/findings" "$@" >"$dir/out"
rc=$?
cat "$dir/out"
for f in "$dir"/findings/*.txt; do [ -f "$f" ] && cat "$f"; done
[ "$rc" = 0 ] || fail "exit status $rc, expected 0 (no finding)"
tail -n 1 "$dir/out" | grep -Eq "^$iterations runs, 0 findings$" || fail "last line"
echo ok
