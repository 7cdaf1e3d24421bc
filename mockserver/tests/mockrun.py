"""mockrun.py - start pop3-mock for an interop test, read its ready line, clean up.

Every test starts its own server on 127.0.0.1 port 0 and learns the port from the
ready line "pop3-mock listening on ADDR:PORT". The server is stopped (SIGTERM, then
SIGKILL) however the test ends.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile


class Mock:
    def __init__(self, binary, args, timeout=10):
        self.proc = subprocess.Popen([binary] + list(args), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        line = self.proc.stdout.readline().decode()
        prefix = "pop3-mock listening on "
        if not line.startswith(prefix):
            err = self.proc.stderr.read().decode()
            self.stop()
            raise RuntimeError("no ready line: %r %s" % (line, err))
        addr = line[len(prefix):].strip()
        self.host, port = addr.rsplit(":", 1)
        self.port = int(port)

    def wait(self, timeout=20):
        """Exit status and stderr of a server that stops by itself (scripts, --once)."""
        try:
            _, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise
        return self.proc.returncode, err.decode()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for f in (self.proc.stdout, self.proc.stderr):
            if f:
                f.close()
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        was_running = self.proc.poll() is None
        rc = self.stop()
        # SIGTERM is a clean exit: status 0, and under ASan no error or leak report.
        if exc_type is None and was_running:
            assert rc == 0, "pop3-mock exited %s after SIGTERM" % rc


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
    """Run fn(binary) with the pop3-mock path from argv; exit 0 or 1."""
    binary = sys.argv[1]
    try:
        fn(binary)
    except AssertionError as e:
        print("FAIL:", e, file=sys.stderr)
        sys.exit(1)
    print("ok")
