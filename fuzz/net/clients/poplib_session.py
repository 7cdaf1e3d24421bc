#!/usr/bin/env python3
"""poplib_session.py - one mail-reading session with CPython's poplib, for pop3-fuzz client.

Reads POP3_HOST, POP3_PORT, POP3_USER and POP3_PASSWORD as pop3-fuzz sets them, and opens
the session a mail reader opens (RFC 1939 sections 4 to 7, RFC 2449 CAPA): CAPA, USER and
PASS, STAT, LIST, UIDL, RETR and TOP of each listed message (at most 8), QUIT.

Exit status: 0 the session ran; 3 the server said -ERR or broke the protocol in a way
poplib reports (poplib.error_proto); 4 the connection failed or timed out (OSError,
EOFError). Anything else poplib raises (ValueError from a number it could not read, an
IndexError from a short line, ...) is a bug in how poplib reports a hostile server: its
traceback is printed and the status is 70, which is outside pop3-fuzz's --ok-exit 0-5.
"""
import os
import poplib
import sys
import traceback

MAX_MESSAGES = 8  # a hostile STAT may claim 2^64 messages; a reader fetches a few


def session():
    box = poplib.POP3(os.environ["POP3_HOST"], int(os.environ["POP3_PORT"]), timeout=5)
    try:
        box.capa()
    except poplib.error_proto:
        pass  # RFC 2449: a server without CAPA answers -ERR
    box.user(os.environ.get("POP3_USER", "user"))
    box.pass_(os.environ.get("POP3_PASSWORD", "secret"))
    count, _size = box.stat()
    box.list()
    box.uidl()
    for n in range(1, min(count, MAX_MESSAGES) + 1):
        box.retr(n)
        box.top(n, 0)
    box.quit()


def main():
    try:
        session()
    except poplib.error_proto as e:
        print("poplib.error_proto: %r" % (e,), file=sys.stderr)
        return 3
    except (OSError, EOFError) as e:
        print("connection: %r" % (e,), file=sys.stderr)
        return 4
    except Exception:  # noqa: BLE001 - the point is to see what poplib lets through
        traceback.print_exc()
        return 70
    return 0


if __name__ == "__main__":
    sys.exit(main())
