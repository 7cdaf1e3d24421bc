"""interop_maildrop_auth.py - pop3-mock --maildrop: SASL, --utf8-strict, --preset dovecot.

- RFC 5034 AUTH LOGIN and RFC 2195 CRAM-MD5 (and PLAIN): curl (its own SASL code, which
  prefers CRAM-MD5 when announced), the pop3 command (--auth and its default choice), and a
  raw socket with the digest computed here by Python's hmac, independently of the codec.
- RFC 6856 sections 2.2 and 5 under --utf8-strict: RETR/TOP of a message with an 8-bit
  header answer -ERR [UTF8] until the client issues UTF8; poplib, curl and pop3.
- --preset dovecot: three bad commands in a row close the connection; with a certificate,
  USER is hidden (and refused) until STLS.

Usage: interop_maildrop_auth.py POP3_MOCK POP3
"""
import base64
import hashlib
import hmac
import os
import poplib
import re
import socket
import ssl
import subprocess
import sys
import tempfile

from mockrun import MSG1, MSG2, Mock, cleanup, main, make_ca, make_maildir, rfc_size, wire

POP3 = None
# An 8-bit header (RFC 6856: a message that needs UTF-8 mode) and an ASCII one.
MSG8 = b"From: andr\xc3\xa9@example.org\nSubject: caf\xc3\xa9\n\nbody\n"
MSGS = [MSG1, MSG2, MSG8]


