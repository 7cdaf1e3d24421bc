#!/usr/bin/env python3
"""diff_client.py - a tiny POP3 client under pop3-conform's adapter contract, for the
tests of `pop3-fuzz diff`.

It reads the case's options and operations on standard input and prints one result block
per operation (conformance/README.md, "The adapter contract"). It knows connect, user,
pass, stat, list, uidl, retr, top, dele, rset, noop and quit; anything else (and any
client option) is answered n/a. Planted bugs: with --keep-dots a byte-stuffed body line
("..x", RFC 1939 section 3) is delivered as received, its first "." kept; with
--clear-credentials it accepts the option require-tls and ignores it: `login` sends USER
and PASS in clear, in one write, without STLS (what RFC 2595 section 9 and RFC 8314
section 5 forbid).
Standard library only.
"""
import hashlib
import os
import socket
import sys

BODY_SHOW_MAX = 2048
KEEP_DOTS = "--keep-dots" in sys.argv[1:]
CLEAR_CREDENTIALS = "--clear-credentials" in sys.argv[1:]


def text(b):
    plain = (len(b) > 0 and b[:1] != b" " and b[-1:] != b" " and b"  " not in b
             and all(0x20 <= c <= 0x7E for c in b) and b'"' not in b and b"\\" not in b)
    if plain:
        return b.decode("ascii")
    esc = {0x0D: "\\r", 0x0A: "\\n", 0x09: "\\t", 0x5C: "\\\\", 0x22: '\\"'}
    return '"' + "".join(esc.get(c) or (chr(c) if 0x20 <= c <= 0x7E else "\\x%02x" % c)
                         for c in b) + '"'


def body_line(b):
    if len(b) <= BODY_SHOW_MAX:
        return "body " + text(b)
    return "body-md5 %d %s" % (len(b), hashlib.md5(b).hexdigest())


class Failure(Exception):
    def __init__(self, kind):
        Exception.__init__(self, kind)
        self.kind = kind


class Client:
    def __init__(self):
        self.sock = None
        self.buf = b""

    def line(self):
        while b"\n" not in self.buf:
            try:
                got = self.sock.recv(4096)
            except socket.timeout:
                raise Failure("timeout")
            except OSError:
                raise Failure("io")
            if not got:
                raise Failure("closed")
            self.buf += got
            if len(self.buf) > 1 << 20:
                raise Failure("limit")
        l, _, self.buf = self.buf.partition(b"\n")
        return l[:-1] if l.endswith(b"\r") else l

    def status(self):
        l = self.line()
        if l.startswith(b"+OK"):
            return l
        if l.startswith(b"-ERR"):
            raise Failure("server")
        raise Failure("proto")

    def command(self, cmd):
        if self.sock is None:
            raise Failure("state")
        try:
            self.sock.sendall(cmd.encode("latin-1") + b"\r\n")
        except OSError:
            raise Failure("io")
        return self.status()

    def multi(self):
        lines = []
        while True:
            l = self.line()
            if l == b".":
                return lines
            if l.startswith(b".") and not KEEP_DOTS:
                l = l[1:]
            lines.append(l)

    def run(self, op, args):
        if op == "connect":
            try:
                self.sock = socket.create_connection(
                    (os.environ["POP3_CONFORM_HOST"], int(os.environ["POP3_CONFORM_PORT"])),
                    timeout=float(os.environ.get("POP3_CONFORM_TIMEOUT", "5")))
            except OSError:
                raise Failure("io")
            self.status()
            return ["ok"]
        if op == "login" and CLEAR_CREDENTIALS and len(args) == 2:
            # USER and PASS in one write (RFC 2449 pipelining), without STLS.
            try:
                self.sock.sendall(("USER %s\r\nPASS %s\r\n" % (args[0], args[1])).encode())
            except OSError:
                raise Failure("io")
            self.status()
            self.status()
            return ["ok"]
        if op in ("user", "pass", "dele", "rset", "noop"):
            self.command(" ".join([op.upper()] + args))
            return ["ok"]
        if op == "quit":
            self.command("QUIT")
            self.sock.close()
            self.sock = None
            return ["ok"]
        if op == "stat":
            w = self.command("STAT").split()
            if len(w) < 3 or not w[1].isdigit() or not w[2].isdigit():
                raise Failure("proto")
            return ["ok", "stat %d %d" % (int(w[1]), int(w[2]))]
        if op in ("list", "uidl") and not args:
            self.command(op.upper())
            key = "msg" if op == "list" else "uid"
            return ["ok"] + ["%s %s" % (key, " ".join(x.decode("latin-1") for x in l.split(None, 1)))
                             for l in self.multi()]
        if op in ("retr", "top"):
            self.command(" ".join([op.upper()] + args))
            return ["ok", body_line(b"".join(l + b"\r\n" for l in self.multi()))]
        return None


def main():
    c = Client()
    na = None
    for raw in sys.stdin:
        line = raw.rstrip("\n")
        if line.startswith("option "):
            if not (CLEAR_CREDENTIALS and line[7:] == "require-tls"):
                na = na or "diff_client has no option " + line[7:]
            continue
        words = line.split()
        if not words:
            continue
        if na is not None:
            print("n/a " + na)
            continue
        try:
            out = c.run(words[0], words[1:])
            print("\n".join(out) if out is not None else "n/a diff_client: " + words[0])
        except Failure as e:
            print("err " + e.kind)
        sys.stdout.flush()


if __name__ == "__main__":
    main()
