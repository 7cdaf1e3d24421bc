#!/usr/bin/env python3
"""mailbox.py - the awkward mailbox every probed server is filled with, in the store each
server reads: a Maildir, an mbox, or an LMTP delivery.

The messages are the ones that find the edges of RFC 1939 section 3 (byte-stuffing of a
line that starts with ".", a body line that is a lone "."), section 11 (a size that counts
each line end as two octets: a message without a final line end, lines of 998 octets and
more) and RFC 5322 section 2.1.1 (the 998-octet line limit), plus octets above 127 in the
headers (RFC 6532 territory, which a POP3 server must pass through untouched) and an
empty message (zero octets, where a server must still send the terminator).

  mailbox.py maildir DIR [--crlf] [--owner UID:GID]   one file per message in DIR/new
  mailbox.py mbox FILE [--owner UID:GID]              an mbox (From_ lines, >From quoting)
  mailbox.py lmtp SOCKET_OR_HOST:PORT RCPT            deliver each message over LMTP
  mailbox.py list                                     print each message's name and size

Line ends in a Maildir are LF by default (what delivery agents write on Unix; the server
must send CRLF); --crlf stores CRLF as-is. An mbox cannot hold a message without a final
line end nor an empty one distinctly (the format ends each message with a blank line), and
LMTP (RFC 2033, like SMTP) ends every message with a line end: what each store did to the
messages is printed on standard error, so a finding can be told from the store's doing.
"""

import os
import socket
import sys
import time

LONG_998 = b"x" * 998
LONG_1500 = b"y" * 1500

# (name, message with LF line ends). Order matters: message numbers follow it.
MESSAGES = [
    ("plain", b"From: alice@example.org\nTo: tester@example.org\nSubject: plain\n"
              b"Message-ID: <plain@pop3kit.test>\n\none\ntwo\nthree\nfour\nfive\n"),
    ("dots", b"From: bob@example.org\nSubject: dots\nMessage-ID: <dots@pop3kit.test>\n\n"
             b".hidden\n..two dots\n.\nafter a lone dot\n.\n"),
    ("no-final-newline", b"From: carol@example.org\nSubject: no final newline\n"
                         b"Message-ID: <nofinal@pop3kit.test>\n\nfirst line\n"
                         b"the last line has no line end"),
    ("long-lines", b"From: dave@example.org\nSubject: long lines\n"
                   b"Message-ID: <long@pop3kit.test>\n\n" + LONG_998 + b"\n" + LONG_1500 +
                   b"\n." + LONG_998 + b"\nend\n"),
    ("8bit-headers", "From: Jürgen Größe <juergen@example.org>\nSubject: Grüße, ça va?\n"
                     "Message-ID: <8bit@pop3kit.test>\n".encode("utf-8") +
                     b"X-Latin1: caf\xe9\nContent-Type: text/plain; charset=utf-8\n\n" +
                     "Ärger über Öl.\n".encode("utf-8")),
    ("empty", b""),
    ("last", b"From: erin@example.org\nSubject: last\nMessage-ID: <last@pop3kit.test>\n\n"
             b"the last message\n"),
]


def crlf(data):
    return data.replace(b"\n", b"\r\n")


def lines_of(data):
    """The lines of a message without their ends; a last line without one counts."""
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return lines


def parse_owner(args):
    if "--owner" in args:
        uid, gid = args[args.index("--owner") + 1].split(":")
        return int(uid), int(gid)
    return None


def chown(path, owner):
    if owner is not None:
        os.chown(path, owner[0], owner[1])


def write_maildir(top, args):
    owner = parse_owner(args)
    use_crlf = "--crlf" in args
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(top, sub), exist_ok=True)
        chown(os.path.join(top, sub), owner)
    chown(top, owner)
    base = int(time.time())
    for n, (name, data) in enumerate(MESSAGES, 1):
        body = crlf(data) if use_crlf else data
        # Time-ordered unique names so the server numbers the messages in this order.
        fname = "%d.M%dP%d.pop3kit-%s" % (base + n, n, os.getpid(), name)
        tmp = os.path.join(top, "tmp", fname)
        with open(tmp, "wb") as f:
            f.write(body)
        os.chmod(tmp, 0o600)
        chown(tmp, owner)
        os.utime(tmp, (base + n, base + n))
        os.rename(tmp, os.path.join(top, "new", fname))
    print("mailbox.py: the no-final-newline and empty messages are stored as they are",
          file=sys.stderr)


def write_mbox(path, args):
    owner = parse_owner(args)
    out = bytearray()
    for name, data in MESSAGES:
        out += b"From pop3kit@example.org Sat Jan  3 01:05:34 2026\n"
        for line in lines_of(data):
            # mboxrd: a line matching ">*From " gets one more ">".
            if line.lstrip(b">").startswith(b"From "):
                line = b">" + line
            out += line + b"\n"
        out += b"\n"  # the blank line that ends every mbox message
    with open(path, "wb") as f:
        f.write(out)
    os.chmod(path, 0o600)
    chown(path, owner)
    print("mailbox.py: mbox: the no-final-newline message ends with a line end there, "
          "and the empty message is empty only if the server drops the separating line",
          file=sys.stderr)


def lmtp_line(f):
    line = f.readline()
    if not line:
        raise RuntimeError("LMTP server closed the connection")
    return line.decode("latin-1").rstrip("\r\n")


def lmtp_reply(f):
    lines = []
    while True:
        line = lmtp_line(f)
        lines.append(line)
        if len(line) < 4 or line[3] != "-":
            return int(line[:3]), lines


def deliver_lmtp(where, rcpt):
    if "/" in where:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(where)
    else:
        host, port = where.rsplit(":", 1)
        s = socket.create_connection((host, int(port)), timeout=10)
    s.settimeout(10)
    f = s.makefile("rb")

    def cmd(text, want):
        s.sendall(text.encode() + b"\r\n")
        code, lines = lmtp_reply(f)
        if code // 100 != want:
            raise RuntimeError("LMTP %s: %s" % (text, " / ".join(lines)))

    code, lines = lmtp_reply(f)
    if code != 220:
        raise RuntimeError("LMTP greeting: " + " / ".join(lines))
    cmd("LHLO pop3kit.test", 2)
    failed = 0
    for name, data in MESSAGES:
        cmd("MAIL FROM:<pop3kit@example.org>", 2)
        cmd("RCPT TO:<%s>" % rcpt, 2)
        cmd("DATA", 3)
        wire = bytearray()
        for line in lines_of(data):
            wire += (b"." + line if line.startswith(b".") else line) + b"\r\n"
        s.sendall(bytes(wire) + b".\r\n")
        code, lines = lmtp_reply(f)
        if code // 100 != 2:
            failed += 1
            print("mailbox.py: LMTP refused %s: %s" % (name, " / ".join(lines)),
                  file=sys.stderr)
            cmd("RSET", 2)
    cmd("QUIT", 2)
    s.close()
    print("mailbox.py: LMTP: the no-final-newline message gained a line end on the way",
          file=sys.stderr)
    return failed


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    what = argv[1]
    if what == "list":
        for n, (name, data) in enumerate(MESSAGES, 1):
            print("%d %s %d octets with CRLF" % (n, name, len(crlf(data))))
        return 0
    if what == "maildir" and len(argv) >= 3:
        write_maildir(argv[2], argv[3:])
        return 0
    if what == "mbox" and len(argv) >= 3:
        write_mbox(argv[2], argv[3:])
        return 0
    if what == "lmtp" and len(argv) == 4:
        return 1 if deliver_lmtp(argv[2], argv[3]) else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
