"""interop_tls_faults.py - TLS faults of dialogue scripts, and --tls-max, over real sockets.

Each fault is driven by real clients, which must see a TLS failure: Python's ssl module
(through poplib, or a raw socket), and the pop3kit client `pop3` (exit status 3: connection,
TLS or timeout, pop3.1). RFC 2595 section 4 (STLS), RFC 8314 section 3 (implicit TLS)
and 4.1 (TLS 1.2 or later: a client must refuse a server capped below it), RFC 8446
section 6 (alerts).

- !tls-cert: a certificate per script and per session, relative to the script's folder;
- !tls-alert, !tls-garbage: the ClientHello answered with an alert or with plain text;
- !tls-truncate N [stall]: only N octets of the server's flight, then a close or a stall;
- !tls-abort N: the server hangs up while reading the ClientHello;
- !tls-max and --tls-max: the version cap, with a client that accepts the old version to
  show that the server really speaks it.

Usage: interop_tls_faults.py POP3_MOCK POP3
"""
import os
import poplib
import socket
import ssl
import subprocess
import sys
import tempfile
import warnings

from mockrun import MSG1, Mock, cleanup, main, make_ca, make_maildir, run

# poplib.stls() and pop3 --starttls both ask CAPA first (RFC 2595 section 4: STLS is
# used when announced).
STLS = "S: +OK ready\nC: CAPA\nS: +OK\nS: STLS\nS: .\nC: STLS\nS: +OK Begin TLS negotiation\n"
POP3 = None


