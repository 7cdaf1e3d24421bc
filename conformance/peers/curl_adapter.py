#!/usr/bin/env python3
"""curl_adapter.py - the curl command under pop3-conform's adapter contract.

curl connects, sends CAPA, optionally STLS (--ssl-reqd, RFC 2595) and CAPA again, logs in
the way it is told or prefers (--login-options AUTH=MECH for SASL, AUTH=+APOP, else
USER/PASS), runs a command and, when the connection is not reused, sends QUIT. Several
transfers joined with --next reuse one connection, so one curl invocation runs a whole
session. A case is expressible for curl when its operations have that shape:

    connect [tls]; [welcome]; [capa]; [stls; capa]; [one login (login | auth MECH |
    apop | user + pass)]; commands (stat, list [n], uidl [n], retr n, top n k, dele n,
    noop, rset, raw CMD, raw-multi CMD)...; [quit]

without a capa when the login is "login" (pop3_login sends CAPA itself too), or when the
case's dialogue lets a CAPA come first (a first C: line CAPA, which "!optional" makes a
line other clients may leave out: RFC 2449 section 5 leaves CAPA to the client). A case
whose connection fails (a certificate curl must refuse) is answered for any shape: the
connect's error and "state" after it. Anything else (two logins, UTF8, a session
without CAPA, ...) is answered "n/a". The results are read from curl's exit status per
transfer (-w %{exitcode}), its output per transfer (the message, a listing) and its -v
trace ("> " lines sent, "< " lines received).

Environment and input as for every adapter (conformance/README.md).
"""
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile

BODY_SHOW_MAX = 2048
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from poplib_adapter import text, words, code_of  # noqa: E402  (shared text form)

HERE = os.path.dirname(os.path.abspath(__file__))
TRANSACTION = {"stat", "list", "uidl", "retr", "top", "dele", "noop", "rset", "raw"}
LOGINS = {"login", "auth", "apop", "user"}


def case_dialogue(name):
    """The dialogue of case NAME: the case file is beside the adapter (cases/ next to peers/,
    in the source tree and installed); a case that cannot be read has an empty one."""
    if not name or "/" in name:
        return ""
    try:
        with open(os.path.join(HERE, "..", "cases", name + ".case"), encoding="latin-1") as f:
            return f.read().partition("\ndialogue:\n")[2]
    except OSError:
        return ""


def dialogue_allows_capa(name):
    """Does the first session of case NAME let a client send CAPA as its first command?
    A case that cannot be read allows nothing."""
    dialogue = case_dialogue(name)
    for line in dialogue.splitlines():
        line = line.strip()
        if line.startswith("!session"):
            return False
        if line[:2] in ("C:", "C=", "C~") and not line[2:].strip().startswith("<"):
            return line[2:].strip().upper() == "CAPA"
    return False


def body_line(b):
    if len(b) <= BODY_SHOW_MAX:
        return "body " + text(b)
    return "body-md5 %d %s" % (len(b), hashlib.md5(b).hexdigest())


def na(ops, why):
    sys.stdout.write("n/a curl: %s\n" % why)
    sys.exit(0)


COMMANDS = {"stat", "list", "uidl", "retr", "top", "dele", "noop", "rset", "raw", "raw-multi"}
FATAL = {7: "io", 28: "timeout", 35: "tls", 60: "tls", 64: "tls", 56: "io", 55: "io",
         8: "proto", 3: "usage", 51: "tls", 58: "tls", 77: "tls", 83: "tls", 90: "tls",
         91: "tls", 52: "closed"}


