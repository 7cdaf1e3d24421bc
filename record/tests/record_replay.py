"""record_replay.py - record pop3-mock through pop3-record, replay the recording with
pop3-mock, and check that each client sees the same thing both times.

Clients: Python's poplib (USER/PASS, APOP, STLS), the `pop3` command (CRAM-MD5 in
clear, AUTH PLAIN with an initial response after STLS), and a raw socket that compares
every octet (NUL octets, bare LF line ends, dot-stuffing, a 5000-octet line). Upstream:
plain, STLS (--upstream-starttls) and implicit TLS (--upstream-tls). Every recording is
searched for the password, in clear and in the base64 forms SASL sends; it must not be
there.

With POP3-CONFORM, a --case skeleton of a poplib session (two sessions: the second is
written to FILE.2) is run by pop3-conform with its reference client and must pass.

usage: record_replay.py POP3-RECORD POP3-MOCK POP3 [POP3-CONFORM]
"""
import base64
import os
import poplib
import socket
import ssl
import subprocess
import tempfile

import recrun
from recrun import mockrun

USER = "alice"
PASSWORD = "S3cret-Pa55word"
MSG4 = b"Subject: long line\n\n" + b"x" * 5000 + b"\n"


def secrets():
    """The password as it could appear on the wire: clear, SASL PLAIN, LOGIN."""
    forms = [PASSWORD.encode(), base64.b64encode(PASSWORD.encode()),
             base64.b64encode(b"\0" + USER.encode() + b"\0" + PASSWORD.encode()),
             base64.b64encode(USER.encode() + b"\0" + USER.encode() + b"\0" + PASSWORD.encode())]
    return forms


def poplib_session(host, port, stls_ca=None, apop=False):
    p = poplib.POP3(host, port, timeout=10)
    out = [p.getwelcome()]
    if stls_ca is not None:
        ctx = ssl.create_default_context(cafile=stls_ca)
        out.append(p.stls(context=ctx))
    if apop:
        out.append(p.apop(USER, PASSWORD))
    else:
        out.append(p.user(USER))
        out.append(p.pass_(PASSWORD))
    out.append(p.stat())
    out.append(p.list())
    out.append(p.uidl())
    for n in (1, 2, 3):  # 4 has a line longer than poplib reads
        out.append(p.retr(n))
    out.append(p.top(1, 2))
    out.append(p.quit())
    return out


def pop3_cli(pop3, args):
    def run(host, port):
        env = dict(os.environ, POP3_PASSWORD=PASSWORD)
        r = subprocess.run([pop3, "-H", host, "-p", str(port), "-u", USER] + args,
                           env=env, capture_output=True, timeout=30)
        return r.returncode, r.stdout
    return run


def raw_session(cmds, terminator=b"\r\n.\r\n"):
    """Send each command, read its whole reply; the octets, exactly."""
    def run(host, port):
        s = socket.create_connection((host, port), timeout=10)
        got = []

        def read_until(pred):
            buf = b""
            while not pred(buf):
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
            return buf
        got.append(read_until(lambda b: b.endswith(b"\n")))
        for cmd, multi in cmds:
            s.sendall(cmd + b"\r\n")
            if multi:
                got.append(read_until(lambda b: b.endswith(terminator) or b.startswith(b"-ERR")
                                      and b.endswith(b"\n")))
            else:
                got.append(read_until(lambda b: b.endswith(b"\n")))
        s.close()
        return got
    return run


def raw_stls_session(ca):
    """STLS sent whatever CAPA says (as clients configured for it do), then CAPA under
    TLS: the octets the client reads."""
    def run(host, port):
        s = socket.create_connection((host, port), timeout=10)
        f = s.makefile("rb")
        got = [f.readline()]
        s.sendall(b"STLS\r\n")
        got.append(f.readline())
        if got[-1].startswith(b"+OK"):
            ctx = ssl.create_default_context(cafile=ca)
            t = ctx.wrap_socket(s, server_hostname="127.0.0.1")
            tf = t.makefile("rb")
            t.sendall(b"CAPA\r\n")
            while True:
                line = tf.readline()
                got.append(line)
                if line in (b".\r\n", b"") or line.startswith(b"-ERR"):
                    break
            t.sendall(b"QUIT\r\n")
            got.append(tf.readline())
            t.close()
        s.close()
        return got
    return run


