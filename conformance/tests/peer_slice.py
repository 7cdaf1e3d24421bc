#!/usr/bin/env python3
"""peer_slice.py - each real-client adapter of conformance/peers/ on a few cases.

The full peer table (conformance/README.md, "Peer clients") takes minutes per client;
this slice keeps the machinery honest in CI: for each adapter it runs a handful of cases
chosen so that each verdict kind shows up, and checks each case's verdict against the
one the table records. A case that passes proves the adapter drives its client and reads
its results; a case that fails is a recorded finding (conformance/findings/) that must
still show; a case that is n/a proves the adapter says so instead of guessing.

A client that is not installed fails the test with the command that installs it
(conformance/peers/install.sh), never a skip: CI installs them.

usage: peer_slice.py POP3_CONFORM CASES_DIR PEERS_DIR
"""
import os
import re
import shutil
import subprocess
import sys

conform, cases, peers = sys.argv[1:4]
py = sys.executable


def have_perl_modules():
    if not shutil.which("perl"):
        return "perl is not installed"
    p = subprocess.run(["perl", "-MNet::POP3", "-MIO::Socket::SSL", "-MAuthen::SASL", "-e1"],
                       stderr=subprocess.PIPE, text=True)
    return None if p.returncode == 0 else p.stderr.strip().splitlines()[0]


def have_program(name):
    return None if shutil.which(name) else "%s is not installed" % name


def have_libcurl():
    sys.path.insert(0, peers)
    import curl_lib
    return curl_lib.load()[1]


def have_node_pop3():
    if not shutil.which("node"):
        return "node is not installed"
    if not os.path.isfile(os.path.join(peers, "node_modules", "node-pop3", "package.json")):
        return "node-pop3 is not in %s/node_modules" % peers
    return None


def have_php_imap():
    if not shutil.which("php"):
        return "php is not installed"
    p = subprocess.run(["php", "-n", "-d", "extension=imap", "-r",
                        "exit(function_exists('imap_open') ? 0 : 1);"])
    return None if p.returncode == 0 else "PHP's imap extension (php-imap) is not installed"


