#!/usr/bin/env python3
"""curl_adapter.py - the curl command under pop3-conform's adapter contract.

curl is a one-shot tool: one invocation connects, sends CAPA, logs in the way it
prefers (SASL, then APOP, then USER/PASS), runs one command and sends QUIT. So a case is
expressible for curl only when its operations have that shape:

    connect [tls]; [capa]; one login (login | auth MECH | apop | user + pass);
    one command (stat, list [n], uidl [n], retr n, top n k, dele n, noop, rset, raw CMD);
    [quit]

Anything else (two commands, STLS on request, UTF8, a session without CAPA...) is
answered "n/a". The results are read from curl's exit status, its output (the message, a
listing) and its -v trace ("> " lines sent, "< " lines received).

Environment and input as for every adapter (conformance/README.md).
"""
import hashlib
import os
import re
import subprocess
import sys

BODY_SHOW_MAX = 2048
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from poplib_adapter import text, words, code_of  # noqa: E402  (shared text form)

TRANSACTION = {"stat", "list", "uidl", "retr", "top", "dele", "noop", "rset", "raw"}
LOGINS = {"login", "auth", "apop", "user"}


def body_line(b):
    if len(b) <= BODY_SHOW_MAX:
        return "body " + text(b)
    return "body-md5 %d %s" % (len(b), hashlib.md5(b).hexdigest())


def na(ops, why):
    sys.stdout.write("n/a curl: %s\n" % why)
    sys.exit(0)


