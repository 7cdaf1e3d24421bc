"""tapcheck.py - the TAP-style checks the conformance command-line tests print.

One line per check, "ok - NAME" or "not ok - NAME" followed by the last lines of what
was seen, "#"-prefixed; at the end "N failed" and the exit status 1 when any failed.
pop3-conform's usage errors follow one contract (conformance/README.md): exit 2,
nothing on standard output, exactly the message and the hint on standard error.
"""
import sys


class Checks:
    def __init__(self, detail_lines=60):
        self.failures = 0
        self.detail_lines = detail_lines

    def check(self, name, cond, detail=""):
        print("%s - %s" % ("ok" if cond else "not ok", name))
        if not cond:
            self.failures += 1
            if detail:
                lines = str(detail).splitlines()[-self.detail_lines:]
                sys.stdout.write("".join("#   " + l + "\n" for l in lines))
        return cond

    def usage_error(self, name, result, message):
        """`result` is (exit status, stdout, stderr) of a run that must be a usage error
        saying `message`."""
        rc, out, err = result
        return self.check(name, rc == 2 and out == "" and
                          err == "pop3-conform: %s\ntry 'pop3-conform --help'\n" % message,
                          "rc=%d\nstdout=%r\nstderr=%r" % (rc, out, err))

    def finish(self):
        print("%d failed" % self.failures)
        sys.exit(1 if self.failures else 0)