# name, command, what must be there, {case: verdict} (replies written whole: --no-drip)
ADAPTERS = [
    ("curl", "%s %s" % (py, os.path.join(peers, "curl_adapter.py")),
     have_libcurl,
     {"curl-859-stat": "PASS",                 # one command after USER/PASS
      "ex-rfc1939-5-noop-rset": "PASS",        # four transfers on one connection
      "ex-rfc1939-7-top": "PASS",              # TOP as a custom command, a -ERR last
      "ex-rfc1939-7-apop": "PASS",             # AUTH=+APOP, connect only, then QUIT
      "curl-867-cram-md5": "PASS",             # AUTH=CRAM-MD5 after the CAPA asked for
      "ex-rfc5034-6-plain-ir-after-stls": "PASS",  # STLS, CAPA again, AUTH PLAIN with IR
      "rfc8314-5.2-untrusted-implicit": "PASS",  # a refused certificate, any shape
      "rfc1939-3.4-empty-body": "FAIL",        # findings/curl-empty-message-crlf.md
      "q01-dot-without-crlf": "FAIL",          # findings/curl-retr-no-terminator-success.md
      "q50-capa-dot-line": "FAIL",             # findings/curl-capa-stuffed-dot-line.md
      "rfc2449-5.5-lowercase-tags": "FAIL",    # findings/curl-capa-lowercase-tags.md
      "q04-unstuffed-dot-line": "FAIL",        # findings/curl-dot-unstuffing.md
      "rfc5034-4.1-external-ir": "PASS",       # AUTH=EXTERNAL with an initial response
      "ex-rfc1939-7-user": "n/a"}),            # USER without PASS
    ("netpop3", "perl %s" % os.path.join(peers, "netpop3_adapter.pl"),
     have_perl_modules,
     {"ex-rfc1939-5-stat": "PASS",
      "ex-rfc1939-7-uidl": "PASS",
      "ex-rfc2595-4-stls": "PASS",             # CAPA, STLS, handshake, CAPA
      "q04-unstuffed-dot-line": "FAIL",        # findings/netpop3-dot-unstuffing.md
      "ex-rfc5034-6-plain-no-ir": "n/a"}),     # Authen::SASL always sends one
    ("nodepop3", "node %s" % os.path.join(peers, "nodepop3_adapter.js"),
     have_node_pop3,
     {"ex-rfc1939-5-stat": "PASS",
      "ex-rfc1939-7-uidl": "PASS",
      "rfc1939-3.4-unstuff": "FAIL",           # findings/nodepop3-no-dot-unstuffing.md
      "ex-rfc2449-5-capa": "n/a"}),            # CAPA is not multi-line to node-pop3
    ("rubypop", "ruby %s" % os.path.join(peers, "rubypop_adapter.rb"),
     lambda: have_program("ruby"),
     {"ex-rfc1939-5-stat": "PASS",
      "q04-unstuffed-dot-line": "PASS",        # a reporting n/a (quirks) goes on
      "ex-rfc1939-7-uidl": "FAIL",             # findings/rubypop-uidl-one-returns-number.md
      "ex-rfc2449-5-capa": "n/a"}),            # Net::POP3 has no CAPA
    ("mpop", "%s %s" % (py, os.path.join(peers, "mpop_adapter.py")),
     lambda: have_program("mpop"),
     {"real-popa3d-awkward-mailbox": "PASS",   # its whole session, trace and Maildir
      "poplib-testtimeouts-hola-default": "PASS",  # a greeting that is no +OK
      "rfc8314-5-tls11-refused": "FAIL",       # findings/mpop-accepts-tls11.md
      "ex-rfc1939-5-stat": "n/a"}),            # mpop always sends CAPA first
    ("fetchmail", "%s %s" % (py, os.path.join(peers, "fetchmail_adapter.py")),
     lambda: have_program("fetchmail"),
     {"rfc1939-5-delivery-list-retr": "PASS",  # STAT, LIST n and RETR n, QUIT
      "rfc8314-5.2-untrusted-implicit": "PASS",  # a refused certificate
      "ex-rfc1939-5-stat": "n/a"}),            # fetchmail always retrieves
    ("php-imap", "%s %s" % (py, os.path.join(peers, "phpimap_adapter.py")),
     have_php_imap,
     {"rfc8314-5.2-untrusted-implicit": "PASS",  # c-client refuses the certificate
      "rfc8314-5-tls11-refused": "PASS",
      "ex-rfc1939-5-stat": "n/a"}),            # c-client always sends CAPA first
    ("s-nail", "%s %s" % (py, os.path.join(peers, "snail_adapter.py")),
     lambda: have_program("s-nail"),
     {"rfc8314-5.2-untrusted-implicit": "PASS",  # a refused certificate
      "poplib-testtimeouts-hola-default": "PASS",  # a greeting that is no +OK
      "ex-rfc1939-5-stat": "n/a"}),            # s-nail reads the listing before STAT ends
    ("getmail6", "%s %s" % (py, os.path.join(peers, "getmail_adapter.py")),
     lambda: have_program("getmail"),
     {"rfc8314-5.2-untrusted-implicit": "PASS",
      "rfc1939-5-delivery-list-retr": "n/a"}),  # no trace: no listing values
]

problems = []
for name, command, check, expect in ADAPTERS:
    missing = check()
    if missing:
        problems.append("%s: %s (run conformance/peers/install.sh as root)" % (name, missing))
        continue
    args = [conform, "--cases", cases, "--no-reference", "-j", "4", "--no-drip",
            "--client", "%s=%s" % (name, command)]
    for case in expect:
        args += ["--filter", case]
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=300, env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    if p.returncode not in (0, 1):
        problems.append("%s: pop3-conform exited %d:\n%s" % (name, p.returncode, p.stdout))
        continue
    seen = {}
    for line in p.stdout.splitlines():
        m = re.match(r"(PASS|FAIL|n/a)\s+(\S+)", line)
        if m:
            seen[m.group(2)] = m.group(1)
    for case, want in expect.items():
        got = seen.get(case)
        if got != want:
            problems.append("%s: %s: expected %s, got %s" % (name, case, want, got))
    passes = sum(1 for v in expect.values() if v == "PASS")
    fails = sum(1 for v in expect.values() if v == "FAIL")
    last = p.stdout.rstrip().splitlines()[-1] if p.stdout.strip() else ""
    if last != "%d passed, %d failed" % (passes, fails):
        problems.append("%s: closing line %r" % (name, last))
    print("# %s: %s" % (name, last))

if problems:
    print("\n".join(problems))
    sys.exit(1)
print("ok: %d adapters" % len(ADAPTERS))
