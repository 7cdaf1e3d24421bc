#!/usr/bin/env python3
# pop3-conform-adapter: persistent
"""mpop_adapter.py - mpop, the POP3 mail retriever, under pop3-conform's adapter contract.

mpop runs one RFC 1939 session on its own: CAPA (RFC 2449), USER and PASS, STAT, LIST,
UIDL, RETR of every message, QUIT, and delivers into a Maildir. The shared half
(delivery.py) matches a case against that sequence and reads mpop's --debug trace
("--> " sent, "<-- " received) and the Maildir. mpop is told to keep every message, to
fetch all of them (not only the new), and to add no Received header; implicit TLS
(RFC 8314) with the case's certificate as the only trusted one; no STLS (its STLS runs
before the login and is not driven here).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import delivery  # noqa: E402


class Mpop(delivery.Client):
    name = "mpop"
    trace = True

    def sends_capa(self):
        return True

    def sequence(self, n):
        return [["stat"], ["list"], ["uidl"]] + [["retr", str(k)] for k in range(1, n + 1)] + [["quit"]]

    def run(self, s, maildir, work):
        pw = os.path.join(work, "password")
        with open(pw, "wb") as f:
            f.write(s.password.encode("utf-8", "surrogateescape"))  # never on a command line
        argv = ["mpop", "--debug", "--host=" + s.host, "--port=" + s.port,
                "--timeout=%d" % max(1, int(s.timeout + 0.999)),
                "--auth=user", "--user=" + s.user, "--passwordeval=cat " + pw,
                "--pipelining=off", "--keep=on", "--only-new=off", "--received-header=off",
                "--uidls-file=" + os.path.join(work, "uidls"),
                "--delivery=maildir," + maildir]
        if s.tls:
            argv += ["--tls=on", "--tls-starttls=off"]
            if s.insecure:
                argv.append("--tls-certcheck=off")
            else:
                argv.append("--tls-trust-file=" + s.cafile)
            if s.server_name:
                argv.append("--tls-host-override=" + s.server_name)
        else:
            argv.append("--tls=off")
        env = dict(os.environ, HOME=work)
        return delivery.run_program(argv, s, env=env)

    def parse_trace(self, output):
        return delivery.trace_exchanges(output, r"(-->|<--) ?(.*)$", "-->")


if __name__ == "__main__":
    delivery.main(Mpop())
