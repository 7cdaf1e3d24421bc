#!/usr/bin/env python3
"""peer_curl_plan.py - the curl adapter's session plan (peers/curl_plan.py), table-driven.

The plan decides, before libcurl runs, which operations of a session libcurl performs in
its connect phase (RFC 1939 section 4: greeting, CAPA of RFC 2449 section 5, STLS of RFC
2595 section 4, one login) and which are transfers, and which sessions it cannot follow
(the adapter's "n/a"). Each row is a case's operations, the case file whose dialogue the
plan reads (for curl's unasked CAPA), and the roles, command count and n/a reason wanted.
No network, no libcurl: this checks the shape rules alone.

usage: peer_curl_plan.py PEERS_DIR
"""
import sys

sys.path.insert(0, sys.argv[1])
from curl_plan import NotExpressible, split_sessions  # noqa: E402
from poplib_adapter import words  # noqa: E402

# (case file, operations, roles by operation index or None, commands, n/a reason or
# None, the reason that waits for the greeting or None)
ROWS = [
    ("ex-rfc1939-5-stat", "connect;user mrose;pass secret;stat;quit",
     {1: "login", 2: "pass"}, 1, None, None),
    ("ex-rfc2449-5-capa", "connect;capa;quit", {1: "capa"}, 0, None, None),
    ("ex-rfc5034-6-plain-ir-after-stls",
     "connect;capa;stls;capabilities;auth PLAIN test test authzid=test;quit",
     {1: "capa", 2: "stls", 3: "report", 4: "login"}, 0, None, None),
    ("ex-rfc1939-7-user", "connect;user frated;user mrose;state;quit",
     None, 0, "libcurl sends USER only with PASS", None),
    ("rfc3206-4-sys-temp-perm", "connect;user mrose;pass secret;user mrose;pass secret;quit",
     None, 0, "libcurl logs in once, before the first command", None),
    ("rfc5034-4.1-external-ir", "connect;capa;sasl EXTERNAL ir mrose;quit",
     {1: "capa", 2: "login"}, 0, None, None),
    ("ex-rfc1734-2-kerberos", "connect;sasl FOOBAR;quit", None, 0,
     "libcurl has no scripted SASL mechanism (its own are PLAIN, LOGIN, CRAM-MD5, "
     "DIGEST-MD5, NTLM, GSSAPI, XOAUTH2, OAUTHBEARER, and EXTERNAL with an initial "
     "response)", None),
    ("poplib-test_retr", "connect;retr-lines 1;quit",
     None, 0, "libcurl has no line-by-line result (poplib's shape)", None),
    # no case file: nothing lets curl's CAPA come, which shows only after a greeting
    ("", "connect;user mrose;pass secret;stat;quit",
     {1: "login", 2: "pass"}, 1, None, "curl always sends CAPA before USER"),
    ("", "connect;quit", {}, 0, None, "curl always sends CAPA first"),
    # over TLS the handshake is curl's, so a bare connect and QUIT is its to pass
    ("rfc7817-3.5-wildcard-match", "connect tls;quit", {}, 0, None, None),
    ("ex-rfc1939-4-quit-authorization", "connect;quit;state", {}, 0, None,
     "libcurl sends no QUIT after connecting only"),
]

problems = []
for case, text, roles, commands, na, soft in ROWS:
    ops = [words(o) for o in text.split(";")]
    try:
        plan = split_sessions(ops, case)[0]
        plan.plan()
        got_na = None
    except NotExpressible as e:
        got_na = str(e)
    if got_na != na:
        problems.append("%s: %s: n/a %r, wanted %r" % (case, text, got_na, na))
        continue
    if na is not None:
        continue
    if roles is not None and plan.pre != roles:
        problems.append("%s: %s: roles %r, wanted %r" % (case, text, plan.pre, roles))
    if plan.commands != commands:
        problems.append("%s: %s: %d commands, wanted %d" % (case, text, plan.commands,
                                                            commands))
    if plan.soft_greeting != soft:
        problems.append("%s: %s: after the greeting %r, wanted %r" % (case, text,
                                                                     plan.soft_greeting, soft))

if problems:
    print("\n".join(problems))
    sys.exit(1)
print("ok: %d rows" % len(ROWS))