def pop3(port, *args, timeout=5):
    """Run the pop3 command against 127.0.0.1:port; returns (status, stderr)."""
    r = subprocess.run([POP3, "-H", "127.0.0.1", "-p", str(port), "-u", "u",
                        "--timeout", str(timeout)] + list(args),
                       env=dict(os.environ, POP3_PASSWORD="p"), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    return r.returncode, r.stderr.decode(errors="replace")


def expect_tls_failure(port, ca, starttls=True, timeout=5):
    rc, err = pop3(port, "--starttls" if starttls else "--tls", "--cafile", ca, "capa",
                   timeout=timeout)
    assert rc == 3, "pop3 exit %d, want 3 (TLS failure): %s" % (rc, err)
    return err


def poplib_stls_fails(port, ctx, want=None, timeout=10):
    """STLS with poplib; the handshake must fail with an ssl.SSLError (or time out)."""
    p = poplib.POP3("127.0.0.1", port, timeout=timeout)
    try:
        p.stls(context=ctx)
    except (ssl.SSLError, socket.timeout) as e:
        if want is not None:
            assert any(w in str(e) for w in want), "want one of %s: %r" % (want, e)
        return e
    finally:
        p.sock.close()
    raise AssertionError("the handshake succeeded")


def script(tmp, name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def client_hello():
    """A real ClientHello from Python's ssl module, through memory BIOs."""
    ctx = ssl.create_default_context()
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def read_all(s):
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return data
        data += chunk


def test(binary):
    tmp = tempfile.mkdtemp(prefix="pop3mock-tlsf-")
    md = make_maildir([MSG1])
    try:
        # Two CAs: certs/ is what the clients trust, other/ is not.
        os.mkdir(os.path.join(tmp, "certs"))
        os.mkdir(os.path.join(tmp, "other"))
        ca, cert, key = make_ca(os.path.join(tmp, "certs"))
        make_ca(os.path.join(tmp, "other"))
        good = ssl.create_default_context(cafile=ca)

        # !tls-cert: no --tls-cert at all; session 1 serves the trusted certificate,
        # sessions 2 and 3 another one, which poplib and pop3 refuse.
        sc = script(tmp, "cert.pop3",
                    "!tls-cert certs/srv.pem certs/srv.key\n" + STLS + "!starttls\n"
                    "C: CAPA\nS: +OK\nS: USER\nS: .\nC: QUIT\nS: +OK bye\n"
                    "!session\n!tls-cert other/srv.pem other/srv.key\n" + STLS + "!starttls\n"
                    "!session\n" + STLS + "!starttls\n")
        m = Mock(binary, [sc])
        p = poplib.POP3("127.0.0.1", m.port, timeout=10)
        p.stls(context=good)
        assert p.capa() == {"USER": []}, "CAPA under TLS"
        p.quit()
        e = poplib_stls_fails(m.port, good, ["CERTIFICATE_VERIFY_FAILED"])
        assert isinstance(e, ssl.SSLCertVerificationError), e
        err = expect_tls_failure(m.port, ca)
        assert "certificate" in err.lower(), err
        m.finished()
        # A certificate that cannot be loaded is a script error: exit 2, FILE:LINE.
        bad = script(tmp, "bad.pop3", "S: +OK\n!tls-cert certs/nonexistent.pem\n" + STLS +
                     "!starttls\n")
        r = run(binary, bad)
        assert r.returncode == 2 and r.stdout == "", (r.returncode, r.stdout)
        assert r.stderr.startswith(bad + ":2: !tls-cert: "), r.stderr
        # --implicit-tls with a script's own certificate and no --tls-cert.
        sc = script(tmp, "implicit.pop3", "!tls-cert certs/srv.pem certs/srv.key\n"
                    "S: +OK implicit\nC: QUIT\nS: +OK bye\n")
        m = Mock(binary, ["--implicit-tls", sc])
        p = poplib.POP3_SSL("127.0.0.1", m.port, context=good, timeout=10)
        assert p.getwelcome() == b"+OK implicit"
        p.quit()
        m.finished()

        # !tls-alert: the ClientHello answered with a fatal alert; after STLS, and as
        # implicit TLS (a script that begins with the fault).
        sc = script(tmp, "alert.pop3", "!tls-cert certs/srv.pem certs/srv.key\n" + STLS +
                    "!tls-alert\n!session\n" + STLS + "!tls-alert\n!session\n"
                    "!tls-alert protocol_version\n!session\n!tls-alert protocol_version\n")
        m = Mock(binary, [sc])
        poplib_stls_fails(m.port, good, ["HANDSHAKE_FAILURE", "handshake failure"])
        err = expect_tls_failure(m.port, ca)
        try:
            poplib.POP3_SSL("127.0.0.1", m.port, context=good, timeout=10)
            raise AssertionError("implicit TLS: the handshake succeeded")
        except ssl.SSLError as e:
            assert "PROTOCOL_VERSION" in str(e) or "protocol version" in str(e), e
        expect_tls_failure(m.port, ca, starttls=False)
        m.finished()

        # !tls-garbage: plain text where the ServerHello belongs; the log shows it sent.
        log = os.path.join(tmp, "garbage.log")
        sc = script(tmp, "garbage.pop3", STLS + "!tls-garbage\n!session\n" + STLS +
                    "!tls-garbage HTTP/1.1 400 Bad Request\\r\\n\\r\\n\n")
        m = Mock(binary, ["--log", log, sc])
        poplib_stls_fails(m.port, good)
        expect_tls_failure(m.port, ca)
        m.finished()
        text = open(log, "rb").read()
        assert b"S: -ERR this is not TLS\\r\\n" in text, text[-800:]
        assert b"S: HTTP/1.1 400 Bad Request\\r\\n" in text, text[-800:]

        # !tls-truncate N: exactly N octets of the server's flight (a TLS record header
        # first), then a close; with "stall", the client times out.
        sc = script(tmp, "truncate.pop3", "!tls-cert certs/srv.pem certs/srv.key\n" + STLS +
                    "!tls-truncate 60\n!session\n" + STLS + "!tls-truncate 60\n!session\n" +
                    STLS + "!tls-truncate 60\n!session\n" + STLS + "!tls-truncate 60 stall\n"
                    "!session\n" + STLS + "!tls-truncate 0 stall\n")
        m = Mock(binary, [sc])
        s = socket.create_connection(("127.0.0.1", m.port), timeout=10)
        f = s.makefile("rb")
        assert f.readline() == b"+OK ready\r\n"
        s.sendall(b"CAPA\r\nSTLS\r\n")
        assert [f.readline() for _ in range(3)] == [b"+OK\r\n", b"STLS\r\n", b".\r\n"]
        assert f.readline() == b"+OK Begin TLS negotiation\r\n"
        s.sendall(client_hello())
        got = read_all(s)
        assert len(got) == 60 and got[0] == 22, (len(got), got[:8])
        s.close()
        poplib_stls_fails(m.port, good, ["EOF", "eof"])
        expect_tls_failure(m.port, ca)
        e = poplib_stls_fails(m.port, good, timeout=2)
        assert isinstance(e, socket.timeout) or "timed out" in str(e), repr(e)
        err = expect_tls_failure(m.port, ca, timeout=2)
        m.finished()

        # !tls-abort N (the existing fault): pop3 sees a TLS failure too.
        sc = script(tmp, "abort.pop3", STLS + "!tls-abort 10\n")
        m = Mock(binary, [sc])
        expect_tls_failure(m.port, ca)
        m.finished()

        # !tls-max 1.1: a client with TLS 1.2 as its minimum (RFC 8314 section 4.1,
        # Python's default, pop3's policy) refuses; one that still accepts TLS 1.1
        # gets it, so the server really speaks the old version.
        sc = script(tmp, "max.pop3", "!tls-cert certs/srv.pem certs/srv.key\n!tls-max 1.1\n" +
                    STLS + "!starttls\n!session\n" + STLS + "!starttls\n!session\n" + STLS +
                    "!starttls\nC: QUIT\nS: +OK bye\n")
        m = Mock(binary, [sc])
        poplib_stls_fails(m.port, good, ["UNSUPPORTED_PROTOCOL", "PROTOCOL_VERSION",
                                         "NO_PROTOCOLS_AVAILABLE", "protocol"])
        expect_tls_failure(m.port, ca)
        p = poplib.POP3("127.0.0.1", m.port, timeout=10)
        old = legacy_context(ca)
        p.stls(context=old)
        assert p.sock.version() == "TLSv1.1", p.sock.version()
        p.quit()
        m.finished()

        # --tls-max in maildrop mode: 1.1 fails for poplib and pop3; 1.2 is what a
        # default client gets, and a client that wants 1.3 at least is refused.
        base = ["--maildrop", md, "--user", "u", "--password", "p", "--tls-cert", cert,
                "--tls-key", key]
        with Mock(binary, base + ["--tls-max", "1.1"]) as m:
            poplib_stls_fails(m.port, good)
            expect_tls_failure(m.port, ca)
            p = poplib.POP3("127.0.0.1", m.port, timeout=10)
            p.stls(context=legacy_context(ca))
            assert p.sock.version() == "TLSv1.1", p.sock.version()
            p.user("u")
            p.pass_("p")
            assert p.stat()[0] == 1
            p.quit()
        with Mock(binary, base + ["--tls-max", "1.2"]) as m:
            p = poplib.POP3("127.0.0.1", m.port, timeout=10)
            p.stls(context=good)
            assert p.sock.version() == "TLSv1.2", p.sock.version()
            p.quit()
            want13 = ssl.create_default_context(cafile=ca)
            want13.minimum_version = ssl.TLSVersion.TLSv1_3
            poplib_stls_fails(m.port, want13)
            rc, err = pop3(m.port, "--starttls", "--cafile", ca, "stat")
            assert rc == 0, (rc, err)
        # A bad --tls-max is a usage error.
        r = run(binary, *base, "--tls-max", "1.4")
        assert r.returncode == 2 and "--tls-max 1.4" in r.stderr, r.stderr
    finally:
        cleanup(tmp)
        cleanup(md)


def legacy_context(ca):
    """A client that still accepts TLS 1.1 (security level 0, as the server uses)."""
    ctx = ssl.create_default_context(cafile=ca)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    return ctx


if __name__ == "__main__":
    POP3 = sys.argv[2]
    main(test)
