"""interop_replay.py - RFC 1939 section 10 replayed by pop3-mock, driven by a small
independent client (a raw socket, no POP3 library), plus the exit-status contract:
0 when the client followed the script, 1 with a report when it departed, 2 for a script
error before any client connects. Also a two-session [IN-USE] script (RFC 2449 8.1.2).
"""
import os
import socket
import ssl
import tempfile

from mockrun import Mock, cleanup, main, make_ca, run

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "rfc1939-section10.pop3")


class Client:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(4096)
            if not chunk:
                raise AssertionError("connection closed, have %r" % self.buf)
            self.buf += chunk
        l, self.buf = self.buf.split(b"\r\n", 1)
        return l

    def send(self, l):
        self.s.sendall(l + b"\r\n")

    def eof(self):
        while True:
            chunk = self.s.recv(4096)
            if not chunk:
                return
            self.buf += chunk


def rfc_dialogue(port):
    c = Client(port)
    want = [b"+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>"]
    steps = [
        (b"APOP mrose c4c9334bac560ecc979e58001b3e22fb",
         [b"+OK mrose's maildrop has 2 messages (320 octets)"]),
        (b"STAT", [b"+OK 2 320"]),
        (b"LIST", [b"+OK 2 messages (320 octets)", b"1 120", b"2 200", b"."]),
        (b"RETR 1", [b"+OK 120 octets", b"<the POP3 server sends message 1>", b"."]),
        (b"DELE 1", [b"+OK message 1 deleted"]),
        (b"RETR 2", [b"+OK 200 octets", b"<the POP3 server sends message 2>", b"."]),
        (b"DELE 2", [b"+OK message 2 deleted"]),
        (b"QUIT", [b"+OK dewey POP3 server signing off (maildrop empty)"]),
    ]
    assert c.line() == want[0]
    for cmd, replies in steps:
        c.send(cmd)
        for r in replies:
            got = c.line()
            assert got == r, (cmd, got, r)
    c.s.close()


def test(binary):
    # 0: the client follows.
    m = Mock(binary, [SCRIPT])
    rfc_dialogue(m.port)
    rc, err = m.wait()
    assert rc == 0, (rc, err)

    # 1: the client departs; the report names the line and shows the transcript.
    m = Mock(binary, [SCRIPT])
    c = Client(m.port)
    c.line()
    c.send(b"USER mrose")
    assert c.line().startswith(b"-ERR [SYS/PERM] pop3-mock:")
    c.eof()
    rc, err = m.wait()
    assert rc == 1, (rc, err)
    assert "rfc1939-section10.pop3:5: session 1: the client departed from the script" in err, err
    assert "expected: C:    APOP mrose c4c9334bac560ecc979e58001b3e22fb" in err, err
    assert 'received: "USER mrose\\r\\n"' in err, err
    assert "S: +OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>" in err, err

    tmp = tempfile.mkdtemp(prefix="pop3mock-script-")
    try:
        # 2: a script error, before any client connects (no ready line).
        bad = os.path.join(tmp, "bad.pop3")
        with open(bad, "w") as f:
            f.write("S: +OK\n!wobble 3\n")
        r = run(binary, bad)
        assert r.returncode == 2, r
        assert r.stdout == "", r.stdout
        assert r.stderr.startswith(bad + ":2: unknown directive \"!wobble\""), r.stderr

        # Two sessions: the second connection gets [IN-USE] while the first is open.
        two = os.path.join(tmp, "in-use.pop3")
        with open(two, "w") as f:
            f.write("!secret mrose tanstaaf\n"
                    "S: +OK POP3 server ready {timestamp}\n"
                    "C: APOP mrose {apop}\n"
                    "S: +OK mrose's maildrop has 0 messages (0 octets)\n"
                    "C: QUIT\n"
                    "S: +OK bye\n"
                    "!session\n"
                    "S: +OK POP3 server ready {timestamp}\n"
                    "C: APOP mrose {apop}\n"
                    "S: -ERR [IN-USE] Do you have another POP session running?\n"
                    "C: QUIT\n"
                    "S: +OK bye\n")
        import hashlib
        m = Mock(binary, [two])
        a, b = Client(m.port), Client(m.port)
        for c, want in ((a, b"+OK mrose's"), (b, b"-ERR [IN-USE]")):
            greeting = c.line()
            ts = greeting[greeting.index(b"<"):]
            digest = hashlib.md5(ts + b"tanstaaf").hexdigest().encode()
            c.send(b"APOP mrose " + digest)
            assert c.line().startswith(want)
        for c in (b, a):
            c.send(b"QUIT")
            assert c.line() == b"+OK bye"
            c.eof()
        rc, err = m.wait()
        assert rc == 0, (rc, err)
        # STLS in a script, the certificate verified by the client; faults over a socket.
        ca, cert, key = make_ca(tmp)
        tls = os.path.join(tmp, "tls.pop3")
        with open(tls, "w") as f:
            f.write("S: +OK ready\nC: STLS\nS: +OK Begin TLS negotiation\n!starttls\n"
                    "C: CAPA\nS: +OK\nS: USER\nS: .\nC: QUIT\n!split 1 3 wait 5\n"
                    "S: +OK bye\n!session\nS: +OK two\nC: NOOP\n!reset\n")
        m = Mock(binary, ["--tls-cert", cert, "--tls-key", key, tls])
        c = Client(m.port)
        assert c.line() == b"+OK ready"
        c.send(b"STLS")
        assert c.line() == b"+OK Begin TLS negotiation"
        ctx = ssl.create_default_context(cafile=ca)
        c.s = ctx.wrap_socket(c.s, server_hostname="localhost")
        c.send(b"CAPA")
        assert [c.line() for _ in range(3)] == [b"+OK", b"USER", b"."]
        c.send(b"QUIT")
        assert c.line() == b"+OK bye"
        c.s.close()
        d = Client(m.port)
        assert d.line() == b"+OK two"
        d.send(b"NOOP")
        try:
            d.eof()
            raise AssertionError("no RST")
        except ConnectionResetError:
            pass
        rc, err = m.wait()
        assert rc == 0, (rc, err)
    finally:
        cleanup(tmp)


if __name__ == "__main__":
    main(test)