class Shape:
    """The case's operations laid out in the order curl performs them."""

    def __init__(self, ops, capa_first=False):
        self.ops, self.why = ops, None
        self.capa_first = capa_first  # the dialogue takes the CAPA curl sends unasked
        self.tls = False
        self.welcome = self.capa = self.stls = self.capa2 = False
        self.login_ops, self.commands, self.quit = [], [], False
        self.parse()

    def fail(self, why):
        if self.why is None:
            self.why = why

    def parse(self):
        ops, i = self.ops, 1
        if not ops or ops[0][0] != "connect":
            return self.fail("the case does not start with connect")
        self.tls = "tls" in ops[0][1:]
        if any(a.startswith("timeout=") for a in ops[0][1:]):
            self.fail("no per-connection timeout argument")
        while i < len(ops) and ops[i] == ["welcome"]:
            self.welcome = True
            i += 1
        if i < len(ops) and ops[i] == ["capa"]:
            self.capa = True
            i += 1
        if i < len(ops) and ops[i] == ["stls"]:
            if not self.capa:
                return self.fail("curl always sends CAPA before STLS")
            self.stls = True
            i += 1
            if i < len(ops) and ops[i] == ["capa"]:
                self.capa2 = True
                i += 1
            else:
                return self.fail("curl always sends CAPA again after STLS")
        if i < len(ops) and ops[i][0] in ("login", "auth", "apop", "user"):
            login = ops[i]
            if login[0] != "login" and not self.capa and not self.capa_first:
                return self.fail("curl always sends CAPA before %s" % login[0].upper())
            self.login_ops.append(login)
            i += 1
            if login[0] == "user":
                if i >= len(ops) or ops[i][0] != "pass":
                    return self.fail("USER without PASS")
                self.login_ops.append(ops[i])
                i += 1
        elif not self.capa and not self.capa_first:
            return self.fail("curl always sends CAPA first")
        while i < len(ops) and ops[i][0] in COMMANDS:
            self.commands.append(ops[i])
            i += 1
        if i < len(ops) and ops[i] == ["quit"]:
            self.quit = True
            i += 1
        if not self.commands:
            return self.fail("curl's command line always runs a command after the login")
        if i != len(ops):
            self.fail("curl cannot run %s there" % " ".join(ops[i]))


def transfer_args(cmd):
    """The options and URL path of one command."""
    verb = cmd[0]
    if verb == "list":
        return (["-l"], cmd[1]) if len(cmd) == 2 else ([], "")
    if verb == "retr":
        return [], cmd[1]
    if verb == "uidl" and len(cmd) == 2:
        # "UIDL n" is a single-line reply (RFC 1939 section 7); curl takes a custom
        # command for multi-line unless told there is no body
        return ["-X", "UIDL", "-I"], cmd[1]
    if verb == "uidl":
        return ["-X", "UIDL"], ""
    if verb == "top":
        return ["-X", "TOP %s %s" % (cmd[1], cmd[2])], ""
    if verb == "dele":
        return ["-X", "DELE", "-I"], cmd[1]
    if verb in ("stat", "noop", "rset"):
        return ["-X", verb.upper(), "-I"], ""
    if verb == "raw":
        return ["-X", " ".join(cmd[1:]), "-I"], ""
    return ["-X", " ".join(cmd[1:])], ""  # raw-multi: curl reads until the dot


def err_server(line):
    r = ["err server  # " + line.decode("latin-1")]
    code = code_of(line)
    if code:
        r.append("code " + code)
    return r


def dialogue_offers_other_login(name):
    """Does the first session of case NAME offer curl a login it prefers to USER/PASS: an
    APOP timestamp in the greeting, or a SASL line in a CAPA reply? curl has no option that
    chooses USER/PASS then (its ;AUTH= picks APOP or a SASL mechanism only), so a case that
    logs in with USER/PASS cannot be followed; running it would only wait for a timeout."""
    dialogue = case_dialogue(name)
    greeting, after_capa = True, False
    for line in dialogue.splitlines():
        line = line.strip()
        if line.startswith("!session") and not greeting:
            return False
        if line[:2] in ("C:", "C=", "C~"):
            greeting = False
            after_capa = line[2:].strip().upper() == "CAPA"
            if re.match(r"(USER|PASS|AUTH|APOP)\b", line[2:].strip().upper()):
                return False
        elif line.startswith("S:"):
            reply = line[2:].strip()
            if greeting and re.search(r"<[^<>@ ]+@[^<> ]+>", reply):
                return True
            if after_capa and re.match(r"SASL [A-Z0-9]", reply):
                return True
    return False


