"""curl_case.py - what the curl adapter reads from a case file besides its operations.

curl's POP3 client does things no operation asks for: it sends CAPA right after the
greeting (RFC 2449 section 5 leaves CAPA to the client), and it picks the login itself
(SASL of RFC 5034, else APOP of RFC 1939 section 7, else USER/PASS) with no way to ask for
USER/PASS. Whether a case's dialogue leaves room for that, and what status each operation
of the case expects (to tell curl's allowed choice of closing after a failed transfer from
a failure of curl), is read from the case file, which lies in cases/ beside peers/ in the
source tree and installed.
"""
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))


def _read(name):
    if not name or "/" in name:
        return ""
    try:
        with open(os.path.join(HERE, "..", "cases", name + ".case"), encoding="latin-1") as f:
            return f.read()
    except OSError:
        return ""


def dialogue(name):
    """The dialogue of case NAME ("" when the case cannot be read)."""
    return _read(name).partition("\ndialogue:\n")[2]


def sessions(name):
    """The dialogue's sessions: lists of stripped lines, split at each "!session"."""
    out = [[]]
    for line in dialogue(name).splitlines():
        line = line.strip()
        if line.startswith("!session"):
            out.append([])
        elif line:
            out[-1].append(line)
    return out


def _client_line(line):
    return line[:2] in ("C:", "C=", "C~") and not line[2:].strip().startswith("<")


def allows_capa_first(name, session=0):
    """Does session SESSION of case NAME let a client send CAPA as its first command (a
    first C: line CAPA, which "!optional" lets other clients leave out)?"""
    ss = sessions(name)
    if session >= len(ss):
        return False
    for line in ss[session]:
        if _client_line(line):
            return line[2:].strip().upper() == "CAPA"
    return False


def offers_other_login(name, session=0):
    """Does session SESSION of case NAME offer a login curl prefers to USER/PASS before
    the client's first USER/PASS/AUTH/APOP: an APOP timestamp in the greeting, or a SASL
    line in a CAPA reply? curl cannot be told to use USER/PASS then."""
    ss = sessions(name)
    if session >= len(ss):
        return False
    greeting, after_capa = True, False
    for line in ss[session]:
        if line[:2] in ("C:", "C=", "C~"):
            greeting = False
            cmd = line[2:].strip().upper()
            after_capa = cmd == "CAPA"
            if re.match(r"(USER|PASS|AUTH|APOP)\b", cmd):
                return False
        elif line.startswith("S:"):
            reply = line[2:].strip()
            if greeting and re.search(r"<[^<>@ ]+@[^<> ]+>", reply):
                return True
            if after_capa and re.match(r"SASL [A-Z0-9]", reply):
                return True
    return False


def expected_statuses(name):
    """The first result word the case expects of each operation, in order ("ok", "err"):
    the line under each "run:" line of the header."""
    out, want = [], False
    for line in _read(name).partition("\ndialogue:\n")[0].splitlines():
        if line.startswith("run:"):
            out.append(None)
            want = True
        elif want and line[:1] in (" ", "\t") and line.strip():
            out[-1] = line.split()[0]
            want = False
    return out


def capa_after_stls(name, session=0):
    """Does session SESSION of case NAME take a CAPA right after STLS succeeded (RFC 2595
    section 4: the client discards what it knew and should ask again; curl always does)?"""
    ss = sessions(name)
    if session >= len(ss):
        return False
    seen = False
    for line in ss[session]:
        if _client_line(line):
            cmd = line[2:].strip().upper()
            if seen:
                return cmd == "CAPA"
            seen = cmd == "STLS"
    return False
