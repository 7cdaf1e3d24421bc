"""mockrun.py - the one place the mock's Python tests start, wait for and stop pop3-mock.

Every test starts its own server on 127.0.0.1 port 0 and learns the port from the
mock's --port-file (written by rename once it listens: never half a number). The
server is stopped (SIGTERM, then SIGKILL) however the test ends: main() stops every
server still running. run() runs the program for a usage or configuration error.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

_running = []  # every Mock started, so that main() can stop what a failed test left


class Mock:
    """One pop3-mock: `host`, `port`, `proc`; its stdout and stderr go to files."""

    def __init__(self, binary, args, timeout=10):
        self._dir = tempfile.mkdtemp(prefix="pop3mock-run-")
        args = [str(a) for a in args]
        if "--port-file" in args:  # the test's own (a test of --port-file itself)
            port_file = args[args.index("--port-file") + 1]
        else:
            port_file = os.path.join(self._dir, "port")
            args = ["--port-file", port_file] + args
        self._out = os.path.join(self._dir, "stdout")
        self._err = os.path.join(self._dir, "stderr")
        with open(self._out, "wb") as o, open(self._err, "wb") as e:
            self.proc = subprocess.Popen([binary] + args, stdin=subprocess.DEVNULL, stdout=o,
                                         stderr=e)
        _running.append(self)
        self.host, self.port = "127.0.0.1", None
        deadline = time.monotonic() + timeout
        while self.port is None:
            if os.path.exists(port_file):
                text = open(port_file).read()
                assert text.endswith("\n") and text[:-1].isdigit(), "port file: %r" % text
                self.port = int(text)
            elif self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("pop3-mock did not listen (status %s): %s"
                                   % (self.proc.returncode, self.stderr()))
            else:
                time.sleep(0.01)

    def stderr(self):
        with open(self._err, "rb") as f:
            return f.read().decode(errors="replace")

    def stdout(self):
        with open(self._out, "rb") as f:
            return f.read().decode(errors="replace")

    def wait(self, timeout=20):
        """Exit status and stderr of a server that stops by itself (scripts, --once) or
        was sent a signal."""
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise
        return self.proc.returncode, self.stderr()

    def finished(self, timeout=20):
        """A server that must end by itself with status 0 (every session went well)."""
        rc, err = self.wait(timeout)
        assert rc == 0, "pop3-mock exit %d: %s" % (rc, err)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self in _running:
            _running.remove(self)
            shutil.rmtree(self._dir, ignore_errors=True)
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        was_running = self.proc.poll() is None
        rc = self.stop()
        # SIGTERM is a clean exit: status 0, and under ASan no error or leak report.
        if exc_type is None and was_running:
            assert rc == 0, "pop3-mock exited %s after SIGTERM" % rc


def run(binary, *args, timeout=30):
    """Run pop3-mock to completion (a usage or configuration error): the
    CompletedProcess, stdout and stderr as text."""
    return subprocess.run([binary] + [str(a) for a in args], stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=timeout)


MSG1 = (b"From: alice@example.org\nTo: bob@example.org\nSubject: first\n\n"
        b"Hello Bob,\n.a line starting with a dot\n..two dots\n.\nbye\n")
MSG2 = (b"From: carol@example.org\r\nSubject: second\r\n\r\n"
        b"CRLF on disk\r\n8-bit \xc3\xa9 and a NUL \x00 byte\r\nno final newline")
MSG3 = b"Subject: third\n\n" + b"".join(b"line %05d of a longer message\n" % i
                                          for i in range(3000))


def wire(raw):
    """What RFC 1939 says a client receives for a stored message, un-stuffed: every
    bare LF as CRLF, plus CRLF when the message does not end with a line end."""
    out = bytearray()
    prev = b""
    for i in range(len(raw)):
        c = raw[i:i + 1]
        if c == b"\n" and prev != b"\r":
            out += b"\r"
        out += c
        prev = c
    if raw and not raw.endswith(b"\n"):
        out += b"\r\n"
    return bytes(out)


def rfc_size(raw):
    """The size LIST reports: the octets RETR sends before the terminator (the CRLF
    added to a message without a final newline included)."""
    return len(wire(raw))


def make_maildir(msgs=(MSG1, MSG2, MSG3)):
    d = tempfile.mkdtemp(prefix="pop3mock-")
    for sub in ("cur", "new", "tmp"):
        os.mkdir(os.path.join(d, sub))
    for i, m in enumerate(msgs):
        sub = "new" if i % 2 == 0 else "cur"
        name = "17000000%02d.M%dP1.test" % (i, i) + (":2,S" if sub == "cur" else "")
        with open(os.path.join(d, sub, name), "wb") as f:
            f.write(m)
    return d


def make_ca(d):
    """A CA and a server certificate for localhost / 127.0.0.1, made with openssl."""
    def run(*args):
        subprocess.run(["openssl"] + list(args), check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    ca_key, ca = os.path.join(d, "ca.key"), os.path.join(d, "ca.pem")
    key, csr, cert = (os.path.join(d, n) for n in ("srv.key", "srv.csr", "srv.pem"))
    ext = os.path.join(d, "ext.cnf")
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca,
        "-days", "2", "-subj", "/CN=pop3kit test CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
        "-subj", "/CN=localhost")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    run("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
        "-out", cert, "-days", "2", "-extfile", ext)
    return ca, cert, key


def cleanup(path):
    shutil.rmtree(path, ignore_errors=True)


def main(fn):
    """Run fn(binary) with the pop3-mock path from argv; exit 0 or 1. Every server a
    test left running is stopped."""
    binary = sys.argv[1]
    try:
        fn(binary)
    except AssertionError as e:
        print("FAIL:", e, file=sys.stderr)
        sys.exit(1)
    finally:
        for m in list(_running):
            m.stop()
    print("ok")