def settle(out, sessions):
    """Wait until the recorder has seen the last session end (a client that read its
    last reply may be faster than the recorder's own view of the close)."""
    import time
    deadline = time.time() + 10
    while time.time() < deadline:
        with open(out, "rb") as f:
            lines = f.read().splitlines()
        ends = sum(1 for x in lines if x in (b"!close", b"C: <close connection>"))
        if ends >= sessions:
            return
        time.sleep(0.05)


def roundtrip(binaries, tmp, name, mock_args, rec_args, clients, expect_in=()):
    rec, mock = binaries[0], binaries[1]
    out = os.path.join(tmp, name + ".pop3")
    with recrun.mock(mock, mock_args) as m:
        with recrun.record(rec, m.port, out, rec_args) as r:
            live = [c(r.host, r.port) for c in clients]
            settle(out, len(clients))
            rc = r.stop()
            assert rc == 0, "%s: pop3-record exited %s: %s" % (name, rc, r.err)
    with open(out, "rb") as f:
        text = f.read()
    for s in secrets():
        assert s not in text, "%s: the recording holds a secret %r:\n%s" % (name, s, text[:3000])
    for s in expect_in:
        assert s in text, "%s: %r not in the recording" % (name, s)
    with recrun.mock(mock, [out]) as rp:
        replay = [c(rp.host, rp.port) for c in clients]
        rc = rp.wait()
        assert rc == 0, "%s: the replay departed from the recording (%s):\n%s" % (name, rc, rp.err)
    for i, (a, b) in enumerate(zip(live, replay)):
        assert a == b, "%s: client %d saw\n%r\nlive and\n%r\non replay" % (name, i, a, b)
    print("%s: %d sessions, %d octets, same results on replay" % (name, len(clients), len(text)))
    return text


def case_skeleton(rec, mock, conform, tmp, base):
    cases = os.path.join(tmp, "cases")
    os.mkdir(cases)
    path = os.path.join(cases, "recorded.case")
    out = os.path.join(tmp, "case.pop3")
    with recrun.mock(mock, base) as m:
        with recrun.record(rec, m.port, out, ["--case", path]) as r:
            poplib_session(r.host, r.port)
            p = poplib.POP3(r.host, r.port, timeout=10)
            p.user(USER)
            try:
                p.pass_("wrong")
            except poplib.error_proto:
                pass
            p.quit()
            settle(out, 2)
            assert r.stop() == 0, r.err
    for f in (path, path + ".2"):
        with open(f, "rb") as fh:
            text = fh.read()
        for s in secrets():
            assert s not in text, (f, s)
    second = open(path + ".2").read()
    assert "run: pass secret\n  err server\n  code AUTH\n" in second, second
    os.rename(path + ".2", os.path.join(cases, "recorded-2.case"))
    r = subprocess.run([conform, "--cases", cases], capture_output=True, timeout=120)
    assert r.returncode == 0 and b"2 passed, 0 failed" in r.stdout, (r, open(path).read())
    print("case: 2 skeletons pass pop3-conform")


