#!/usr/bin/env python3
# pop3-conform-adapter: persistent
"""getmail_adapter.py - getmail6 under pop3-conform's adapter contract.

getmail6 (SimplePOP3Retriever, over Python's poplib) runs one session on its own: USER,
PASS, UIDL and LIST (twice), RETR of each message, RSET and QUIT (RFC 1939 sections 5
to 7), and delivers into a Maildir. It prints no protocol trace (--trace follows its own
functions, not the dialogue), so what it gives its user is its exit status and the
Maildir: the shared half (delivery.py) can answer the cases whose results are those, a
connection that must fail (RFC 6125, RFC 8314 certificate checks: SimplePOP3SSLRetriever
with the case's certificate as ca_certs), and nothing that needs a listing's values.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import delivery  # noqa: E402


class Getmail(delivery.Client):
    name = "getmail6"

    def sequence(self, n):
        return ([["uidl"], ["list"], ["uidl"], ["list"]] + [["retr", str(k)] for k in range(1, n + 1)]
                + [["rset"], ["quit"]])

    def run(self, s, maildir, work):
        if s.server_name:
            raise delivery.NA("getmail6 checks the certificate against the server's address only")
        lines = ["[retriever]",
                 "type = %s" % ("SimplePOP3SSLRetriever" if s.tls else "SimplePOP3Retriever"),
                 "server = %s" % s.host, "port = %s" % s.port,
                 "username = %s" % s.user, "password = %s" % s.password,
                 "timeout = %d" % max(1, int(s.timeout + 0.999))]
        if s.tls and not s.insecure:
            lines.append("ca_certs = %s" % s.cafile)
        lines += ["[destination]", "type = Maildir", "path = %s/" % maildir,
                  "[options]", "read_all = true", "delete = false",
                  "delivered_to = false", "received = false", "verbose = 2"]
        rc = os.path.join(work, "getmailrc")
        with open(rc, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write("\n".join(lines) + "\n")
        argv = ["getmail", "--getmaildir=" + work, "--rcfile=" + rc]
        return delivery.run_program(argv, s, env=dict(os.environ, HOME=work))


if __name__ == "__main__":
    delivery.main(Getmail())