def main():
    lines = [l.strip() for l in sys.stdin.read().splitlines() if l.strip()]
    options = [l[7:].strip() for l in lines if l.startswith("option ")]
    ops = [words(l) for l in lines if not l.startswith("option ")]
    host = os.environ["POP3_CONFORM_HOST"]
    port = os.environ["POP3_CONFORM_PORT"]
    cafile = os.environ.get("POP3_CONFORM_CAFILE")
    timeout = float(os.environ.get("POP3_CONFORM_TIMEOUT", "5"))
    shape = Shape(ops, dialogue_allows_capa(os.environ.get("POP3_CONFORM_CASE", "")))
    # A shape curl cannot follow is still run when the connection is to fail: a TLS
    # connection (implicit TLS) whose certificate curl must refuse.
    if shape.why and not (ops and ops[0][0] == "connect" and shape.tls):
        na(ops, shape.why)

    # -- the curl command line ------------------------------------------------------
    common = []
    url_host = host
    sasl_ir = True
    for o in options:
        key, _, value = o.partition("=")
        if key == "require-tls":
            common.append("--ssl-reqd")
        elif key == "ca" and value == "other":
            cafile = os.environ.get("POP3_CONFORM_OTHER_CAFILE")
        elif key == "insecure":
            common.append("-k")
        elif key == "server-name":
            url_host = value
            common += ["--resolve", "%s:%s:%s" % (value, port, host)]
        elif key == "no-sasl-ir":
            sasl_ir = False
        elif key == "timeout":
            timeout = int(value) / 1000.0
        elif key == "apop":
            pass  # curl uses APOP on its own whenever the greeting allows it
        else:
            na(ops, "no counterpart of option %s" % o)
    if shape.stls and "--ssl-reqd" not in common:
        common.append("--ssl-reqd")
    common += ["--connect-timeout", "%g" % timeout, "-m", "%g" % (timeout * 3 + 2)]
    if sasl_ir:
        common.append("--sasl-ir")
    if cafile:
        common += ["--cacert", cafile]
    login = shape.login_ops[0] if shape.login_ops else None
    if login is not None and login[0] == "user" and \
            dialogue_offers_other_login(os.environ.get("POP3_CONFORM_CASE", "")):
        na(ops, "curl prefers SASL or APOP when offered; USER/PASS cannot be chosen")
    user = secret = None
    if login is None:
        pass  # no credentials: curl goes from CAPA straight to the command
    elif login[0] == "login":
        user, secret = login[1], login[2]
        for extra in login[3:]:
            if extra == "bearer":
                common += ["--oauth2-bearer", secret]
                secret = ""
            elif extra.startswith("authzid="):
                common += ["--sasl-authzid", extra[8:]]
    elif login[0] == "auth":
        mech, user, secret = login[1], login[2], login[3]
        common += ["--login-options", "AUTH=%s" % mech]
        for extra in login[4:]:
            if extra.startswith("authzid="):
                common += ["--sasl-authzid", extra[8:]]
            elif extra == "bearer":
                common += ["--oauth2-bearer", secret]
                secret = ""
    elif login[0] == "apop":
        user, secret = login[1], login[2]
        common += ["--login-options", "AUTH=+APOP"]
    else:
        user = login[1]
        p = shape.login_ops[1]
        secret = p[1] if len(p) == 2 else " ".join(p[1:])
    if user is not None:
        if any(c in user + secret for c in "\r\n\0"):
            na(ops, "control characters in credentials cannot be passed to curl")
        if ":" in user:
            na(ops, "a colon in the user name cannot be passed to curl's -u")
        common += ["-u", "%s:%s" % (user, secret)]
    scheme = "pop3s" if shape.tls else "pop3"
    outdir = tempfile.mkdtemp(prefix="curl-adapter-")
    args = ["curl", "-v", "-s"]
    # curl's command line has no --connect-only (libcurl's CURLOPT_CONNECT_ONLY): a
    # session always ends with a command; a case without one is run only to see its
    # connection fail (NOOP stands in, never sent) and is n/a otherwise
    cmds = shape.commands or [["noop"]]
    for n, cmd in enumerate(cmds):
        extra, path = transfer_args(cmd)
        if n:
            args.append("--next")
        args += common + extra + ["-o", os.path.join(outdir, str(n)),
                                  "-w", "%{exitcode}\\n",
                                  "%s://%s:%s/%s" % (scheme, url_host, port, path)]
    try:
        p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        outs = []
        for n in range(len(cmds)):
            try:
                with open(os.path.join(outdir, str(n)), "rb") as f:
                    outs.append(f.read())
            except OSError:
                outs.append(b"")
    finally:
        shutil.rmtree(outdir, ignore_errors=True)
    err = p.stderr
    sys.stderr.buffer.write(err)
    codes = [int(c) for c in p.stdout.split() if c.isdigit()]
    codes += [p.returncode] * (len(cmds) - len(codes))

    # -- what happened, from the -v trace -------------------------------------------
    exchanges = []  # [command sent or None (greeting), [reply lines]]
    current = [None, []]
    connections = 0
    for raw in err.split(b"\n"):
        raw = raw.rstrip(b"\r")
        if raw.startswith(b"> "):
            exchanges.append(current)
            current = [raw[2:].decode("latin-1"), []]
        elif raw.startswith(b"< "):
            current[1].append(raw[2:])
        elif raw.startswith(b"* Connected to"):
            connections += 1
    exchanges.append(current)
    rc = codes[0]
    greeting = exchanges[0][1] if exchanges else []
    got_greeting = any(l.startswith(b"+OK") for l in greeting)
    results = []
    if not got_greeting and not any(cmd is not None for cmd, _ in exchanges):
        # the connection failed: the connect's error, then what is left known
        results.append(["err %s  # curl exit %d" % (FATAL.get(rc, "io"), rc)])
        for op in ops[1:]:
            if op == ["state"]:
                results.append(["ok", "connected no", "tls no", "auth no"])
            else:
                results.append(["n/a curl ends at a failed connection; %s cannot follow"
                                % op[0]])
                break
        sys.stdout.write("".join("".join(l + "\n" for l in r) for r in results))
        return
    if shape.why:
        na(ops, shape.why)
    if connections > 1:
        # curl did not reuse the connection: after a -ERR to a command (or a failed
        # transfer) it sends QUIT and the next transfer opens a connection of its own,
        # an allowed choice that the case's single session cannot follow
        na(ops, "curl ends the connection after a failed transfer and opens another for "
                "the next one")
    results.append(["ok"])
    for _ in range(ops[1:].count(["welcome"]) if shape.welcome else 0):
        results.append(["ok", "welcome " + text(greeting[0] if greeting else b"")])
    pos = 1  # the next exchange to look at

    def take(prefix):
        nonlocal pos
        for k in range(pos, len(exchanges)):
            cmd = exchanges[k][0]
            if cmd is not None and cmd.upper().startswith(prefix):
                pos = k + 1
                return exchanges[k][1]
        return None

    def capa_result():
        rep = take("CAPA")
        if rep and rep[0].startswith(b"+OK"):
            return ["ok"] + ["cap " + text(l) for l in rep[1:] if l != b"."]
        if rep and rep[0].startswith(b"-ERR"):
            return err_server(rep[0])
        return ["err %s  # curl exit %d" % (FATAL.get(rc, "io"), rc)]

    if shape.capa:
        results.append(capa_result())
    if shape.stls:
        rep = take("STLS")
        if rep and rep[0].startswith(b"+OK") and rc not in (35, 60, 51, 58, 77, 83, 90, 91):
            results.append(["ok"])
        elif rep and rep[0].startswith(b"-ERR"):
            results.append(err_server(rep[0]))
        else:
            results.append(["err %s  # curl exit %d" % (FATAL.get(rc, "tls"), rc)])
        results.append(capa_result())
    # the login: from the first AUTH/APOP/USER to the reply that ends it
    logged_in = login is None
    if login is not None:
        auth_rep = None
        for k in range(pos, len(exchanges)):
            cmd, rep = exchanges[k]
            if cmd is None:
                continue
            challenged = auth_rep is not None and auth_rep and \
                (auth_rep[-1] == b"+" or auth_rep[-1].startswith(b"+ "))
            if re.match(r"(AUTH|APOP|PASS|USER)\b", cmd.upper()) or challenged:
                auth_rep, pos = rep, k + 1
            elif auth_rep is not None:
                break
        logged_in = bool(auth_rep) and auth_rep[-1].startswith(b"+OK")
        sent = [c.split(" ")[0].upper() for c, _ in exchanges[1:] if c is not None]
        if login[0] == "user" and ("AUTH" in sent or "APOP" in sent):
            na(ops, "curl prefers SASL or APOP when offered; USER/PASS cannot be chosen")
        for _ in shape.login_ops:
            if logged_in:
                results.append(["ok"])
            elif auth_rep and auth_rep[-1].startswith(b"-ERR"):
                results.append(err_server(auth_rep[-1]))
            else:
                results.append(["err %s  # curl exit %d" % (FATAL.get(rc, "state"), rc)])
    # the commands, one transfer each
    names = {"stat": "STAT", "list": "LIST", "uidl": "UIDL", "retr": "RETR", "top": "TOP",
             "dele": "DELE", "noop": "NOOP", "rset": "RSET"}
    for n, command in enumerate(shape.commands):
        verb = command[0]
        rc = codes[n]
        out = outs[n]
        want = names.get(verb) or command[1].upper()
        rep = take(want) if logged_in else None
        if rep is None:
            results.append(["err state  # curl did not send %s (exit %d)" % (want, rc)])
            continue
        if rep and rep[0].startswith(b"-ERR"):
            results.append(err_server(rep[0]))
            continue
        if rc != 0:
            results.append(["err %s  # curl exit %d" % (FATAL.get(rc, "proto"), rc)])
            continue
        r = ["ok"]
        first = rep[0] if rep else b""
        if verb == "stat":
            m = re.match(rb"\+OK (\d+) (\d+)", first)
            r.append("stat %s %s" % (m.group(1).decode(), m.group(2).decode()) if m else "stat ?")
        elif verb == "list" and len(command) == 2:
            parts = first.split()
            r.append("msg %s" % " ".join(p.decode("latin-1") for p in parts[1:3]))
        elif verb == "list":
            for l in out.split(b"\r\n"):
                if l:
                    r.append("msg " + " ".join(p.decode("latin-1") for p in l.split()))
        elif verb == "uidl" and len(command) == 2:
            parts = first.split(None, 2)
            r.append("uid %s %s" % (parts[1].decode("latin-1"), text(parts[2])))
        elif verb == "uidl":
            for l in out.split(b"\r\n"):
                if l:
                    parts = l.split(None, 1)
                    r.append("uid %s %s" % (parts[0].decode("latin-1"),
                                            text(parts[1] if len(parts) > 1 else b"")))
        elif verb in ("retr", "top", "raw-multi"):
            r.append(body_line(out))
        results.append(r)
    if shape.quit:
        # curl sends QUIT when it tears the connection down, after its trace ends; the
        # mock's dialogue checks that it was sent, its reply is not in the trace.
        q = take("QUIT")
        ok = (q and q[0].startswith(b"+OK")) or (q is None and codes[-1] == 0)
        results.append(["ok"] if ok else ["err closed  # curl exit %d" % codes[-1]])
    sys.stdout.write("".join("".join(l + "\n" for l in r) for r in results))


if __name__ == "__main__":
    main()
