#!/usr/bin/env python3
# pop3-conform-adapter: persistent
"""fetchmail_adapter.py - fetchmail under pop3-conform's adapter contract.

fetchmail, told to log in with a password (USER and PASS, RFC 1939 section 7), to keep
every message and to fetch all of them, runs: USER, PASS, STAT, then for each message
LIST n and RETR n, and QUIT (RFC 1939 sections 5 and 6). The shared half (delivery.py)
matches a case against that sequence and reads fetchmail's -v -v trace ("POP3> " sent,
"POP3< " received: status lines only) and the messages, which fetchmail hands to an MDA
that stores them in a Maildir. The Received: header fetchmail adds is taken off again.
Implicit TLS (RFC 8314) trusts the case's certificate only (sslcertfile, sslcertck).
"""
import os
import re
import stat
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import delivery  # noqa: E402


def quoted(v):
    """A string of fetchmail's rc syntax."""
    return '"%s"' % v.replace("\\", "\\\\").replace('"', '\\"')


class Fetchmail(delivery.Client):
    name = "fetchmail"
    trace = True

    def sequence(self, n):
        out = [["stat"]]
        for k in range(1, n + 1):
            out += [["list", str(k)], ["retr", str(k)]]
        return out + [["quit"]]

    def run(self, s, maildir, work):
        mda = os.path.join(work, "mda")
        with open(mda, "w") as f:
            f.write('#!/bin/sh\nexec cat > "%s/new/$(date +%%s%%N).$$"\n' % maildir)
        os.chmod(mda, stat.S_IRWXU)
        rc = os.path.join(work, "fetchmailrc")
        opts = ["poll", s.host, "protocol", "pop3", "port", s.port, "auth", "password",
                "timeout", str(max(1, int(s.timeout + 0.999))),
                "user", quoted(s.user), "password", quoted(s.password),
                "mda", quoted(mda), "keep", "fetchall"]
        if s.tls:
            opts += ["ssl", "sslproto", quoted("auto")]
            if not s.insecure:
                opts += ["sslcertck", "sslcertfile", quoted(s.cafile)]
            if s.server_name:
                opts += ["sslcommonname", quoted(s.server_name)]
        else:
            opts += ["sslproto", quoted("")]
        with open(rc, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(" ".join(opts) + "\n")
        os.chmod(rc, stat.S_IRUSR | stat.S_IWUSR)
        argv = ["fetchmail", "-f", rc, "-v", "-v", "--nosyslog", "--nodetach",
                "--idfile", os.path.join(work, "ids"), "--pidfile", os.path.join(work, "pid")]
        return delivery.run_program(argv, s, env=dict(os.environ, HOME=work, FETCHMAILHOME=work))

    def parse_trace(self, output):
        return delivery.trace_exchanges(output, r"fetchmail: POP3([<>]) ?(.*)$", ">")

    def strip_added(self, msg):
        # the trace header fetchmail puts first, with its folded lines
        return re.sub(rb"\AReceived: from [^\n]*\n(?:[ \t][^\n]*\n)*", b"", msg)


if __name__ == "__main__":
    delivery.main(Fetchmail())
