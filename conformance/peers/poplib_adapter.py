#!/usr/bin/env python3
# pop3-conform-adapter: persistent
"""poplib_adapter.py - Python's poplib under pop3-conform's adapter contract.

The runner starts this program once per worker and hands it the cases one at a time
(persistent.py; with --one-shot, a process per case and delivery). Each case comes with
the mock's address in the environment (POP3_CONFORM_HOST, POP3_CONFORM_PORT,
POP3_CONFORM_CAFILE, POP3_CONFORM_OTHER_CAFILE, POP3_CONFORM_TIMEOUT) and the case's
client options ("option NAME") and operations (one per line) on standard input. For each operation this
prints one block of result lines (conformance/README.md): "ok" or "err KIND", then the
values, in the runner's text form; "n/a REASON" for what poplib cannot express (SASL,
pop3_login's method choice, pipelined retrieval, the strict and lenient tolerances).

Everything poplib returns is reported as poplib returns it: a LIST line "0 12" is
printed as message 0 of 12 octets, because that is what a poplib user gets.
"""
import hashlib
import os
import poplib
import re
import socket
import ssl
import sys

BODY_SHOW_MAX = 2048


def text(b):
    """The runner's text form of a value (escape.c): plain when it is visible ASCII
    with single inner spaces and no quote or backslash, else quoted with C escapes."""
    if isinstance(b, str):
        b = b.encode("utf-8", "surrogateescape")
    plain = (len(b) > 0 and b[:1] != b" " and b[-1:] != b" " and b"  " not in b
             and all(0x21 <= c <= 0x7E or c == 0x20 for c in b)
             and b'"' not in b and b"\\" not in b)
    if plain:
        return b.decode("ascii")
    out = ['"']
    for c in b:
        if c == 0x0D:
            out.append("\\r")
        elif c == 0x0A:
            out.append("\\n")
        elif c == 0x09:
            out.append("\\t")
        elif c == 0x5C:
            out.append("\\\\")
        elif c == 0x22:
            out.append('\\"')
        elif c < 0x20 or c > 0x7E:
            out.append("\\x%02x" % c)
        else:
            out.append(chr(c))
    out.append('"')
    return "".join(out)


def body_line(key, b):
    if len(b) <= BODY_SHOW_MAX:
        return "%s %s" % (key, text(b))
    return "%s-md5 %d %s" % (key, len(b), hashlib.md5(b).hexdigest())


def words(line):
    """Split an operation: spaces, or "quoted with escapes" (escape.c's words_split)."""
    out, i, n = [], 0, len(line)
    while True:
        while i < n and line[i] in " \t":
            i += 1
        if i >= n:
            return out
        if line[i] == '"':
            i += 1
            buf = bytearray()
            while i < n and line[i] != '"':
                c = line[i]
                if c == "\\" and i + 1 < n:
                    e = line[i + 1]
                    i += 2
                    if e == "x":
                        buf.append(int(line[i:i + 2], 16))
                        i += 2
                    else:
                        buf += {"r": b"\r", "n": b"\n", "t": b"\t", "0": b"\0",
                                "s": b" "}.get(e, e.encode())
                    continue
                buf += c.encode("utf-8")
                i += 1
            i += 1
            out.append(bytes(buf).decode("utf-8", "surrogateescape"))
        else:
            j = i
            while j < n and line[j] not in " \t":
                j += 1
            out.append(line[i:j])
            i = j


CODES = {"IN-USE", "LOGIN-DELAY", "AUTH", "UTF8", "SYS/TEMP", "SYS/PERM"}


def code_of(resp):
    """The RFC 2449 response code of a -ERR line, classified as the runner does."""
    m = re.match(rb"-ERR \[([^\]\s]+)\]", resp)
    if not m:
        return None
    raw = m.group(1).decode("ascii", "replace")
    levels = raw.upper().split("/")
    if levels[0] in ("IN-USE", "LOGIN-DELAY", "AUTH", "UTF8"):
        return levels[0]
    if levels[0] == "SYS":
        if len(levels) > 1 and "SYS/" + levels[1] in CODES:
            return "SYS/" + levels[1]
        return "SYS"
    return raw


class NotExpressible(Exception):
    pass


