"""curl_reply.py - the curl adapter's results from what libcurl reported.

libcurl hands a program the return code of each transfer (a CURLcode), the body (a
message of RETR or TOP, RFC 1939 section 7; a listing of LIST or UIDL, section 5 and 7;
the lines of a multi-line custom command) and, through its debug callback, the wire: the
commands sent and the status lines received (RFC 1939 section 3; the CAPA list of RFC
2449 section 5; the "+" challenges of RFC 5034 section 4). These functions turn them into
the runner's result lines (conformance/README.md, "The operation language").
"""
import hashlib
import re

import curl_lib
from poplib_adapter import text, code_of  # the runner's text form, RFC 2449 codes

BODY_SHOW_MAX = 2048
# CURLcode -> error kind (curl.h)
FATAL = {3: "usage", 6: "io", 7: "io", 8: "proto", 28: "timeout", 35: "tls", 51: "tls",
         52: "closed", 53: "tls", 55: "io", 56: "io", 58: "tls", 60: "tls", 64: "tls",
         66: "tls", 67: "server", 77: "tls", 83: "tls", 90: "tls", 91: "tls"}


def body_line(b):
    if len(b) <= BODY_SHOW_MAX:
        return "body " + text(b)
    return "body-md5 %d %s" % (len(b), hashlib.md5(b).hexdigest())


def err_server(line):
    r = ["err server  # " + line.decode("latin-1")]
    code = code_of(line)
    if code:
        r.append("code " + code)
    return r


def err_code(rc, default="proto"):
    return ["err %s  # curl: CURLcode %d" % (FATAL.get(rc, default), rc)]


def exchanges(wire):
    """The wire as [command sent or None for the greeting, [lines received]]."""
    out = [[None, []]]
    for kind, data in wire:
        if kind == curl_lib.HEADER_OUT:
            out.append([data.rstrip(b"\r\n").decode("latin-1"), []])
        elif kind == curl_lib.HEADER_IN:
            out[-1][1].append(data.rstrip(b"\r\n"))
    return out


def status_of(lines):
    """The status line among the lines received for a command, by libcurl's rule
    (pop3_endofresp in lib/pop3.c): "-ERR", "+OK", or any other line starting with "+"
    (a SASL continuation to libcurl); it passes over every other line."""
    for l in lines:
        if l.startswith(b"+") or l.startswith(b"-ERR"):
            return l
    return None


def capa_lines(lines):
    """The capabilities libcurl read: the lines after +OK up to the first line that starts
    with "." (pop3_endofresp ends the CAPA reply there)."""
    out = []
    for l in lines[1:]:
        if l.startswith(b"."):
            break
        out.append(l)
    return out


def values(op, first, out):
    """The values of command OP's result: from its status line FIRST (STAT, LIST n,
    UIDL n) or its body OUT (listings, CAPA, messages), as libcurl handed them over."""
    verb, r = op[0], ["ok"]
    if verb == "stat":
        m = re.match(rb"\+OK (\d+) (\d+)", first)
        r.append("stat %s %s" % (m.group(1).decode(), m.group(2).decode()) if m
                 else "stat ?")
    elif verb == "list" and len(op) == 2:
        parts = first.split()
        r.append("msg %s" % " ".join(p.decode("latin-1") for p in parts[1:3]))
    elif verb == "list":
        for l in out.split(b"\r\n"):
            if l:
                r.append("msg " + " ".join(p.decode("latin-1") for p in l.split()))
    elif verb == "uidl" and len(op) == 2:
        parts = first.split(None, 2)
        r.append("uid %s %s" % (parts[1].decode("latin-1") if len(parts) > 1 else "",
                                text(parts[2] if len(parts) > 2 else b"")))
    elif verb == "uidl":
        for l in out.split(b"\r\n"):
            if l:
                parts = l.split(None, 1)
                r.append("uid %s %s" % (parts[0].decode("latin-1"),
                                        text(parts[1] if len(parts) > 1 else b"")))
    elif verb == "capa":
        r += ["cap " + text(l) for l in out.split(b"\r\n") if l]
    elif verb in ("retr", "top", "raw-multi"):
        r.append(body_line(out))
    return r