def main():
    lines = [l.strip() for l in sys.stdin.read().splitlines() if l.strip()]
    options = [l[7:].strip() for l in lines if l.startswith("option ")]
    ops = [words(l) for l in lines if not l.startswith("option ")]
    host = os.environ["POP3_CONFORM_HOST"]
    port = os.environ["POP3_CONFORM_PORT"]
    cafile = os.environ.get("POP3_CONFORM_CAFILE")
    timeout = float(os.environ.get("POP3_CONFORM_TIMEOUT", "5"))

    # -- the shape curl can run -----------------------------------------------------
    i = 0
    if not ops or ops[0][0] != "connect":
        na(ops, "the case does not start with connect")
    tls = "tls" in ops[0][1:]
    if any(a.startswith("timeout=") for a in ops[0][1:]):
        na(ops, "no per-connection timeout argument")
    i = 1
    want_capa = i < len(ops) and ops[i] == ["capa"]
    if want_capa:
        i += 1
    if i >= len(ops) or ops[i][0] not in LOGINS:
        na(ops, "curl always logs in after CAPA; the case does something else first")
    login = ops[i]
    if login[0] != "login" and not want_capa:
        # pop3_login asks CAPA itself; USER, APOP and AUTH in the case are sent as they
        # come, while curl always sends CAPA before any of them.
        na(ops, "curl always sends CAPA before %s" % login[0].upper())
    i += 1
    login_ops = [login]
    if login[0] == "user":
        if i >= len(ops) or ops[i][0] != "pass":
            na(ops, "USER without PASS")
        login_ops.append(ops[i])
        i += 1
    if i >= len(ops) or ops[i][0] not in TRANSACTION:
        na(ops, "no single command after the login")
    command = ops[i]
    i += 1
    want_quit = i < len(ops) and ops[i] == ["quit"]
    if want_quit:
        i += 1
    if i != len(ops):
        na(ops, "more than one command in a session (%s)" % " ".join(ops[i]))

    # -- the curl command line ------------------------------------------------------
    args = ["curl", "-v", "-s", "--connect-timeout", "%g" % timeout,
            "-m", "%g" % (timeout * 3 + 2)]
    url_host = host
    sasl_ir = True
    for o in options:
        key, _, value = o.partition("=")
        if key == "require-tls":
            args.append("--ssl-reqd")
        elif key == "ca" and value == "other":
            cafile = os.environ.get("POP3_CONFORM_OTHER_CAFILE")
        elif key == "insecure":
            args.append("-k")
        elif key == "server-name":
            url_host = value
            args += ["--resolve", "%s:%s:%s" % (value, port, host)]
        elif key == "no-sasl-ir":
            sasl_ir = False
        elif key == "timeout":
            t = int(value) / 1000.0
            args[4], args[6] = "%g" % t, "%g" % (t * 3 + 2)
        elif key == "apop":
            pass  # curl uses APOP on its own whenever the greeting allows it
        else:
            na(ops, "no counterpart of option %s" % o)
    if sasl_ir:
        args.append("--sasl-ir")
    if cafile:
        args += ["--cacert", cafile]
    if login[0] == "login":
        user, secret = login[1], login[2]
        if "bearer" in login[3:]:
            args += ["--oauth2-bearer", secret]
            secret = ""
    elif login[0] == "auth":
        mech, user, secret = login[1], login[2], login[3]
        args += ["--login-options", "AUTH=%s" % mech]
        for extra in login[4:]:
            if extra.startswith("authzid="):
                args += ["--sasl-authzid", extra[8:]]
            elif extra == "bearer":
                args += ["--oauth2-bearer", secret]
                secret = ""
    elif login[0] == "apop":
        user, secret = login[1], login[2]
        args += ["--login-options", "AUTH=+APOP"]
    else:
        user = login[1]
        secret = login_ops[1][1] if len(login_ops[1]) == 2 else " ".join(login_ops[1][1:])
    if any(c in user + secret for c in "\r\n\0"):
        na(ops, "control characters in credentials cannot be passed to curl")
    args += ["-u", "%s:%s" % (user, secret)]
    path = ""
    verb = command[0]
    if verb == "list":
        if len(command) == 2:
            args.append("-l")
            path = command[1]
    elif verb == "retr":
        path = command[1]
    elif verb == "uidl":
        args += ["-X", "UIDL"]
        if len(command) == 2:
            path = command[1]
    elif verb == "top":
        args += ["-X", "TOP %s %s" % (command[1], command[2])]
    elif verb in ("dele",):
        args += ["-X", "DELE", "-I"]
        path = command[1]
    elif verb in ("stat", "noop", "rset"):
        args += ["-X", verb.upper(), "-I"]
    elif verb == "raw":
        args += ["-X", " ".join(command[1:]), "-I"]
    scheme = "pop3s" if tls else "pop3"
    args.append("%s://%s:%s/%s" % (scheme, url_host, port, path))

    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.stdout, p.stderr
    sys.stderr.buffer.write(err)

    # -- what happened, from the -v trace -------------------------------------------
    exchanges = []  # [command sent or None (greeting), [reply lines]]
    current = [None, []]
    for raw in err.split(b"\n"):
        raw = raw.rstrip(b"\r")
        if raw.startswith(b"> "):
            exchanges.append(current)
            current = [raw[2:].decode("latin-1"), []]
        elif raw.startswith(b"< "):
            current[1].append(raw[2:])
    exchanges.append(current)

    def reply_to(prefix):
        for cmd, rep in exchanges:
            if cmd is not None and cmd.upper().startswith(prefix):
                return rep
        return None

    rc = p.returncode
    fatal = {7: "io", 28: "timeout", 35: "tls", 60: "tls", 64: "tls", 56: "io", 55: "io",
             8: "proto", 3: "usage"}
    greeting = exchanges[0][1] if exchanges else []
    got_greeting = any(l.startswith(b"+OK") for l in greeting)
    results = []
    # connect
    if got_greeting or any(cmd is not None for cmd, _ in exchanges):
        results.append(["ok"])
    else:
        results.append(["err %s  # curl exit %d" % (fatal.get(rc, "io"), rc)])
    # capa
    if want_capa:
        rep = reply_to("CAPA")
        if rep and rep[0].startswith(b"+OK"):
            results.append(["ok"] + ["cap " + text(l) for l in rep[1:] if l != b"."])
        elif rep and rep[0].startswith(b"-ERR"):
            results.append(["err server"])
        else:
            results.append(["err %s  # curl exit %d" % (fatal.get(rc, "io"), rc)])
    # login
    auth_rep = None
    for cmd, rep in exchanges:
        if cmd is not None and re.match(r"(AUTH|APOP|PASS|USER)\b", cmd.upper()):
            auth_rep = rep
        elif cmd is not None and rep and rep[-1].startswith((b"+OK", b"-ERR")) and \
                auth_rep is not None and not re.match(r"[A-Za-z0-9+/=*]*$", cmd):
            break
        elif cmd is not None and auth_rep is not None:
            auth_rep = rep  # a SASL response line and its reply
    logged_in = auth_rep is not None and auth_rep and auth_rep[-1].startswith(b"+OK")
    for lop in login_ops:
        if logged_in:
            results.append(["ok"])
        elif auth_rep and auth_rep[-1].startswith(b"-ERR"):
            r = ["err server"]
            code = code_of(auth_rep[-1])
            if code:
                r.append("code " + code)
            results.append(r)
        else:
            results.append(["err %s  # curl exit %d" % (fatal.get(rc, "state"), rc)])
    # the command
    names = {"stat": "STAT", "list": "LIST", "uidl": "UIDL", "retr": "RETR", "top": "TOP",
             "dele": "DELE", "noop": "NOOP", "rset": "RSET"}
    rep = reply_to(names.get(verb, command[1].upper() if verb == "raw" else verb.upper()))
    if not logged_in or rep is None:
        results.append(["err state  # curl did not get to %s (exit %d)" % (verb, rc)])
    elif rep and rep[0].startswith(b"-ERR"):
        r = ["err server"]
        code = code_of(rep[0])
        if code:
            r.append("code " + code)
        results.append(r)
    elif rc != 0:
        results.append(["err %s  # curl exit %d" % (fatal.get(rc, "proto"), rc)])
    else:
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
                    r.append("uid %s %s" % (parts[0].decode("latin-1"), text(parts[1])))
        elif verb in ("retr", "top"):
            r.append(body_line(out))
        results.append(r)
    if want_quit:
        # curl sends QUIT when it tears the connection down, after its trace ends; the
        # mock's dialogue checks that it was sent, its reply is not in the trace.
        q = reply_to("QUIT")
        ok = (q and q[0].startswith(b"+OK")) or (q is None and rc == 0)
        results.append(["ok"] if ok else ["err closed  # curl exit %d" % rc])
    sys.stdout.write("".join("".join(l + "\n" for l in r) for r in results))


if __name__ == "__main__":
    main()
