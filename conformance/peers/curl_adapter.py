#!/usr/bin/env python3
# pop3-conform-adapter: persistent
"""curl_adapter.py - curl's POP3 client (libcurl) under pop3-conform's adapter contract.

The curl command is a front end of libcurl: every POP3 option it has (-X, -l, -I,
--login-options, --sasl-ir, --sasl-authzid, --oauth2-bearer, --ssl-reqd) is one libcurl
option. This adapter drives libcurl itself (curl_lib.py), with one easy handle per
session, so that one session runs as many commands as the case has: libcurl keeps the
connection between the transfers of a handle.

What libcurl does, and so what a case must look like to be expressible:

    connect [tls]; welcome*; [capa]; [stls; capa]; [login | auth MECH | apop | user; pass];
    commands...; [quit]; state, response and the reporting operations anywhere after
    the connect

- The first transfer connects and runs the AUTHORIZATION state (RFC 1939 section 4): the
  greeting, CAPA (RFC 2449 section 5: curl always sends it, so a case that does not ask
  for one must let it come, an "!optional" CAPA), STLS and CAPA again when TLS is required
  (RFC 2595 section 4, CURLOPT_USE_SSL), then the login curl picks or is told
  (CURLOPT_LOGIN_OPTIONS "AUTH=MECH" for RFC 5034 SASL, "AUTH=+APOP"; with no option
  it prefers SASL, then APOP, then USER/PASS, and cannot be told to use USER/PASS).
- Each command is one transfer (RFC 1939 sections 5 and 7): the message number is the
  URL's path (RETR n; LIST n with CURLOPT_DIRLISTONLY), any other command is
  CURLOPT_CUSTOMREQUEST (read as multi-line unless CURLOPT_NOBODY says it is not).
- QUIT (RFC 1939 section 6) is sent by libcurl when it closes the connection: after the
  last transfer (CURLOPT_FORBID_REUSE on it), or after a transfer that failed. A session
  with no command is run with CURLOPT_CONNECT_ONLY, which stops after the login; libcurl
  then sends nothing more on its own, and the adapter sends QUIT itself through libcurl's
  connection (curl_easy_send), the only step of a session that is not libcurl's. A
  session in clear with nothing before that QUIT is n/a: only the adapter would show.
- After a failed transfer libcurl closes the connection (an allowed choice). A case
  that goes on in that session is n/a when curl's results matched the case's statuses
  up to there, and its later operations fail ("err closed") when they did not, so a
  failure of curl is never turned into an n/a. A connection that fails (a greeting that
  is no +OK, a certificate curl must refuse) is answered whatever the case's shape.

Results are read from what libcurl hands the program: the return code of each transfer,
its body, and its debug callback (the wire: commands sent, status and CAPA lines
received). "state" is connected when libcurl holds a connection that curl's own liveness
test (nothing readable) would reuse.

Environment and input as for every adapter (conformance/README.md). The per-case work is
run_case(), which reads the input and prints (case_output() is the same as a function of
the input lines and the environment); persistent.serve() calls it once per case. Beside
this file: curl_lib.py binds libcurl, curl_plan.py lays a session out in libcurl's order, curl_reply.py makes results
of what libcurl reported, curl_case.py reads the case file.
"""
import os
import select
import sys
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import curl_case  # noqa: E402
import curl_lib  # noqa: E402
from curl_plan import (COMMANDS, REPORTING, NotExpressible,  # noqa: E402
                       split_sessions)
from curl_reply import (FATAL, capa_lines, err_code, err_server,  # noqa: E402
                        exchanges, status_of, values)
from poplib_adapter import text, words  # noqa: E402  (shared text form)

REPORT_NA = "n/a curl: libcurl does not report"


def url_id(arg):
    """A message number as the URL's path: libcurl sends the decoded path as the
    command's argument."""
    return urllib.parse.quote(arg.encode("utf-8", "surrogateescape"), safe="")


