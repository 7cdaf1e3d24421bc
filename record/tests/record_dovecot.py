"""record_dovecot.py - record a real Dovecot through pop3-record and replay it.

Dovecot runs on loopback from conformance/peers/dovecot.sh, with a mailbox this test
fills (dot lines, 8-bit octets). Clients: Python's poplib (USER/PASS, APOP, STLS), the
`pop3` command (its own choice of SASL mechanism; AUTH PLAIN after STLS) and curl when it
is installed; upstream plain, STLS and implicit TLS. Each recording is replayed with
pop3-mock and must give every client the same results, and must not hold the password.

usage: record_dovecot.py POP3-RECORD POP3-MOCK POP3   (exit 77: Dovecot is not installed)
"""
import os
import shutil
import subprocess
import sys
import tempfile

import record_replay as rr
import recrun
from recrun import mockrun

HERE = os.path.dirname(os.path.abspath(__file__))
PEER = os.path.join(HERE, "..", "..", "conformance", "peers", "dovecot.sh")

MSGS = [b"Subject: dots\r\n\r\n.\r\n..\r\n.hidden\r\nend.\r\n",
        b"Subject: 8-bit\r\n\r\ncaf\xe9 \xff\xfe \xc3\xa9\r\n",
        b"Subject: third\r\n\r\n" + b"".join(b"line %d\r\n" % i for i in range(500))]


def curl_client(curl, path, extra=()):
    def run(host, port):
        r = subprocess.run([curl, "-s", "--max-time", "20"] + list(extra) +
                           ["-u", "%s:%s" % (rr.USER, rr.PASSWORD),
                            "pop3://%s:%d/%s" % (host, port, path)],
                           capture_output=True, timeout=30)
        return r.returncode, r.stdout
    return run


def test(rec, mock, pop3, conform=None):
    if shutil.which("dovecot") is None:
        print("dovecot not installed: skipped")
        sys.exit(77)
    work = tempfile.mkdtemp(prefix="pop3kit-rec-dovecot-")
    os.chmod(work, 0o755)  # Dovecot's unprivileged processes read its config here
    dv = os.path.join(work, "dovecot")
    try:
        subprocess.run([PEER, "start", dv], check=True, stdout=subprocess.DEVNULL)
        for i, m in enumerate(MSGS):
            f = os.path.join(work, "msg%d" % i)
            with open(f, "wb") as fh:
                fh.write(m)
            subprocess.run([PEER, "add", dv, f], check=True)
        env = {}
        with open(os.path.join(dv, "env")) as fh:
            for line in fh:
                if "=" in line:
                    k, v = line.strip().split("=", 1)
                    env[k] = v.strip("'\"")
        rr.USER, rr.PASSWORD = env["DOVECOT_USER"], env["DOVECOT_PASSWORD"]
        ca = env["DOVECOT_CA"]
        certs = os.path.join(work, "certs")
        os.mkdir(certs)
        myca, cert, key = mockrun.make_ca(certs)
        curl = shutil.which("curl")
        clients = [lambda h, p: rr.poplib_session(h, p),
                   lambda h, p: rr.poplib_session(h, p, apop=True),
                   rr.pop3_cli(pop3, ["list"]), rr.pop3_cli(pop3, ["retr", "1"]),
                   rr.pop3_cli(pop3, ["retr", "2"])]
        if curl:
            clients += [curl_client(curl, ""), curl_client(curl, "3")]
        plain_port = int(env["DOVECOT_PORT"])
        tls_port = int(env["DOVECOT_TLS_PORT"])

        def at(port, name, rec_args, cl, expect_in=()):
            # roundtrip() starts a mock as the upstream; here the upstream is Dovecot.
            out = os.path.join(work, name + ".pop3")
            with recrun.record(rec, port, out, rec_args) as r:
                live = [c(r.host, r.port) for c in cl]
                rr.settle(out, len(cl))
                rc = r.stop()
                assert rc == 0, "%s: pop3-record exited %s: %s" % (name, rc, r.err)
            text = open(out, "rb").read()
            for s in rr.secrets():
                assert s not in text, "%s: the recording holds %r" % (name, s)
            for s in expect_in:
                assert s in text, "%s: %r not in the recording" % (name, s)
            with recrun.mock(mock, [out]) as rp:
                replay = [c(rp.host, rp.port) for c in cl]
                rc = rp.wait()
                assert rc == 0, "%s: replay departed (%s):\n%s" % (name, rc, rp.err)
            for i, (x, y) in enumerate(zip(live, replay)):
                assert x == y, "%s: client %d: live %r, replay %r" % (name, i, x, y)
            print("dovecot %s: %d sessions recorded and replayed alike" % (name, len(cl)))

        at(plain_port, "plain", [], clients, expect_in=[b"C: PASS {*}", b"Dovecot"])
        stls = [lambda h, p: rr.poplib_session(h, p, stls_ca=myca),
                rr.pop3_cli(pop3, ["--starttls", "--cafile", myca, "--auth", "PLAIN", "list"])]
        if curl:
            stls.append(curl_client(curl, "1", ["--ssl-reqd", "--cacert", myca]))
        at(plain_port, "stls", ["--upstream-starttls", "--cafile", ca, "--tls-cert", cert,
                                "--tls-key", key], stls, expect_in=[b"!starttls"])
        at(tls_port, "implicit-tls", ["--upstream-tls", "--cafile", ca],
           [lambda h, p: rr.poplib_session(h, p), rr.pop3_cli(pop3, ["uidl"])])
    finally:
        subprocess.run([PEER, "stop", dv], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    recrun.main(test)
