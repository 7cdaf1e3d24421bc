"""delivery.py - the shared half of the adapters for mail delivery clients (mpop,
fetchmail, getmail6): RFC 1939 sessions a program runs on its own, start to end.

A delivery client is not driven one command at a time: it connects, logs in, runs its
own fixed sequence of commands (STAT, LIST, UIDL, RETR of every message, QUIT, in an
order of its own) and stores what it retrieved in a Maildir. A case is expressible when
its operations are exactly that sequence; anything else is "n/a" with the reason. One
other shape is expressible for every client: a connection that must fail (a certificate
the client must refuse, RFC 6125 / RFC 8314), "connect [tls]" followed only by "state",
"quit" or "close", when the case expects the connect to fail.

What a client reports comes from what it gives its user: its exit status, the messages
in the Maildir and, where it has one, its own protocol trace (mpop --debug, fetchmail
-v -v), read like curl's -v trace by the curl adapter. A Maildir stores line ends as LF;
a message is given back with CRLF line ends, as it travelled (RFC 5322 section 2.3), and
without the trace header a client adds (Received:).

An adapter describes its client with a Client subclass and calls main(Client()), which
serves one case, or every case of a persistent run (persistent.py): the Python
interpreter starts once per worker, the client program still runs once per case. An
adapter file carries the marker comment "pop3-conform-adapter: persistent" so that the
runner starts it that way; a Client keeps nothing from one case to the next.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import persistent  # noqa: E402
from poplib_adapter import body_line, code_of, text, words  # noqa: E402  (shared text form)

# The case files, for the expectation of a connect that must fail: beside this folder.
CASES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "cases")


class NA(Exception):
    pass


class Client:
    """One delivery client. Subclasses set name and override the methods below."""

    name = "client"
    trace = False  # whether trace() can read the client's protocol trace

    def sequence(self, n):
        """The operations (lists of words, arguments of user/pass left out) the client
        performs after logging in on a maildrop of n messages, quit included."""
        raise NotImplementedError

    def sends_capa(self):
        """Whether the session starts with CAPA."""
        return False

    def run(self, s, maildir, work):
        """Run the client for session s (a Session) into maildir; return (exit status,
        its output). work is a private folder for its configuration and state."""
        raise NotImplementedError

    def parse_trace(self, output):
        """The exchanges of the client's trace: [(command or None, [reply lines])]."""
        return []

    def strip_added(self, msg):
        """The message as the server sent it, without what the client added."""
        return msg


class Session:
    """What the case asks for: where, how, which account."""

    def __init__(self):
        self.host = os.environ.get("POP3_CONFORM_HOST", "127.0.0.1")
        self.port = os.environ.get("POP3_CONFORM_PORT", "110")
        self.cafile = os.environ.get("POP3_CONFORM_CAFILE", "")
        self.timeout = float(os.environ.get("POP3_CONFORM_TIMEOUT", "5"))
        self.server_name = None
        self.insecure = False
        self.tls = False
        self.user = self.password = ""
        self.bad_option = None

    def option(self, o):
        k, _, v = o.partition("=")
        if k == "timeout":
            self.timeout = int(v) / 1000.0
        elif k == "ca" and v == "other":
            self.cafile = os.environ.get("POP3_CONFORM_OTHER_CAFILE", "")
        elif k == "server-name":
            self.server_name = v
        elif k == "insecure":
            self.insecure = True
        elif k in ("apop", "any-plus", "status-case") or k.startswith("max-"):
            pass  # a tolerance or limit the client does not offer: it has its own
        else:
            self.bad_option = o