# -- running -------------------------------------------------------------------
class Runner:
    """Runs a case's sessions and collects one result block per operation."""

    def __init__(self, lib, env, options, case):
        self.lib, self.case = lib, case
        self.results = []
        self.expected = curl_case.expected_statuses(case)
        self.timeout = float(env.get("POP3_CONFORM_TIMEOUT", "5"))
        self.cafile = env.get("POP3_CONFORM_CAFILE")
        self.host = self.url_host = env["POP3_CONFORM_HOST"]
        self.port = env["POP3_CONFORM_PORT"]
        self.require_tls = self.insecure = False
        self.sasl_ir = True
        self.resolve = []
        for o in options:
            key, _, value = o.partition("=")
            if key == "require-tls":
                self.require_tls = True
            elif key == "ca" and value == "other":
                self.cafile = env.get("POP3_CONFORM_OTHER_CAFILE")
            elif key == "insecure":
                self.insecure = True
            elif key == "server-name":
                self.url_host = value
                self.resolve = ["%s:%s:%s" % (value, self.port, self.host)]
            elif key == "no-sasl-ir":
                self.sasl_ir = False
            elif key == "timeout":
                self.timeout = int(value) / 1000.0
            elif key == "apop":
                pass  # curl uses APOP on its own whenever the greeting allows it
            else:
                raise NotExpressible("libcurl has no counterpart of option %s" % o)

    # a connection curl closed cannot be followed; is that curl's choice or its failure?
    def followed_so_far(self):
        for got, want in zip(self.results, self.expected):
            if got and got[0].startswith("n/a"):
                continue
            if got and want and got[0].split()[0] != want.split("|")[0].split()[0]:
                return False
        return True

    def closed_block(self, op, why):
        if op[0] == "state":
            return ["ok", "connected no", "tls no", "auth no"]
        if op[0] in REPORTING:
            return ["%s %s" % (REPORT_NA, op[0])]
        if self.followed_so_far():
            raise NotExpressible("%s; %s cannot follow" % (why, op[0]))
        return ["err closed  # curl: %s" % why]

    def handle(self, s):
        """A fresh easy handle with the case's options and session S's login."""
        h = curl_lib.Session(self.lib)
        scheme = "pop3s" if s.tls else "pop3"
        h.base = "%s://%s:%s/" % (scheme, self.url_host, self.port)
        h.set("URL", h.base)
        h.set("CONNECTTIMEOUT_MS", int(self.timeout * 1000))
        h.set("TIMEOUT_MS", int((self.timeout * 3 + 2) * 1000))
        h.set("SERVER_RESPONSE_TIMEOUT", max(1, int(self.timeout + 0.999)))
        if self.cafile:
            h.set("CAINFO", self.cafile)
        if self.insecure:
            h.set("SSL_VERIFYPEER", 0)
            h.set("SSL_VERIFYHOST", 0)
        if self.resolve:
            h.set_list("RESOLVE", self.resolve)
        if self.require_tls or s.stls:
            h.set("USE_SSL", curl_lib.USESSL_ALL)
        h.set("SASL_IR", 1 if self.sasl_ir else 0)
        login = s.login[0] if s.login else None
        if login is None:
            return h
        if login[0] in ("login", "apop"):
            user, secret, extras = login[1], login[2], login[3:]
        elif login[0] == "sasl":  # EXTERNAL with an initial response: the authzid
            user, secret, extras = login[3], "", []
            h.set("LOGIN_OPTIONS", "AUTH=EXTERNAL")
            h.set("SASL_IR", 1)
        elif login[0] == "auth":
            user, secret, extras = login[2], login[3], login[4:]
            h.set("LOGIN_OPTIONS", "AUTH=%s" % login[1])
        else:
            user, extras = login[1], []
            p = s.login[1]
            secret = p[1] if len(p) == 2 else " ".join(p[1:])
        if login[0] == "apop":
            h.set("LOGIN_OPTIONS", "AUTH=+APOP")
        for extra in extras:
            if extra == "bearer":
                h.set("XOAUTH2_BEARER", secret)
                secret = ""
            elif extra.startswith("authzid="):
                h.set("SASL_AUTHZID", extra[8:])
        h.set("USERNAME", user)
        h.set("PASSWORD", secret)
        return h

    def run(self, sessions):
        """Run the case's sessions in order, one easy handle each."""
        for s in sessions:
            self.run_session(s)

    def run_session(self, s):
        """Plan S on a fresh handle: the connect phase runs with the first operation that
        needs the connection (a command is its transfer), then each operation in turn."""
        h = self.handle(s)
        # what the adapter knows of the connection: open (libcurl keeps it), closed (why
        # not, once libcurl closed it), TLS in use, logged in, opened with CONNECT_ONLY,
        # the case's quit already answered
        st = {"open": False, "closed": None, "tls": s.tls, "auth": False,
              "connect_only": False, "quit_reported": False}
        try:
            for k, op in enumerate(s.ops):
                if k in s.pre or k == 0:
                    if k == len(s.ops) - 1:
                        self.connect_phase(s, h, st, None)
                    continue
                if not st["open"] and st["closed"] is None:
                    self.connect_phase(s, h, st, op if op[0] in COMMANDS else None,
                                       last=self.quit_next(s.ops, k))
                    if op[0] in COMMANDS:
                        continue  # its result came with the connect phase
                self.results.append(self.operation(s, h, st, k, op))
        finally:
            h.cleanup()

    @staticmethod
    def quit_next(ops, k):
        """Is the case's next step after operation K its QUIT (only "response" and the
        reporting operations between)? Then the transfer for K is libcurl's last, and
        CURLOPT_FORBID_REUSE makes libcurl send QUIT as it ends."""
        for op in ops[k + 1:]:
            if op == ["quit"]:
                return True
            if op[0] not in REPORTING and op[0] != "response":
                return False
        return False

    def perform(self, h, st, op, last):
        """One transfer for command OP (None: connect only); its exchanges and code."""
        h.set("CONNECT_ONLY", 0 if op else 1)
        st["connect_only"] = op is None
        h.set("FORBID_REUSE", 1 if last and op else 0)
        h.set("CUSTOMREQUEST", None)
        h.set("DIRLISTONLY", 0)
        h.set("NOBODY", 0)
        path = ""
        if op:
            verb = op[0]
            if verb == "list":
                if len(op) == 2:
                    h.set("DIRLISTONLY", 1)
                    path = url_id(op[1])
            elif verb == "retr":
                path = url_id(op[1])
            elif verb == "top":
                h.set("CUSTOMREQUEST", "TOP %s" % " ".join(op[1:]))
            elif verb == "raw":
                h.set("CUSTOMREQUEST", " ".join(op[1:]))
                h.set("NOBODY", 1)
            elif verb == "raw-multi":
                h.set("CUSTOMREQUEST", " ".join(op[1:]))
            elif verb in ("uidl", "dele") and len(op) == 2:
                h.set("CUSTOMREQUEST", verb.upper())
                h.set("NOBODY", 1)
                path = url_id(op[1])
            elif verb in ("uidl", "capa"):
                h.set("CUSTOMREQUEST", verb.upper())
            else:  # stat, noop, rset, utf8, dele without number
                h.set("CUSTOMREQUEST", " ".join([verb.upper()] + op[1:]))
                h.set("NOBODY", 1)
        h.set("URL", h.base + path)
        start = len(h.wire)
        rc, msg = h.perform()
        self.body = bytes(h.body)
        sys.stderr.write("curl: %s: CURLcode %d: %s\n" % (" ".join(op) if op else "connect",
                                                           rc, msg))
        if rc or (last and op):
            st["open"] = False
            if st["closed"] is None:
                st["closed"] = "curl closed the connection after %s (CURLcode %d)" % (
                    " ".join(op) if op else "the login", rc) if rc else "after QUIT"
        else:
            st["open"] = True
        return exchanges(h.wire[start:]), rc

    def connect_phase(self, s, h, st, op, last=False):
        """The first transfer: the AUTHORIZATION state's operations, and OP's result."""
        ex, rc = self.perform(h, st, op, last)
        greeting = ex[0][1]
        pos = 1

        def take(prefix):
            nonlocal pos
            for k in range(pos, len(ex)):
                if ex[k][0] is not None and ex[k][0].upper().startswith(prefix):
                    pos = k + 1
                    return ex[k][1]
            return None

        def capa_result():
            rep = take("CAPA")
            if rep and rep[0].startswith(b"+OK"):
                return ["ok"] + ["cap " + text(l) for l in capa_lines(rep)]
            if rep and rep[0].startswith(b"-ERR"):
                return err_server(rep[0])
            return err_code(rc, "io")

        g = status_of(greeting)
        if g is None or not g.startswith(b"+OK"):
            self.results.append(err_server(g) if g and g.startswith(b"-ERR")
                                else err_code(rc, "io"))
            st["closed"] = "curl ends at a failed connection (CURLcode %d)" % rc
            st["open"] = False
            for k in sorted(s.pre):
                self.results.append(self.closed_block(s.ops[k], st["closed"]))
            if op is not None:
                self.results.append(self.closed_block(op, st["closed"]))
            return
        if s.soft_greeting:
            raise NotExpressible(s.soft_greeting)
        for k in range(1, len(ex)):
            if ex[k][0] is not None and ex[k][0].upper() == "STLS":
                # the handshake is done when curl sent anything after it
                st["tls"] = (status_of(ex[k][1]) or b"").startswith(b"+OK") and \
                    (rc == 0 or k + 1 < len(ex))
        if s.soft_tls and st["tls"]:
            raise NotExpressible(s.soft_tls)
        self.results.append(["ok"])
        login_done = False
        for k in sorted(s.pre):
            role = s.pre[k]
            if role == "report":
                self.results.append(["%s %s" % (REPORT_NA, s.ops[k][0])])
            elif role == "welcome":
                self.results.append(["ok", "welcome " + text(g)])
            elif role in ("capa", "capa2"):
                self.results.append(capa_result())
            elif role == "stls":
                rep = take("STLS")
                if rep and rep[0].startswith(b"+OK") and st["tls"]:
                    self.results.append(["ok"])
                elif rep and rep[0].startswith(b"-ERR"):
                    self.results.append(err_server(rep[0]))
                else:
                    self.results.append(err_code(rc, "tls"))
            elif not login_done:
                login_done = True
                self.results += self.login_results(s, ex, pos, rc, st)
                pos = st.pop("pos")
        if op is None:
            return
        if st["closed"] and not st["auth"] and s.login:
            self.results.append(self.closed_block(op, st["closed"]))
            return
        self.results.append(self.command_result(op, ex, pos, rc))

    def login_results(self, s, ex, pos, rc, st):
        """The login's operations: from the first AUTH, APOP or USER to the reply that
        ends it (a SASL exchange goes on while the server sends "+" challenges)."""
        steps = []  # (command, reply lines)
        k = pos
        while k < len(ex):
            cmd, rep = ex[k]
            challenged = steps and steps[-1][1] and status_of(steps[-1][1]) is not None and \
                status_of(steps[-1][1]).startswith(b"+") and \
                not status_of(steps[-1][1]).startswith(b"+OK")
            if cmd is not None and (cmd.split(" ")[0].upper() in ("AUTH", "APOP", "USER", "PASS")
                                    or challenged):
                steps.append((cmd, rep))
                k += 1
            elif steps or cmd is None:
                break
            else:
                k += 1  # a command before the login (curl's own CAPA after STLS)
        st["pos"] = k
        if not steps and s.login[0][0] in ("auth", "sasl") and rc == 67:
            mech = s.login[0][1].upper()
            listed = any(l.upper().startswith(b"SASL") and mech.encode() in l.upper().split()
                         for cmd, rep in ex if cmd == "CAPA" for l in capa_lines(rep))
            if not listed:
                raise NotExpressible("curl uses only a SASL mechanism a CAPA reply lists")
        final = status_of(steps[-1][1]) if steps else None
        st["auth"] = final is not None and final.startswith(b"+OK")
        out = []
        login = s.login
        if login[0][0] == "user":
            sent = [c.split(" ")[0].upper() for c, _ in steps]
            if "AUTH" in sent or "APOP" in sent:
                raise NotExpressible("curl prefers SASL or APOP when offered; USER/PASS "
                                     "cannot be chosen")
            user = status_of(steps[0][1]) if steps else None
            if user is not None and user.startswith(b"+OK"):
                out.append(["ok"])
            else:
                out.append(err_server(user) if user else err_code(rc, "io"))
                if not self.followed_so_far_with(out[-1]):
                    out.append(["err closed  # curl: no PASS after a failed USER"])
                    return out
                raise NotExpressible("libcurl does not send PASS after a failed USER")
            steps = steps[1:]
            final = status_of(steps[-1][1]) if steps else None
        if st["auth"]:
            out.append(["ok"])
        elif final is not None and final.startswith(b"-ERR"):
            out.append(err_server(final))
        elif not steps and rc == 67:
            out.append(["err state  # curl sent no login command: no method it knows "
                        "(CURLcode 67)"])
        else:
            out.append(err_code(rc, "proto"))
        return out

    def followed_so_far_with(self, block):
        self.results.append(block)
        ok = self.followed_so_far()
        self.results.pop()
        return ok

    def command_result(self, op, ex, pos, rc):
        verb = op[0]
        want = {"raw": None, "raw-multi": None}.get(verb, verb.upper())
        if want is None:
            want = op[1].upper()
        rep = None
        for k in range(pos, len(ex)):
            if ex[k][0] is not None and ex[k][0].upper().startswith(want):
                rep = ex[k][1]
                break
        if rep is None:
            return ["err %s  # curl did not send %s (CURLcode %d)" % (
                FATAL.get(rc, "state"), want, rc)]
        first = status_of(rep)
        if first is not None and first.startswith(b"-ERR"):
            return err_server(first)
        if rc:
            return err_code(rc)
        return values(op, first or b"", self.body)

    def operation(self, s, h, st, k, op):
        verb = op[0]
        if verb in REPORTING:
            return ["%s %s" % (REPORT_NA, verb)]
        if verb == "response":
            # the last status line before the QUIT that ends the session, when libcurl
            # sent it with the last transfer and the case asks for QUIT after this
            last = b""
            for kind, data in h.wire:
                if kind == curl_lib.HEADER_OUT and data.upper().startswith(b"QUIT") and \
                        not st["quit_reported"]:
                    break
                if kind == curl_lib.HEADER_IN and status_of([data]) is not None:
                    last = data.rstrip(b"\r\n")
            return ["ok", "response " + text(last)]
        if verb == "state":
            connected = st["open"] and self.alive(h, st)
            return ["ok", "connected " + ("yes" if connected else "no"),
                    "tls " + ("yes" if connected and st["tls"] else "no"),
                    "auth " + ("yes" if connected and st["auth"] else "no")]
        if verb == "quit":
            return self.quit(h, st)
        if not st["open"]:
            return self.closed_block(op, st["closed"] or "no connection")
        ex, rc = self.perform(h, st, op, self.quit_next(s.ops, k))
        return self.command_result(op, ex, 1, rc)

    def alive(self, h, st):
        """curl's test before it reuses a connection: open, nothing to read."""
        fd = h.socket() if st["connect_only"] else h.last_socket()
        if fd < 0:
            return False
        r, _, _ = select.select([fd], [], [], 0)
        return not r

    def quit(self, h, st):
        st["quit_reported"] = True
        if st["connect_only"] and st["open"]:
            st["open"] = False
            st["closed"] = "after QUIT"
            rc = h.send(b"QUIT\r\n")
            if rc:
                return err_code(rc, "io")
            rc, line = h.recv_line(self.timeout)
            if rc:
                return err_code(rc, "closed")
            line = line.rstrip(b"\r\n")
            return err_server(line) if line.startswith(b"-ERR") else ["ok"]
        if st["open"]:
            # cleaning the handle up closes the connection with libcurl's QUIT, but not
            # through the handle's debug callback: the mock checks that QUIT came, its
            # reply is not seen
            st["open"] = False
            st["closed"] = "after QUIT"
            h.cleanup()
            return ["ok"]
        # libcurl sent QUIT when it closed the connection: its reply is in the wire
        ex = exchanges(h.wire)
        for cmd, rep in reversed(ex):
            if cmd is not None and cmd.upper() == "QUIT":
                status = status_of(rep)
                if status is None:
                    return ["err closed  # no reply to curl's QUIT"]
                return err_server(status) if status.startswith(b"-ERR") else ["ok"]
        return self.closed_block(["quit"], st["closed"] or "no connection")


