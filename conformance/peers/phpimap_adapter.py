#!/usr/bin/env python3
# pop3-conform-adapter: persistent
"""phpimap_adapter.py - PHP's imap extension (the UW c-client POP3 driver) under
pop3-conform's adapter contract.

imap_open("{HOST:PORT/pop3}") runs c-client's POP3 driver: CAPA (RFC 2449), USER and
PASS (RFC 1939 section 7; AUTH, RFC 5034, when SASL is offered), CAPA again, STAT and LIST; imap_fetchheader and imap_body fetch
a message with RETR; imap_close sends QUIT. PHP shows no protocol trace (c-client's
debug telemetry is not passed on), so the shared half (delivery.py) treats it as a
delivery client without one: the PHP script stores every message it fetched in the
Maildir, and listing values cannot be reported. What is left is the TLS that c-client
does itself ("/ssl", implicit TLS, RFC 8314): its certificate and host name checks
(RFC 6125, RFC 7817) with the case's certificate as the only trusted one
(SSL_CERT_FILE, which OpenSSL's default verify paths read).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import delivery  # noqa: E402

SCRIPT = r'''
$a = $argv;
$m = @imap_open($a[1], $a[2], $a[3], 0, 0);
if ($m === false) {
    fwrite(STDOUT, "imap_open failed: " . imap_last_error() . "\n");
    foreach ((array) imap_errors() as $e) fwrite(STDOUT, "imap: $e\n");
    exit(1);
}
$n = imap_num_msg($m);
for ($i = 1; $i <= $n; $i++) {
    $msg = imap_fetchheader($m, $i) . imap_body($m, $i);
    file_put_contents(sprintf("%s/new/%06d", $a[4], $i), $msg);
}
imap_close($m);
'''


class PhpImap(delivery.Client):
    name = "php-imap"

    def sends_capa(self):
        return True

    def sequence(self, n):
        return [["capa"], ["stat"], ["list"]] + [["retr", str(k)] for k in range(1, n + 1)] + [["quit"]]

    def run(self, s, maildir, work):
        if s.server_name:
            raise delivery.NA("c-client checks the certificate against the host it connects to")
        flags = "/pop3"
        if s.tls:
            flags += "/ssl" + ("/novalidate-cert" if s.insecure else "/validate-cert")
        else:
            flags += "/notls"
        # c-client matches the certificate's DNS names and CN only, never an IP address
        # in subjectAltName, so TLS goes to the name the test certificate carries
        host = "localhost" if s.tls and s.host == "127.0.0.1" else s.host
        mailbox = "{%s:%s%s}INBOX" % (host, s.port, flags)
        t = str(max(1, int(s.timeout + 0.999)))
        argv = ["php", "-n", "-d", "extension=imap", "-d", "default_socket_timeout=" + t,
                "-r", SCRIPT, "--", mailbox, s.user, s.password, maildir]
        env = dict(os.environ, HOME=work, SSL_CERT_FILE=s.cafile)
        return delivery.run_program(argv, s, env=env)


if __name__ == "__main__":
    delivery.main(PhpImap())