def test(rec, mock, pop3, conform=None):
    tmp = tempfile.mkdtemp(prefix="pop3record-")
    md = mockrun.make_maildir((mockrun.MSG1, mockrun.MSG2, mockrun.MSG3, MSG4))
    certs = os.path.join(tmp, "certs")
    os.mkdir(certs)
    ca, cert, key = mockrun.make_ca(certs)
    base = ["--maildrop", md, "--user", USER, "--password", PASSWORD]
    b = (rec, mock)
    try:
        # Plain: poplib USER/PASS and APOP, the pop3 command (CRAM-MD5), three sessions
        # in one multi-session script.
        text = roundtrip(b, tmp, "plain", base, [],
                         [lambda h, p: poplib_session(h, p),
                          lambda h, p: poplib_session(h, p, apop=True),
                          pop3_cli(pop3, ["list"]), pop3_cli(pop3, ["retr", "2"]),
                          pop3_cli(pop3, ["uidl"])],
                         expect_in=[b"C: PASS {*}", b"C: APOP alice {*}", b"!session"])
        assert text.count(b"!session") == 4, text.count(b"!session")
        # The octets: NUL in status lines, bare LF line ends, stuffing, a long line.
        cmds = [(b"CAPA", True), (b"USER " + USER.encode(), False),
                (b"PASS " + PASSWORD.encode(), False), (b"RETR 1", True), (b"RETR 2", True),
                (b"RETR 4", True), (b"QUIT", False)]
        roundtrip(b, tmp, "octets", base + ["--quirk", "nul-bytes"], [],
                  [raw_session(cmds)], expect_in=[b"\\0", b"\\x"])
        roundtrip(b, tmp, "bare-lf", base + ["--quirk", "bare-lf"], [],
                  [raw_session(cmds, b"\n.\n")], expect_in=[b"\\n\\c"])
        # STLS on both sides: the client's STLS goes upstream; the replay serves the
        # recorder's certificate (!tls-cert in the script).
        tls = base + ["--tls-cert", cert, "--tls-key", key]
        rec_tls = ["--upstream-starttls", "--cafile", ca, "--tls-cert", cert, "--tls-key", key]
        roundtrip(b, tmp, "stls", tls, rec_tls,
                  [lambda h, p: poplib_session(h, p, stls_ca=ca),
                   pop3_cli(pop3, ["--starttls", "--cafile", ca, "list"]),
                   pop3_cli(pop3, ["--starttls", "--cafile", ca, "--auth", "PLAIN", "retr", "1"])],
                  expect_in=[b"!starttls", b"!tls-cert", b"C: AUTH PLAIN {*}"])
        # A plaintext client, the upstream upgraded by the recorder's own STLS.
        roundtrip(b, tmp, "stls-hidden", tls, ["--upstream-starttls", "--cafile", ca],
                  [lambda h, p: poplib_session(h, p)],
                  expect_in=[b"STLS sent to the upstream by the recorder"])
        # Implicit TLS upstream, plain client.
        roundtrip(b, tmp, "implicit-tls", tls + ["--implicit-tls"], ["--upstream-tls", "--cafile", ca],
                  [lambda h, p: poplib_session(h, p)])
        # The client's STLS answered by the recorder, upstream plain.
        roundtrip(b, tmp, "stls-local", base, ["--tls-cert", cert, "--tls-key", key],
                  [raw_stls_session(ca)], expect_in=[b"answered by the recorder"])
        # Without a certificate of its own the recorder refuses STLS, the same on replay.
        roundtrip(b, tmp, "stls-refused", base, [], [raw_stls_session(ca)],
                  expect_in=[b"-ERR [SYS/PERM] pop3-record has no certificate"])
        # --keep-timing: a server that drips 5 octets at a time; one write per chunk.
        text = roundtrip(b, tmp, "timing", base + ["--quirk", "slow-drip=5:2"], ["--keep-timing"],
                         [raw_session([(b"CAPA", True), (b"QUIT", False)])],
                         expect_in=[b"!flush", b"!delay "])
        assert text.count(b"!flush") > 20, text
        if conform is not None:
            case_skeleton(rec, mock, conform, tmp, base)
        # An upstream whose certificate is not trusted: no session, exit 3.
        out = os.path.join(tmp, "untrusted.pop3")
        with recrun.mock(mock, tls + ["--implicit-tls"]) as m:
            with recrun.record(rec, m.port, out, ["--upstream-tls", "--once"]) as r:
                try:
                    poplib.POP3(r.host, r.port, timeout=10).getwelcome()
                except (poplib.error_proto, OSError, EOFError):
                    pass
                rc = r.wait()
                assert rc == 3, (rc, r.err)
                assert "certificate" in r.err.lower(), r.err
    finally:
        mockrun.cleanup(tmp)
        mockrun.cleanup(md)


if __name__ == "__main__":
    recrun.main(test)