def pass_words(line):
    """An operation's words; PASS takes the rest of its line, spaces and all (RFC 1939
    section 7), unless it is quoted."""
    w = words(line)
    rest = line[4:].lstrip(" ")
    if w and w[0] == "pass" and len(w) > 2 and not rest.startswith('"'):
        return ["pass", rest]
    return w


def case_output(lines, env):
    """Run one case: LINES are the adapter's input (the "option NAME" lines, then one line
    per operation), ENV the runner's environment (POP3_CONFORM_HOST and the rest).
    Returns what the adapter prints: one result block per operation, up to the first
    "n/a" that makes the case n/a."""
    lines = [l.strip() for l in lines if l.strip()]
    options = [l[7:].strip() for l in lines if l.startswith("option ")]
    ops = [pass_words(l) for l in lines if not l.startswith("option ")]
    out = []
    for block in results(options, ops, env):
        out += block
        if block[0].startswith("n/a") and not block[0].startswith(REPORT_NA):
            break
    return "".join(l + "\n" for l in out)


def results(options, ops, env):
    """The result blocks (lists of lines) of a case's operations OPS (split into words)
    with client OPTIONS; a block "n/a ..." ends them."""
    case = env.get("POP3_CONFORM_CASE", "")
    lib, why = curl_lib.load()
    if lib is None:
        return [["err usage  # " + why]]
    runner = None
    try:
        runner = Runner(lib, env, options, case)
        sessions = split_sessions(ops, case)
        plan_error = None
        for s in sessions:
            try:
                s.plan()
            except NotExpressible as e:
                plan_error = plan_error or e
        if plan_error is not None and not sessions[0].tls:
            raise plan_error
        try:
            runner.run(sessions if plan_error is None else [sessions[0]])
        except NotExpressible:
            if plan_error is None:
                raise
        if plan_error is not None:
            # run only to see a TLS connection fail: a certificate curl must refuse
            if runner.results and runner.results[0][0] != "ok":
                out = runner.results[:1]
                for op in ops[1:]:
                    if op == ["state"]:
                        out.append(["ok", "connected no", "tls no", "auth no"])
                    else:
                        out.append(runner.closed_block(op, "curl ends at a failed "
                                                       "connection"))
                        break
                return out
            raise plan_error
        return runner.results
    except NotExpressible as e:
        done = runner.results if runner is not None else []
        return done[:len(ops) - 1] + [["n/a curl: %s" % e]]


def run_case():
    """One case the one-shot way: its input from standard input, the runner's variables
    from the environment, its results to standard output. Nothing outlives the case but
    the opened library (a wrapper may call this once per case)."""
    sys.stdout.write(case_output(sys.stdin.read().splitlines(), os.environ))
    sys.stdout.flush()


if __name__ == "__main__":
    # One process per worker serves every case (persistent.py): the interpreter and
    # libcurl are loaded once; with pop3-conform --one-shot, a process per case.
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import persistent  # noqa: E402

    persistent.serve(run_case)
