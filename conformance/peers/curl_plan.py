"""curl_plan.py - which of a case's sessions libcurl can follow, and in what order.

libcurl runs a POP3 session in one order: the AUTHORIZATION state first (RFC 1939 section
4: the greeting; CAPA, RFC 2449 section 5, which curl always sends; STLS and CAPA again,
RFC 2595 section 4, when TLS is required; one login, RFC 1939 section 7 or RFC 5034), then
one TRANSACTION command per transfer (RFC 1939 sections 5 and 7), then QUIT (section 6).
A Plan lays a session's operations out along that order, or says why it cannot
(NotExpressible, the adapter's "n/a"): a second login, a command before the login, USER
without PASS, operations libcurl has no counterpart of.
"""
import curl_case


class NotExpressible(Exception):
    """What libcurl cannot do; its text is the reason given with "n/a"."""


REPORTING = {"quirks", "anomalies", "capabilities", "pipelining"}
COMMANDS = {"stat", "list", "uidl", "retr", "top", "dele", "noop", "rset", "raw",
            "raw-multi", "utf8", "capa"}
LOGINS = {"login", "auth", "apop", "user"}


def is_login(op):
    """A login libcurl can do: login, auth, apop, user (with pass), and the scripted
    "sasl EXTERNAL ir AUTHZID" (RFC 4422 EXTERNAL with an initial response: libcurl's
    AUTH=EXTERNAL sends the user name as the authorization identity)."""
    if op[0] == "sasl":
        return len(op) == 4 and op[1].upper() == "EXTERNAL" and op[2] == "ir"
    return op[0] in LOGINS
NO_COUNTERPART = {
    "sasl": "libcurl has no scripted SASL mechanism (its own are PLAIN, LOGIN, CRAM-MD5, "
            "DIGEST-MD5, NTLM, GSSAPI, XOAUTH2, OAUTHBEARER, and EXTERNAL with an "
            "initial response)",
    "rpop": "libcurl has no RPOP",
    "retrieve": "libcurl has no pipelined retrieval",
    "retr-lines": "libcurl has no line-by-line result (poplib's shape)",
    "top-lines": "libcurl has no line-by-line result (poplib's shape)",
    "list-lines": "libcurl has no line-by-line result (poplib's shape)",
    "uidl-lines": "libcurl has no line-by-line result (poplib's shape)",
    "close": "libcurl has no way to drop a connection without QUIT",
}
class Plan:
    """One session of a case (from a connect to the next): its operations laid out in
    the order libcurl performs them."""

    def __init__(self, ops, index, case):
        """OPS: the session's operations (split into words), the first a connect; INDEX:
        which session of case CASE it is (its dialogue's INDEX-th "!session")."""
        self.ops, self.index, self.case = ops, index, case
        self.tls = "tls" in ops[0][1:]
        self.pre = {}      # op index -> role in the connect phase
        self.login = None  # the login operation(s)
        self.stls = False
        self.commands = 0
        # what makes the case n/a once the connection got that far: curl's CAPA after a
        # greeting (or after a TLS handshake) that the dialogue does not take; a case
        # whose greeting or handshake fails is still curl's to pass or fail
        self.soft_greeting = self.soft_tls = None

    def plan(self):
        ops, i, n = self.ops, 1, len(self.ops)
        if any(a.startswith("timeout=") for a in ops[0][1:]):
            raise NotExpressible("libcurl has no per-connection timeout argument")

        def skip_welcome(i):
            while i < n and ops[i] == ["welcome"]:
                self.pre[i] = "welcome"
                i += 1
            return i
        i = skip_welcome(i)
        capa = False
        if i < n and ops[i] == ["capa"]:
            self.pre[i], capa, i = "capa", True, i + 1
        i = skip_welcome(i)
        capa = capa or curl_case.allows_capa_first(self.case, self.index)
        if i < n and ops[i] == ["stls"]:
            if not capa:
                self.soft_greeting = "curl always sends CAPA before STLS"
            self.pre[i], self.stls, i = "stls", True, i + 1
            if i < n and ops[i] == ["capa"]:
                self.pre[i], i = "capa2", i + 1
            elif not curl_case.capa_after_stls(self.case, self.index):
                self.soft_tls = "curl always sends CAPA again after STLS"
        while i < n and ops[i][0] in REPORTING:
            self.pre[i], i = "report", i + 1
        if i < n and is_login(ops[i]):
            login = ops[i]
            if login[0] != "login" and not capa:
                self.soft_greeting = self.soft_greeting or \
                    "curl always sends CAPA before %s" % login[0].upper()
            self.pre[i], self.login, i = "login", [login], i + 1
            if login[0] == "user":
                if i >= n or ops[i][0] != "pass":
                    raise NotExpressible("libcurl sends USER only with PASS")
                if curl_case.offers_other_login(self.case, self.index):
                    raise NotExpressible("curl prefers SASL or APOP when offered; USER/PASS "
                                         "cannot be chosen")
                self.pre[i], i = "pass", i + 1
                self.login.append(ops[i - 1])
            for op in self.login:
                if any(c in " ".join(op[1:]) for c in "\r\n\0"):
                    raise NotExpressible("libcurl cannot send control characters in "
                                         "credentials")
        elif not capa:
            self.soft_greeting = "curl always sends CAPA first"
        quit = False
        while i < n:
            op = ops[i]
            if op[0] in REPORTING or op[0] in ("state", "response"):
                pass
            elif quit:
                raise NotExpressible("curl cannot run %s after QUIT" % op[0])
            elif op[0] in COMMANDS:
                if op[0] == "capa" and len(op) > 1:
                    raise NotExpressible("CAPA with arguments")
                if op[0] in ("raw", "raw-multi") and any(
                        c in " ".join(op[1:]) for c in "\r\n\0"):
                    raise NotExpressible("libcurl cannot send control characters in a "
                                         "command")
                self.commands += 1
            elif op[0] == "quit":
                quit = True
            elif is_login(op) or op[0] == "pass":
                raise NotExpressible("libcurl logs in once, before the first command")
            elif op[0] in NO_COUNTERPART:
                raise NotExpressible(NO_COUNTERPART[op[0]])
            else:
                raise NotExpressible("curl cannot run %s there" % op[0])
            if op[0] == "state" and not self.commands and i + 1 < n and \
                    any(o[0] in COMMANDS for o in ops[i + 1:]):
                raise NotExpressible("curl's connection cannot be looked at between the "
                                     "login and the first command")
            i += 1
        if quit and not self.commands and not self.tls and \
                set(self.pre.values()) <= {"report"}:
            # nothing but a connection in clear and QUIT: libcurl sends QUIT only for a
            # connection it ran a command on, and the adapter's own QUIT would be all
            # there is to see (over TLS there is curl's handshake and certificate check)
            self.soft_greeting = self.soft_greeting or \
                "libcurl sends no QUIT after connecting only"


def split_sessions(ops, case):
    """The Plans of case CASE's operations OPS, one per connect (not yet laid out)."""
    if not ops or ops[0][0] != "connect":
        raise NotExpressible("the case does not start with connect")
    starts = [k for k, op in enumerate(ops) if op[0] == "connect"] + [len(ops)]
    return [Plan(ops[a:b], n, case) for n, (a, b) in enumerate(zip(starts, starts[1:]))]
