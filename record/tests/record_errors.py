"""record_errors.py - pop3-record's usage errors and bad input: an unwritable --out,
an upstream that refuses the connection, one that hangs past --timeout, one that sends
garbage, a client that leaves in the middle of a body, and a client line past
--max-line. Each gives a clear error, and the recording keeps what was relayed, marked
partial where something is missing.

usage: record_errors.py POP3-RECORD POP3-MOCK POP3
"""
import os
import socket
import subprocess
import tempfile
import threading

import recrun
from recrun import mockrun


def usage(rec):
    def run(*args):
        return subprocess.run([rec] + list(args), capture_output=True, timeout=10)
    r = run("--help")
    assert r.returncode == 0 and b"--upstream HOST:PORT" in r.stdout, r
    r = run("--version")
    assert r.returncode == 0 and r.stdout == b"pop3-record (pop3kit) 0.1.0\n", r
    for args, msg in [((), "--upstream HOST:PORT is required"),
                      (("--upstream", "h:1"), "--out FILE is required"),
                      (("--upstream", "nohost", "--out", "f"), "expected HOST:PORT"),
                      (("--upstream", "h:0", "--out", "f"), "expected HOST:PORT"),
                      (("--upstream", "h:1", "--out", "f", "--bogus"), "unknown option '--bogus'"),
                      (("--upstream", "h:1", "--out", "f", "--once=1"), "option '--once' takes no value"),
                      (("--upstream", "h:1", "--out"), "option '--out' needs a value"),
                      (("--upstream", "h:1", "--out", "f", "--timeout", "0"), "--timeout '0'"),
                      (("--upstream", "h:1", "--out", "f", "--upstream-tls", "--upstream-starttls"),
                       "exclude each other"),
                      (("--upstream", "h:1", "--out", "f", "--cafile", "x", "--insecure"),
                       "exclude each other"),
                      (("--upstream", "h:1", "--out", "f", "--implicit-tls"), "needs --tls-cert")]:
        r = run(*args)
        err = r.stderr.decode()
        lines = err.splitlines()
        assert r.returncode == 2, (args, r)
        assert len(lines) == 2 and lines[0].startswith("pop3-record: ") and msg in lines[0], (args, err)
        assert lines[1] == "try 'pop3-record --help'", (args, err)
    r = run("--upstream", "h:1", "--out", "f", "--tls-cert", "/nonexistent.pem")
    assert r.returncode == 2 and "/nonexistent.pem" in r.stderr.decode(), r


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def fake_upstream(behaviour):
    """A one-connection server on 127.0.0.1 that does `behaviour(conn)`."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)

    def serve():
        try:
            conn, _ = srv.accept()
            behaviour(conn)
            conn.close()
        except OSError:
            pass
        srv.close()
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return srv.getsockname()[1], t


def read_all(host, port, send=b"", until=None, timeout=10):
    s = socket.create_connection((host, port), timeout=timeout)
    buf = b""
    if send:
        s.sendall(send)
    try:
        while until is None or until not in buf:
            c = s.recv(4096)
            if not c:
                break
            buf += c
    except socket.timeout:
        pass
    s.close()
    return buf


def test(rec, mock, pop3, conform=None):
    usage(rec)
    tmp = tempfile.mkdtemp(prefix="pop3record-err-")
    try:
        # --out cannot be written: before listening (a missing folder, a full device).
        for out, why in [(os.path.join(tmp, "no", "such", "dir", "f.pop3"), "No such file"),
                         ("/dev/full", "No space left")]:
            r = subprocess.run([rec, "--upstream", "127.0.0.1:1", "--out", out],
                               capture_output=True, timeout=10)
            err = r.stderr.decode()
            assert r.returncode == 5 and out in err and why in err, (out, r)
            assert r.stdout == b"", r

        # The upstream refuses the connection: exit 3, named, the file says so.
        out = os.path.join(tmp, "refused.pop3")
        port = free_port()
        with recrun.record(rec, port, out, ["--once"]) as r:
            got = read_all(r.host, r.port)
            rc = r.wait()
        assert got == b"", got
        assert rc == 3 and "refused" in r.err.lower() and "127.0.0.1:%d" % port in r.err, (rc, r.err)
        assert b"partial recording" in open(out, "rb").read()

        # The upstream accepts and says nothing: --timeout 1 ends the session (exit 1).
        out = os.path.join(tmp, "hang.pop3")
        port, t = fake_upstream(lambda c: c.recv(100))
        with recrun.record(rec, port, out, ["--once", "--timeout", "1"]) as r:
            got = read_all(r.host, r.port, timeout=10)
            rc = r.wait(timeout=15)
        assert rc == 1, (rc, r.err)
        assert "sent nothing for 1000 ms while the greeting was due (--timeout)" in r.err, r.err
        text = open(out, "rb").read()
        assert b"# pop3-record: partial recording: the upstream sent nothing" in text, text

        # A greeting, then silence after a command: the timeout names the command.
        out = os.path.join(tmp, "hang2.pop3")
        port, t = fake_upstream(lambda c: (c.sendall(b"+OK hi\r\n"), c.recv(100), c.recv(100)))
        with recrun.record(rec, port, out, ["--once", "--timeout", "1"]) as r:
            got = read_all(r.host, r.port, send=b"STAT\r\n", timeout=10)
            rc = r.wait(timeout=15)
        assert rc == 1 and "while STAT was due" in r.err, (rc, r.err)
        assert got == b"+OK hi\r\n", got
        text = open(out, "rb").read()
        # (The client sends STAT without waiting for the greeting: either may come first.)
        assert b"S: +OK hi\n" in text and b"C: STAT\n" in text, text
        assert text.endswith(b"\n# pop3-record: partial recording: the upstream sent nothing "
                             b"for 1000 ms while STAT was due (--timeout)\n"), text

        # Garbage instead of POP3: relayed and recorded as is, the client gets the same
        # octets from the replay.
        junk = b"HTTP/1.1 400 Bad Request\r\n\x00\xff\r\n\r\n"
        out = os.path.join(tmp, "garbage.pop3")
        port, t = fake_upstream(lambda c: c.sendall(junk))
        with recrun.record(rec, port, out, ["--once"]) as r:
            live = read_all(r.host, r.port)
            rc = r.wait()
        assert live == junk and rc == 0, (live, rc, r.err)
        with recrun.mock(mock, [out]) as m:
            replay = read_all(m.host, m.port)
            m.wait()
        assert replay == junk, (replay, open(out, "rb").read())

        # A client that leaves in the middle of a body: partial, the octets it was sent
        # are in the file.
        script = os.path.join(tmp, "stall.pop3")
        with open(script, "w") as f:
            f.write("S: +OK ready\nC: RETR 1\nS: +OK 100 octets\nS: first line\n!stall\n")
        out = os.path.join(tmp, "midbody.pop3")
        with recrun.mock(mock, ["--idle-timeout", "5", script]) as m:
            with recrun.record(rec, m.port, out, ["--once"]) as r:
                got = read_all(r.host, r.port, send=b"RETR 1\r\n", until=b"first line\r\n")
                rc = r.wait()
        assert got == b"+OK ready\r\n+OK 100 octets\r\nfirst line\r\n", got
        assert rc == 1, (rc, r.err)
        text = open(out, "rb").read()
        assert b"S: first line\nC: <close connection>\n# pop3-record: partial recording: the " \
               b"client closed the connection in the middle of the reply to RETR 1" in text, text

        # A client line past --max-line: refused, named.
        out = os.path.join(tmp, "long.pop3")
        port, t = fake_upstream(lambda c: (c.sendall(b"+OK hi\r\n"), c.recv(100)))
        with recrun.record(rec, port, out, ["--once", "--max-line", "64"]) as r:
            read_all(r.host, r.port, send=b"NOOP " + b"a" * 100)
            rc = r.wait()
        assert rc == 1 and "longer than 64 octets (--max-line)" in r.err, (rc, r.err)

        # SIGTERM while idle: a clean exit 0.
        with recrun.record(rec, free_port(), os.path.join(tmp, "idle.pop3")) as r:
            assert r.stop() == 0, r.err
    finally:
        mockrun.cleanup(tmp)


if __name__ == "__main__":
    recrun.main(test)
