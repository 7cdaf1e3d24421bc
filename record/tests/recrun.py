"""recrun.py - start pop3-record (and pop3-mock) for the recorder's tests.

The helpers of the mock's own tests (maildrops, certificates) are reused from
mockserver/tests/mockrun.py.
"""
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "mockserver", "tests"))
import mockrun  # noqa: E402


class Proc:
    """A server that prints "NAME listening on ADDR:PORT" once it accepts."""

    def __init__(self, argv, name, timeout=10):
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = self.proc.stdout.readline().decode()
        prefix = name + " listening on "
        if not line.startswith(prefix):
            err = self.proc.stderr.read().decode()
            self.stop()
            raise AssertionError("%s: no ready line: %r %s" % (name, line, err))
        self.host, port = line[len(prefix):].strip().rsplit(":", 1)
        self.port = int(port)
        self.err = ""

    def wait(self, timeout=30):
        """Exit status of a server that ends by itself (--once, a script's last session)."""
        try:
            _, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError("did not exit within %ss" % timeout)
        self.err = err.decode()
        return self.proc.returncode

    def stop(self):
        """SIGTERM (then SIGKILL); returns the exit status and keeps stderr."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stderr and not self.proc.stderr.closed:
            self.err += self.proc.stderr.read().decode()
        for f in (self.proc.stdout, self.proc.stderr):
            if f:
                f.close()
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def mock(binary, args):
    return Proc([binary] + list(args), "pop3-mock")


def record(binary, upstream_port, out, args=()):
    return Proc([binary, "--upstream", "127.0.0.1:%d" % upstream_port, "--out", out]
                + list(args), "pop3-record")


def main(fn):
    """Run fn(record, mock, pop3[, conform]) with the binaries from argv; exit 0 or 1."""
    try:
        fn(*sys.argv[1:5])
    except AssertionError as e:
        print("FAIL:", e, file=sys.stderr)
        sys.exit(1)
    print("ok")