def pop3(port, *args):
    r = subprocess.run([POP3, "-H", "127.0.0.1", "-p", str(port), "-u", "alice",
                        "--timeout", "10"] + list(args),
                       env=dict(os.environ, POP3_PASSWORD="s3cret"), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    return r.returncode, r.stdout, r.stderr.decode(errors="replace")


def curl(*args):
    return subprocess.run(["curl", "--silent", "--show-error", "--max-time", "20"] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)


class Client:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.f = self.s.makefile("rb")
        self.greeting = self.line()

    def line(self):
        return self.f.readline().rstrip(b"\r\n")

    def cmd(self, text):
        self.s.sendall(text.encode() + b"\r\n")
        return self.line()

    def eof(self):
        return self.f.read() == b""


def b64(data):
    return base64.b64encode(data).decode()


def sasl_by_hand(port):
    """AUTH LOGIN and CRAM-MD5 computed here, not by the codec under test."""
    c = Client(port)
    assert c.cmd("AUTH LOGIN") == b"+ " + base64.b64encode(b"Username:")
    assert c.cmd(b64(b"alice")) == b"+ " + base64.b64encode(b"Password:")
    assert c.cmd(b64(b"wrong")) == b"-ERR [AUTH] authentication failed"
    assert c.cmd("AUTH LOGIN " + b64(b"alice")) == b"+ UGFzc3dvcmQ6"
    assert c.cmd(b64(b"s3cret")).startswith(b"+OK alice's maildrop has 3 messages")
    assert c.cmd("QUIT").startswith(b"+OK")
    c = Client(port)
    ts = re.search(rb"<[^>]+>", c.greeting).group(0)
    line = c.cmd("AUTH CRAM-MD5")
    assert line.startswith(b"+ "), line
    challenge = base64.b64decode(line[2:])
    # RFC 2195: the challenge is a msg-id-like "<pid.counter.time@host>", here the
    # greeting's APOP timestamp.
    assert challenge == ts and re.fullmatch(rb"<\d+\.\d+\.\d+@[^>]+>", challenge), challenge
    digest = hmac.new(b"s3cret", challenge, hashlib.md5).hexdigest()
    assert c.cmd(b64(b"alice " + digest.encode())).startswith(b"+OK alice's maildrop")
    assert c.cmd("QUIT").startswith(b"+OK")


def test(binary):
    tmp = tempfile.mkdtemp(prefix="pop3mock-auth-")
    md = make_maildir(MSGS)
    try:
        ca, cert, key = make_ca(tmp)
        base = ["--maildrop", md, "--user", "alice", "--password", "s3cret"]
        log = os.path.join(tmp, "sasl.log")
        # Without TLS, PLAIN is refused (RFC 2595 section 6) unless --plain-in-clear.
        with Mock(binary, base) as m:
            r = curl("--login-options", "AUTH=PLAIN", "pop3://alice:s3cret@127.0.0.1:%d/1" % m.port)
            assert r.returncode != 0, "AUTH PLAIN accepted in clear"
            rc, out, err = pop3(m.port, "--auth", "PLAIN", "stat")
            assert rc == 1 and "[AUTH]" in err, (rc, err)
        # --sasl-all --plain-in-clear: CAPA lists LOGIN and CRAM-MD5 beside PLAIN.
        with Mock(binary, base + ["--sasl-all", "--plain-in-clear", "--log", log]) as m:
            sasl_by_hand(m.port)
            url = "pop3://alice:s3cret@127.0.0.1:%d/1" % m.port
            # curl: its default (the strongest offered: CRAM-MD5), then each mechanism.
            for opts in ([], ["--login-options", "AUTH=CRAM-MD5"],
                         ["--login-options", "AUTH=LOGIN"], ["--login-options", "AUTH=PLAIN"]):
                r = curl(*(opts + [url]))
                assert r.returncode == 0, (opts, r.stderr)
                assert r.stdout == wire(MSG1), (opts, r.stdout[:100])
            bad = curl("--login-options", "AUTH=CRAM-MD5",
                       "pop3://alice:wrong@127.0.0.1:%d/1" % m.port)
            assert bad.returncode != 0, "curl logged in with a wrong password"
            # pop3: --auth each mechanism, and its own choice.
            for opts in ([], ["--auth", "CRAM-MD5"], ["--auth", "LOGIN"], ["--auth", "PLAIN"]):
                rc, out, err = pop3(m.port, *(opts + ["stat"]))
                assert rc == 0, (opts, rc, err)
                assert out == b"3 %d\n" % sum(rfc_size(x) for x in MSGS), (opts, out)
            r = subprocess.run([POP3, "-H", "127.0.0.1", "-p", str(m.port), "-u", "alice",
                                "--auth", "CRAM-MD5", "stat"],
                               env=dict(os.environ, POP3_PASSWORD="wrong"),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
            assert r.returncode == 1 and b"[AUTH]" in r.stderr, (r.returncode, r.stderr)
        text = open(log, "rb").read()
        for mech in (b"CRAM-MD5", b"LOGIN", b"PLAIN"):
            assert re.search(rb"C: AUTH " + mech, text), mech
        # curl without options chose CRAM-MD5: connection 3 is curl's first, after
        # sasl_by_hand's two.
        auths = re.findall(rb"#3 C: AUTH ([A-Z0-9-]+)", text)
        assert auths == [b"CRAM-MD5"], auths

        # --utf8-strict: message 3 has an 8-bit header.
        with Mock(binary, base + ["--utf8-strict"]) as m:
            p = poplib.POP3("127.0.0.1", m.port, timeout=10)
            p.user("alice")
            p.pass_("s3cret")
            for call in (lambda: p.retr(3), lambda: p.top(3, 0)):
                try:
                    call()
                    raise AssertionError("served without UTF8")
                except poplib.error_proto as e:
                    assert e.args[0].startswith(b"-ERR [UTF8] "), e
            assert p.retr(2)[0].startswith(b"+OK"), "8-bit body, ASCII header: served"
            assert p.list(3).startswith(b"+OK 3 ")
            p.quit()
            # After UTF8 (RFC 6856 section 2: in AUTHORIZATION) it is served, byte-exact.
            p = poplib.POP3("127.0.0.1", m.port, timeout=10)
            assert p.utf8().startswith(b"+OK")
            p.user("alice")
            p.pass_("s3cret")
            resp, lines, _ = p.retr(3)
            assert b"".join(l + b"\r\n" for l in lines) == wire(MSG8), lines
            p.quit()
            # Clients that never send UTF8 see the refusal: pop3 exits 1 with the code,
            # curl fails.
            rc, out, err = pop3(m.port, "retr", "3")
            assert rc == 1 and "[UTF8]" in err, (rc, err)
            rc, out, err = pop3(m.port, "retr", "1")
            assert rc == 0 and out == wire(MSG1), (rc, err)
            r = curl("pop3://alice:s3cret@127.0.0.1:%d/3" % m.port)
            assert r.returncode != 0, r.stdout
        # Without it (the default), every client gets message 3 as before.
        with Mock(binary, base) as m:
            r = curl("pop3://alice:s3cret@127.0.0.1:%d/3" % m.port)
            assert r.returncode == 0 and r.stdout == wire(MSG8), r.stderr
            rc, out, err = pop3(m.port, "retr", "3")
            assert rc == 0 and out == wire(MSG8), (rc, err)

        # --preset dovecot: pop3-login's three bad commands in a row.
        with Mock(binary, base + ["--preset", "dovecot"]) as m:
            c = Client(m.port)
            assert c.greeting.startswith(b"+OK Dovecot ready. <")
            assert c.cmd("FOO") == b"-ERR unknown command"
            assert c.cmd("STAT") == b"-ERR STAT is not valid in the AUTHORIZATION state"
            assert c.cmd("NOOP") == b"-ERR NOOP is not valid in the AUTHORIZATION state"
            assert c.line() == b"-ERR Too many invalid bad commands."
            assert c.eof()
            # Without a certificate nothing is hidden.
            p = poplib.POP3("127.0.0.1", m.port, timeout=10)
            assert "USER" in p.capa()
            p.user("alice")
            p.pass_("s3cret")
            p.quit()
        # With a certificate: USER and plaintext SASL hidden and refused before STLS
        # (disable_plaintext_auth), back under TLS.
        with Mock(binary, base + ["--sasl-all", "--preset", "dovecot", "--tls-cert", cert, "--tls-key",
                                  key]) as m:
            p = poplib.POP3("127.0.0.1", m.port, timeout=10)
            caps = p.capa()
            assert "USER" not in caps and caps["SASL"] == ["CRAM-MD5"], caps
            assert "STLS" in caps, caps
            try:
                p.user("alice")
                raise AssertionError("USER accepted before TLS")
            except poplib.error_proto as e:
                assert e.args[0] == (b"-ERR [AUTH] Plaintext authentication disallowed on "
                                     b"non-secure (SSL/TLS) connections."), e
            p.stls(context=ssl.create_default_context(cafile=ca))
            caps = p.capa()
            assert "USER" in caps and caps["SASL"] == ["PLAIN", "LOGIN", "CRAM-MD5"], caps
            p.user("alice")
            p.pass_("s3cret")
            assert p.stat()[0] == 3
            p.quit()
            # pop3 --starttls logs in under TLS; without it, it takes CRAM-MD5, the one
            # mechanism offered in clear.
            rc, out, err = pop3(m.port, "--starttls", "--cafile", ca, "--auth", "PLAIN", "stat")
            assert rc == 0, (rc, err)
            rc, out, err = pop3(m.port, "stat")
            assert rc == 0, (rc, err)
            rc, out, err = pop3(m.port, "--auth", "PLAIN", "stat")
            assert rc == 1 and "[AUTH]" in err, (rc, err)
    finally:
        cleanup(tmp)
        cleanup(md)


if __name__ == "__main__":
    POP3 = sys.argv[2]
    main(test)
