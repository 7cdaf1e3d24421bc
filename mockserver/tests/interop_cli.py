"""interop_cli.py - the pop3-mock command-line contract over real sockets.

The ready line, --once, --idle-timeout (RFC 1939 section 3 autologout: a silent close,
no reply), --max-sessions, --log in text and JSON, --quirk and --preset, the 255-octet
command limit (RFC 2449 section 4) at and past the limit, a 64 MiB line of garbage,
SIGINT, and the usage errors (exit status 2).
"""
import json
import os
import signal
import socket
import tempfile

from mockrun import MSG1, Mock, cleanup, main, make_maildir, run


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    f = s.makefile("rb")
    return s, f


def test(binary):
    md = make_maildir([MSG1])
    tmp = tempfile.mkdtemp(prefix="pop3mock-cli-")
    base = ["--maildrop", md, "--user", "u", "--password", "p"]
    try:
        # --once: one session, then exit 0.
        m = Mock(binary, base + ["--once"])
        s, f = connect(m.port)
        assert f.readline().startswith(b"+OK")
        s.sendall(b"QUIT\r\n")
        assert f.readline().startswith(b"+OK")
        rc, err = m.wait()
        assert rc == 0, (rc, err)

        # --idle-timeout: the server closes a silent session without a reply.
        with Mock(binary, base + ["--idle-timeout", "1"]) as m:
            s, f = connect(m.port)
            f.readline()
            s.sendall(b"USER u\r\nPASS p\r\n")
            f.readline()
            f.readline()
            assert f.read() == b"", "no reply on autologout"

        # --max-sessions 2: a third connection is closed at once, no greeting.
        with Mock(binary, base + ["--max-sessions", "2"]) as m:
            a, fa = connect(m.port)
            b, fb = connect(m.port)
            assert fa.readline().startswith(b"+OK") and fb.readline().startswith(b"+OK")
            c, fc = connect(m.port)
            assert fc.read() == b""
            for x in (a, b, c):
                x.close()

        # Command lines: 255 octets with CRLF pass, 256 do not; 64 MiB of garbage
        # without a line end gets one -ERR and the session goes on.
        log = os.path.join(tmp, "t.log")
        with Mock(binary, base + ["--log", log]) as m:
            s, f = connect(m.port)
            f.readline()
            s.sendall(b"USER " + b"x" * 248 + b"\r\n")
            assert f.readline() == b"+OK send PASS\r\n"
            s.sendall(b"USER " + b"x" * 249 + b"\r\n")
            assert f.readline() == b"-ERR line too long (max 255 octets)\r\n"
            chunk = bytes(range(256)).replace(b"\n", b"") * 4096
            sent = 0
            while sent < 64 << 20:
                s.sendall(chunk)
                sent += len(chunk)
            s.sendall(b"\r\nNOOP\r\nUSER u\r\nPASS p\r\nSTAT\r\nQUIT\r\n")
            assert f.readline() == b"-ERR line too long (max 255 octets)\r\n"
            assert f.readline().startswith(b"-ERR NOOP is not valid")
            assert f.readline() == b"+OK send PASS\r\n"
            assert f.readline().startswith(b"+OK u's maildrop has 1")
            assert f.readline().startswith(b"+OK 1 ")
            assert f.readline().startswith(b"+OK pop3kit-mock")
            s.close()
        text = open(log, "rb").read()
        assert b"#1 S: +OK send PASS\\r\\n" in text, text[:500]
        assert b"#1 C: USER xxxx" in text

        # JSON transcript, and SIGINT is a clean exit too.
        jlog = os.path.join(tmp, "t.jsonl")
        m = Mock(binary, base + ["--log", jlog, "--log-format", "json"])
        s, f = connect(m.port)
        f.readline()
        s.sendall(b"QUIT\r\n")
        f.readline()
        s.close()
        m.proc.send_signal(signal.SIGINT)
        rc, err = m.wait()
        assert rc == 0, (rc, err)
        recs = [json.loads(l) for l in open(jlog)]
        data = [r for r in recs if "data" in r]
        assert data[0]["dir"] == "S" and data[0]["data"].startswith("+OK POP3 server ready")
        assert data[0]["data"].endswith("\r\n") and data[0]["tls"] is False
        assert any(r.get("dir") == "C" and r["data"] == "QUIT\r\n" for r in data), data
        assert any(r.get("event") == "connect" for r in recs)

        # --quirk and --preset reach the wire.
        with Mock(binary, base + ["--quirk", "bare-lf", "--preset", "dovecot"]) as m:
            s, f = connect(m.port)
            greeting = f.readline()
            assert greeting.startswith(b"+OK Dovecot ready. <") and greeting.endswith(b">\n"), \
                greeting
            s.close()

        # Usage errors: exit 2, nothing on stdout.
        for args in (["--quirk", "nope"] + base, ["--preset", "nope"] + base, [],
                     base + ["--idle-timeout", "x"], ["--maildrop", md],
                     base + ["--implicit-tls"], ["--maildrop", "/nonexistent", "--user", "u",
                                                 "--password", "p"],
                     base + ["--tls-cert", "/nonexistent.pem"]):
            r = run(binary, *args)
            assert r.returncode == 2, (args, r.returncode, r.stderr)
            assert r.stdout == "", (args, r.stdout)
            assert r.stderr.startswith("pop3-mock: "), (args, r.stderr)
    finally:
        cleanup(md)
        cleanup(tmp)


if __name__ == "__main__":
    main(test)