def expects_failed_connect(case):
    """Whether the case's first operation, a connect, must fail (its first result)."""
    try:
        with open(os.path.join(CASES, case + ".case"), encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        return False
    for i, line in enumerate(lines):
        if line.startswith("run: connect"):
            nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
            return nxt.startswith("err")
        if line.startswith("run:"):
            return False
    return False


def expected_count(case):
    """The message count the case's STAT must give, or None."""
    try:
        with open(os.path.join(CASES, case + ".case"), encoding="utf-8") as f:
            m = re.search(r"^\s+stat (\d+) ", f.read(), re.M)
    except OSError:
        return None
    return int(m.group(1)) if m else None


def shape(client, s, ops):
    """Check the operations against the client's session; return "session" or
    "connect-fails", or raise NA with the reason."""
    if not ops or ops[0][0] != "connect":
        raise NA("the case does not start with connect")
    s.tls = "tls" in ops[0][1:]
    if any(a.startswith("timeout=") for a in ops[0][1:]):
        raise NA("%s has one timeout for the whole run" % client.name)
    if s.bad_option:
        raise NA("%s has no option %s" % (client.name, s.bad_option))
    rest = ops[1:]
    if all(o[0] in ("state", "quit", "close") for o in rest):
        if expects_failed_connect(os.environ.get("POP3_CONFORM_CASE", "")):
            # an account all the same: clients read it before they connect
            s.user, s.password = "nobody", "unused"
            return "connect-fails"
        raise NA("%s always logs in and retrieves after connecting" % client.name)
    i = 0
    if client.sends_capa():
        if not rest or rest[0] != ["capa"]:
            raise NA("%s always sends CAPA first" % client.name)
        i = 1
    if len(rest) < i + 2:
        raise NA("%s always logs in" % client.name)
    if rest[i][0] != "user" or rest[i + 1][0] != "pass":
        raise NA("%s logs in here with USER and PASS only" % client.name)
    s.user = rest[i][1] if len(rest[i]) > 1 else ""
    s.password = rest[i + 1][1] if len(rest[i + 1]) > 1 else ""
    after = rest[i + 2:]
    n = sum(1 for o in after if o[0] == "retr")
    count = expected_count(os.environ.get("POP3_CONFORM_CASE", ""))
    if count is not None and count != n:
        raise NA("%s retrieves every message STAT counts (%d), the case %d" % (client.name, count, n))
    want = client.sequence(n)
    if after != want:
        raise NA("%s runs %s after the login, not %s" % (
            client.name, "; ".join(" ".join(o) for o in want) or "nothing",
            "; ".join(" ".join(o) for o in after) or "nothing"))
    return "session"


def crlf(msg):
    """LF line ends back to CRLF (a Maildir stores LF)."""
    return re.sub(rb"\r?\n", b"\r\n", msg)


def delivered(maildir):
    """The messages in the Maildir, in the order they were delivered."""
    found = []
    for sub in ("new", "cur"):
        d = os.path.join(maildir, sub)
        for name in os.listdir(d):
            p = os.path.join(d, name)
            found.append((os.stat(p).st_mtime_ns, name, p))
    out = []
    for _, _, p in sorted(found):
        with open(p, "rb") as f:
            out.append(f.read())
    return out


def failure_kind(output):
    """The error kind of a run that did not connect, from the client's messages."""
    # only the client's messages: not its settings ("tls = off") or its trace
    low = "\n".join(x for x in output.lower().splitlines()
                    if not re.match(r"\s*[a-z_ ]+ = |(-->|<--|fetchmail: pop3[<>])", x))
    if "timed out" in low or "timeout" in low:
        return "timeout"
    if re.search(r"certificate|tls|ssl|handshake|verif", low):
        return "tls"
    return "io"


# What a client without a trace says when the server closed on it: poplib's "-ERR EOF"
# (getmail6), a plain EOF or reset; not c-client's "connection broken" (PHP imap), which it
# also says when a read times out.
CLOSED_MESSAGE = re.compile(r"-ERR EOF|connection closed|"
                            r"closed by (the )?(remote|server|peer)|\beof\b|reset by peer", re.I)
# A server's -ERR that a client quotes in its message (not poplib's made-up "-ERR EOF").
QUOTED_ERR = re.compile(r"-ERR(?! EOF)[^\n'\")]*")
# A client message that says the run failed.
FAILED_MESSAGE = re.compile(r"error|fail|broken|refused|unable|cannot", re.I)


def no_trace_connect(rc, output):
    """(first result or None, connected) of a case whose connect must fail, for a client
    with no trace: connected when it ran clean (exit 0, no complaint), else the error its
    messages name: TLS, a timeout, the server's quoted -ERR (with its code), the server
    closing; a failure they do not name is n/a rather than a guess."""
    kind = failure_kind(output)
    if kind == "tls":
        return None, False
    if rc == 0 and not FAILED_MESSAGE.search(output):
        return None, True
    if kind == "timeout":
        return ["err timeout  # %s" % one_line(output)], False
    quoted = QUOTED_ERR.search(output)
    if quoted:
        return status(quoted.group(0).strip()), False
    if CLOSED_MESSAGE.search(output):
        return ["err closed  # %s" % one_line(output)], False
    raise NA("the client failed without a trace and its message does not say how: %s"
             % one_line(output))


def one_line(output):
    return " ".join(output.split())[-300:]


def status(reply):
    """Result lines of a reply line: ok, or err server with its code."""
    if reply.startswith("+OK"):
        return ["ok"]
    if reply.startswith("-ERR"):
        r = ["err server  # %s" % reply]
        c = code_of(reply.encode("utf-8", "surrogateescape"))
        return r + (["code %s" % c] if c else [])
    return ["err proto  # %s" % reply]


def answer(client, s, ops, kind, rc, output, messages):
    """The result blocks of the operations."""
    out = []
    if kind == "connect-fails" or (rc != 0 and not messages and not client.trace):
        # did the client get past the handshake: a greeting in its trace, else no
        # complaint about the certificate or TLS in its messages
        first = None
        if client.trace:
            ex = client.parse_trace(output)
            greeting = ex[0][1] if ex and ex[0][0] is None else []
            connected = bool(greeting)
            if greeting and not greeting[0].startswith("+OK"):
                first, connected = status(greeting[0]), False  # a greeting that is no +OK
        else:
            # no trace: the client's own messages say whether and how the session failed
            first, connected = no_trace_connect(rc, output)
        out.append(first or (["ok"] if connected else
                             ["err %s  # %s" % (failure_kind(output), one_line(output))]))
        for o in ops[1:]:
            if o[0] == "state":
                out.append(["ok", "connected no", "tls no", "auth no"])
            elif o[0] == "quit":
                out.append(["err state  # not connected"])
            else:
                out.append(["ok"])
        return out
    if not client.trace:
        # no trace: the exit status and the Maildir are all there is
        if rc != 0:
            raise NA("%s failed (%d) and has no trace to say where: %s" % (
                client.name, rc, one_line(output)))
        it = iter(messages)
        for o in ops:
            if o[0] == "retr":
                m = next(it, None)
                out.append(["ok", body_line("body", crlf(client.strip_added(m)))]
                           if m is not None else ["err server"])
            elif o[0] in ("stat", "list", "uidl", "capa"):
                raise NA("%s shows no %s result without a trace" % (client.name, o[0]))
            else:
                out.append(["ok"])
        return out
    exchanges = client.parse_trace(output)
    greeting = exchanges[0][1] if exchanges and exchanges[0][0] is None else []
    if not greeting or not greeting[0].startswith("+OK"):
        out.append(["err %s  # %s" % (failure_kind(output) if not greeting else "server",
                                      one_line(output))])
        return out
    out.append(["ok"])
    sent = [e for e in exchanges if e[0] is not None]
    it = iter(messages)
    for k, o in enumerate(ops[1:]):
        if k >= len(sent):
            break  # the client stopped there: the runner reports what did not come
        cmd, reply = sent[k]
        head = reply[0] if reply else ""
        r = status(head) if head else ["err closed"]
        if r[0] == "ok" and o[0] in ("capa", "list", "uidl") and len(o) == 1:
            lines = [x for x in reply[1:] if x != "."]
            if o[0] == "capa":
                r += ["cap %s" % text(x) for x in lines]
            elif o[0] == "list":
                r += ["msg %s" % " ".join(x.split()[:2]) for x in lines]
            else:
                r += ["uid %s %s" % (x.split(" ", 1)[0], text(x.split(" ", 1)[1]))
                      for x in lines if " " in x]
        elif r[0] == "ok" and o[0] == "list":
            r.append("msg %s" % " ".join(head.split()[1:3]))
        elif r[0] == "ok" and o[0] == "stat":
            r.append("stat %s" % " ".join(head.split()[1:3]))
        elif r[0] == "ok" and o[0] == "retr":
            m = next(it, None)
            r = (["ok", body_line("body", crlf(client.strip_added(m)))] if m is not None
                 else ["err io  # %s stored no message for RETR" % client.name])
        out.append(r)
    return out


def main(client):
    """Serve the case on standard input, or every case of a persistent run."""
    persistent.serve(lambda: run_case(client))


def run_case(client):
    s = Session()
    ops, raw = [], []
    for line in sys.stdin.buffer.read().decode("utf-8", "surrogateescape").splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("option "):
            s.option(line[7:].strip())
        else:
            raw.append(line)
            ops.append(words(line))
    try:
        kind = shape(client, s, ops)
        work = tempfile.mkdtemp(prefix="pop3-%s-" % client.name)
        try:
            maildir = os.path.join(work, "Maildir")
            for sub in ("new", "cur", "tmp"):
                os.makedirs(os.path.join(maildir, sub))
            rc, output = client.run(s, maildir, work)
            sys.stderr.write(output)
            results = answer(client, s, ops, kind, rc, output, delivered(maildir))
        finally:
            shutil.rmtree(work, ignore_errors=True)
    except NA as e:
        sys.stdout.write("n/a %s\n" % e)
        return
    for r in results:
        sys.stdout.write("\n".join(r) + "\n")


def trace_exchanges(output, pattern, sent):
    """The (command, reply lines) exchanges of a client's protocol trace: PATTERN matches a
    trace line with the direction as group 1 (equal to SENT for a command line) and the
    line as group 2. Reply lines before any command (the greeting) have command None."""
    ex = []
    for line in output.splitlines():
        m = re.match(pattern, line)
        if not m:
            continue
        if m.group(1) == sent:
            ex.append((m.group(2), []))
        elif ex:
            ex[-1][1].append(m.group(2))
        else:
            ex.append((None, [m.group(2)]))
    return ex


def run_program(argv, s, env=None, stdin=None):
    """Run a client with the case's timeout and some slack; (exit status, output)."""
    try:
        p = subprocess.run(argv, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=s.timeout * 4 + 10, env=env)
    except subprocess.TimeoutExpired as e:
        return 124, (e.output or b"").decode("utf-8", "replace") + "\n(timed out)\n"
    return p.returncode, p.stdout.decode("utf-8", "surrogateescape")