class Adapter:
    def __init__(self):
        self.host = os.environ["POP3_CONFORM_HOST"]
        self.port = int(os.environ["POP3_CONFORM_PORT"])
        self.cafile = os.environ.get("POP3_CONFORM_CAFILE")
        self.timeout = float(os.environ.get("POP3_CONFORM_TIMEOUT", "5"))
        self.pop = None
        self.last = b""
        self.auth = False
        self.na_option = None
        self.insecure = False

    def option(self, name):
        key, _, value = name.partition("=")
        if key == "timeout":
            self.timeout = int(value) / 1000.0
        elif key == "max-line":
            poplib._MAXLINE = int(value)
        elif key == "ca" and value == "other":
            self.cafile = os.environ.get("POP3_CONFORM_OTHER_CAFILE")
        elif key == "insecure":
            self.insecure = True
        elif key == "any-plus":
            pass  # poplib's own rule
        else:
            self.na_option = "poplib has no option %s" % name

    def context(self):
        if self.insecure:
            return ssl._create_unverified_context()
        return ssl.create_default_context(cafile=self.cafile)

    def err(self, e):
        """Map an exception to "err KIND" and its code line."""
        lines = []
        if isinstance(e, poplib.error_proto):
            msg = e.args[0] if e.args else b""
            if isinstance(msg, str):
                # poplib's own refusals, made before anything was sent
                if "line too long" in msg:
                    return ["err limit  # " + msg]
                if msg == "-ERR EOF":
                    return ["err closed  # " + msg]
                return ["err state  # " + msg]
            self.last = msg
            if msg == b"-ERR EOF":
                return ["err closed"]
            if msg.startswith(b"-ERR"):
                lines.append("err server  # " + msg.decode("latin-1"))
                code = code_of(msg)
                if code:
                    lines.append("code " + code)
                return lines
            return ["err proto  # " + msg.decode("latin-1")]
        if isinstance(e, (socket.timeout, TimeoutError)):
            return ["err timeout"]
        if isinstance(e, (ssl.SSLError, ssl.CertificateError)):
            return ["err tls  # %s" % e]
        if isinstance(e, (EOFError,)):
            return ["err closed"]
        if isinstance(e, ValueError):
            return ["err usage  # %s" % e]
        if isinstance(e, (ConnectionError, OSError)):
            if self.pop is not None and isinstance(e, (BrokenPipeError, ConnectionResetError)):
                return ["err io  # %s" % e]
            return ["err io  # %s" % e]
        if isinstance(e, (IndexError, UnicodeDecodeError)):
            return ["err proto  # %r" % e]
        return ["err proto  # %r" % e]

    def need(self):
        if self.pop is None or self.pop.sock is None:
            raise poplib.error_proto("not connected")

    def run(self, line):
        w = words(line)
        op, args = w[0], w[1:]
        if self.na_option and op == "connect":
            raise NotExpressible(self.na_option)
        method = getattr(self, "op_" + op.replace("-", "_"), None)
        if method is None:
            raise NotExpressible("poplib has no counterpart of %s" % op)
        return method(line, args)

    # -- operations ---------------------------------------------------------------
    def op_connect(self, line, args):
        tls = "tls" in args
        timeout = self.timeout
        for a in args:
            if a.startswith("timeout="):
                timeout = float(a[8:])
        if tls:
            self.pop = poplib.POP3_SSL(self.host, self.port, timeout=timeout,
                                       context=self.context())
        else:
            self.pop = poplib.POP3(self.host, self.port, timeout=timeout)
        self.last = self.pop.welcome
        self.auth = False
        return ["ok"]

    def op_welcome(self, line, args):
        return ["ok", "welcome " + text(self.pop.getwelcome() if self.pop else b"")]

    def op_response(self, line, args):
        return ["ok", "response " + text(self.last)]

    def op_capa(self, line, args):
        self.need()
        caps = self.pop.capa()
        return ["ok"] + ["cap " + text(" ".join([k] + v)) for k, v in caps.items()]

    def simple(self, fn, *a):
        self.need()
        self.last = fn(*a)
        return ["ok"]

    def op_user(self, line, args):
        return self.simple(self.pop.user, args[0]) if self.pop else self.notconn()

    def op_pass(self, line, args):
        rest = line[4:].lstrip(" ")
        pw = args[0] if rest.startswith('"') or len(args) == 1 else rest
        r = self.simple(self.pop.pass_, pw) if self.pop else self.notconn()
        self.auth = True
        return r

    def op_apop(self, line, args):
        r = self.simple(self.pop.apop, args[0], args[1]) if self.pop else self.notconn()
        self.auth = True
        return r

    def op_rpop(self, line, args):
        return self.simple(self.pop.rpop, args[0]) if self.pop else self.notconn()

    def notconn(self):
        raise poplib.error_proto("not connected")

    def op_stat(self, line, args):
        self.need()
        count, size = self.pop.stat()
        return ["ok", "stat %d %d" % (count, size)]

    def listing(self, kind, args):
        self.need()
        fn = self.pop.list if kind == "msg" else self.pop.uidl
        if args:
            resp = fn(args[0])
            self.last = resp
            parts = resp.split(None, 2)
            if kind == "msg":
                return ["ok", "msg %s %s" % (parts[1].decode(), parts[2].decode())]
            return ["ok", "uid %s %s" % (parts[1].decode(), text(parts[2]))]
        resp, lines, _ = fn()
        self.last = resp
        out = ["ok"]
        for l in lines:
            parts = l.split(None, 1)
            if kind == "msg":
                out.append("msg " + " ".join(p.decode("latin-1") for p in l.split()))
            else:
                out.append("uid %s %s" % (parts[0].decode("latin-1"),
                                          text(parts[1] if len(parts) > 1 else b"")))
        return out

    def op_list(self, line, args):
        return self.listing("msg", args)

    def op_uidl(self, line, args):
        return self.listing("uid", args)

    def body(self, lines):
        return b"".join(l + b"\r\n" for l in lines)

    def op_retr(self, line, args):
        self.need()
        resp, lines, _ = self.pop.retr(args[0])
        self.last = resp
        return ["ok", body_line("body", self.body(lines))]

    def op_top(self, line, args):
        self.need()
        resp, lines, _ = self.pop.top(args[0], args[1])
        self.last = resp
        return ["ok", body_line("body", self.body(lines))]

    def lines_result(self, resp, lines, octets):
        self.last = resp
        return (["ok", "response " + text(resp)] + ["line " + text(l) for l in lines]
                + ["octets %d" % octets])

    def op_retr_lines(self, line, args):
        self.need()
        return self.lines_result(*self.pop.retr(args[0]))

    def op_top_lines(self, line, args):
        self.need()
        return self.lines_result(*self.pop.top(args[0], args[1]))

    def op_list_lines(self, line, args):
        self.need()
        return self.lines_result(*self.pop.list())

    def op_uidl_lines(self, line, args):
        self.need()
        return self.lines_result(*self.pop.uidl())

    def op_dele(self, line, args):
        return self.simple(self.pop.dele, args[0]) if self.pop else self.notconn()

    def op_rset(self, line, args):
        return self.simple(self.pop.rset) if self.pop else self.notconn()

    def op_noop(self, line, args):
        return self.simple(self.pop.noop) if self.pop else self.notconn()

    def op_utf8(self, line, args):
        return self.simple(self.pop.utf8) if self.pop else self.notconn()

    def op_stls(self, line, args):
        return self.simple(self.pop.stls, self.context()) if self.pop else self.notconn()

    def op_quit(self, line, args):
        self.need()
        self.last = self.pop.quit()
        self.auth = False
        return ["ok"]

    def op_close(self, line, args):
        if self.pop is not None:
            self.pop.close()
        self.auth = False
        return ["ok"]

    def op_raw(self, line, args):
        self.need()
        self.last = self.pop._shortcmd(" ".join(args))
        return ["ok"]

    def op_raw_multi(self, line, args):
        self.need()
        resp, lines, _ = self.pop._longcmd(" ".join(args))
        self.last = resp
        return ["ok", body_line("body", self.body(lines))]

    def op_state(self, line, args):
        connected = self.pop is not None and self.pop.sock is not None
        tls = connected and isinstance(self.pop.sock, ssl.SSLSocket)
        return ["ok", "connected " + ("yes" if connected else "no"),
                "tls " + ("yes" if tls else "no"),
                "auth " + ("yes" if connected and self.auth else "no")]


def main():
    a = Adapter()
    for raw in sys.stdin.read().splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("option "):
            a.option(line[7:].strip())
            continue
        try:
            result = a.run(line)
        except NotExpressible as e:
            result = ["n/a %s" % e]
        except Exception as e:  # every failure is a result, never a crash
            result = a.err(e)
        sys.stdout.write("".join(l + "\n" for l in result))
        sys.stdout.flush()
    if a.pop is not None and a.pop.sock is not None:
        try:
            a.pop.close()
        except OSError:
            pass


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import persistent  # noqa: E402

    persistent.serve(main)
