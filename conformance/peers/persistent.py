"""persistent.py - serve many pop3-conform cases from one Python process.

A one-shot adapter is a program: pop3-conform starts it for each case and delivery, with
the case's POP3_CONFORM_* variables in its environment and the options and operations on
its standard input, and reads its standard output, standard error and exit status. A
persistent adapter (conformance/README.md, "Persistent adapters") is started once per
worker with POP3_CONFORM_ADAPTER_MODE=persistent and gets the cases as request frames on
its standard input; for each it writes a reply frame with what the one-shot run would
have written and its exit status. This module does the persistent half for an adapter
written as a function that does one case the one-shot way:

    # pop3-conform-adapter: persistent      (a comment within the file's first 2048 octets)
    import persistent

    def run_case():
        ...read sys.stdin, read os.environ["POP3_CONFORM_HOST"], print results...

    if __name__ == "__main__":
        persistent.serve(run_case)

serve() calls run_case() once when the mode is not persistent (a plain one-shot run, as
before). In persistent mode it calls run_case() per request with file descriptors 0, 1
and 2 pointing at the case's input and at files that catch its output (so programs the
case runs inherit them as they would in a one-shot run), sys.stdin, sys.stdout and
sys.stderr opened on them, and os.environ as the process started with plus the case's
variables. The case's exit status is what Python would give: 0 when run_case() returns,
SystemExit's code (None is 0; a code that is no int is printed to standard error and is 1),
1 after an uncaught exception, whose traceback goes to the case's standard error. The
working folder is put back after each case and garbage collected (sockets left to the
collector close before the next case starts).

Wrapping another adapter (curl_adapter.py was wrapped this way): when it has a run_case()
function that does one case the one-shot way (reads sys.stdin and os.environ, prints,
returns or calls sys.exit), add the marker comment near its top and end the file with
`persistent.serve(run_case)` instead of calling run_case() (its main(), if that is what it
calls it, the same way). Nothing else changes; state that it keeps in module globals
outlives a case, so run_case() must set what it reads.
"""
import gc
import io
import os
import sys
import tempfile
import traceback

MODE_VAR = "POP3_CONFORM_ADAPTER_MODE"


def _read_frame(f):
    """The records of one request: [(name, data)], or None at end of input."""
    records = []
    while True:
        head = f.readline(64)
        if not head:
            if records:
                raise ValueError("the input ended inside a request")
            return None
        name, _, length = head.rstrip(b"\n").decode("ascii").partition(" ")
        if not length.isdigit():
            raise ValueError("a record header without a length: %r" % head)
        n = int(length)
        data = f.read(n)
        if len(data) != n or f.read(1) != b"\n":
            raise ValueError("a %s record cut short" % name)
        if name == "end":
            return records
        records.append((name, data))


def _record(name, data):
    return b"%s %d\n%s\n" % (name.encode("ascii"), len(data), data)


def _exit_status(code):
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    try:
        sys.stderr.write("%s\n" % (code,))
    except Exception:
        pass
    return 1


class _Server:
    def __init__(self):
        # The frames travel on private copies of 0 and 1; the case's programs never see them.
        self.frames_in = os.fdopen(os.dup(0), "rb")
        self.frames_out = os.dup(1)
        self.real_err = os.dup(2)
        self.devnull = os.open(os.devnull, os.O_RDWR)
        self.streams = [(s.encoding, s.errors) for s in (sys.__stdin__, sys.__stdout__,
                                                          sys.__stderr__)]
        self.environ = {k: v for k, v in os.environ.items()
                        if not k.startswith("POP3_CONFORM_")}
        self.cwd = os.getcwd()
        self._idle()

    def _idle(self):
        """Between cases: nothing to read, writes go nowhere, errors to the runner."""
        os.dup2(self.devnull, 0)
        os.dup2(self.devnull, 1)
        os.dup2(self.real_err, 2)

    def _open_streams(self):
        (ie, ir), (oe, orr), (ee, er) = self.streams
        sys.stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "rb", closefd=False)),
                                     encoding=ie, errors=ir)
        sys.stdout = io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, "wb", closefd=False)),
                                      encoding=oe, errors=orr)
        sys.stderr = io.TextIOWrapper(io.BufferedWriter(io.FileIO(2, "wb", closefd=False)),
                                      encoding=ee, errors=er, line_buffering=True)

    def _flush(self):
        for s in (sys.stdout, sys.stderr):
            try:
                s.flush()
            except Exception:
                pass

    def case(self, run_case, records):
        env = dict(self.environ)
        stdin = b""
        for name, data in records:
            if name == "env":
                k, _, v = data.decode("utf-8", "surrogateescape").partition("=")
                env[k] = v
            elif name == "stdin":
                stdin = data
        os.environ.clear()
        os.environ.update(env)
        with tempfile.TemporaryFile() as fin, tempfile.TemporaryFile() as fout, \
                tempfile.TemporaryFile() as ferr:
            fin.write(stdin)
            fin.flush()
            fin.seek(0)
            os.dup2(fin.fileno(), 0)
            os.dup2(fout.fileno(), 1)
            os.dup2(ferr.fileno(), 2)
            self._open_streams()
            status = 0
            try:
                run_case()
            except SystemExit as e:
                status = _exit_status(e.code)
            except BaseException:
                status = 1
                try:
                    traceback.print_exc()
                except Exception:
                    pass
            self._flush()
            sys.stdin, sys.stdout, sys.stderr = sys.__stdin__, sys.__stdout__, sys.__stderr__
            gc.collect()
            self._idle()
            try:
                os.chdir(self.cwd)
            except OSError:
                pass
            fout.seek(0)
            ferr.seek(0)
            reply = (_record("stdout", fout.read()) + _record("stderr", ferr.read())
                     + _record("exit", b"%d" % status) + _record("end", b""))
        self.write(reply)

    def write(self, reply):
        view = memoryview(reply)
        while view:
            view = view[os.write(self.frames_out, view):]

    def serve(self, run_case):
        while True:
            records = _read_frame(self.frames_in)
            if records is None:
                return
            self.case(run_case, records)


def serve(run_case):
    """Run run_case() for one case, or for every request when started persistent."""
    if os.environ.get(MODE_VAR) != "persistent":
        run_case()
        return
    try:
        _Server().serve(run_case)
    except (ValueError, OSError) as e:
        sys.__stderr__.write("persistent.py: %s\n" % e)
        sys.__stderr__.flush()
        sys.exit(2)
