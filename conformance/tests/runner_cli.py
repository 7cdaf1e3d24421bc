#!/usr/bin/env python3
"""runner_cli.py - the command-line contract of pop3-conform (its README.md): one line per
case with its RFC section, the closing line "N passed, N failed", exit status 1 when a
case fails with the transcript diff printed, --filter, --tap, --junit, --list, --cases;
and the case format's errors reported with FILE:LINE.

usage: runner_cli.py POP3_CONFORM CASES_DIR
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

conform, cases = sys.argv[1], sys.argv[2]
failures = 0


def check(name, cond, detail=""):
    global failures
    print("%s - %s" % ("ok" if cond else "not ok", name))
    if not cond:
        failures += 1
        if detail:
            sys.stdout.write("".join("#   " + l + "\n" for l in detail.splitlines()[-40:]))


def run(*args):
    p = subprocess.run([conform] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


GOOD = """# a case that passes
title:   STAT
section: RFC 1939 §5
covers:  RFC1939-5.1

run: connect
  ok
run: stat
  ok
  stat 2 320
run: quit
  ok

dialogue:
S: +OK ready
C: STAT
S: +OK 2 320
C: QUIT
S: +OK bye
"""
BAD = GOOD.replace("stat 2 320", "stat 2 999").replace("C: QUIT", "C: NOOP")

tmp = tempfile.mkdtemp(prefix="pop3-conform-cli-")
try:
    d = os.path.join(tmp, "cases")
    os.makedirs(d)
    open(os.path.join(d, "good.case"), "w").write(GOOD)
    open(os.path.join(d, "bad.case"), "w").write(BAD)

    rc, out, err = run("--cases", d, "--filter", "good")
    lines = out.splitlines()
    check("a passing case: exit 0", rc == 0, out + err)
    check("one line per case with id, RFC section, verdict and time",
          re.search(r"^PASS\s+good\s+RFC 1939 §5\s+\d+ ms$", out, re.M) is not None, out)
    check("the closing line is exactly \"1 passed, 0 failed\"",
          lines and lines[-1] == "1 passed, 0 failed", out)
    check("a summary by RFC", "by RFC" in out and re.search(r"^RFC 1939\s+1\s+1/1", out, re.M)
          is not None, out)

    rc, out, err = run("--cases", d)
    check("a failing case: exit 1", rc == 1, out + err)
    check("closing line \"1 passed, 1 failed\"", out.splitlines()[-1] == "1 passed, 1 failed", out)
    check("the failure shows expected and received results",
          "- stat 2 999" in out and "+ stat 2 320" in out, out)
    check("the failure shows where the client departed from the dialogue",
          "expected: C: NOOP" in out and 'received: "QUIT\\r\\n"' in out, out)
    check("both deliveries are reported", "[replies written whole]" in out and
          "[one octet per write]" in out, out)

    rc, out, err = run("--cases", d, "--tap")
    check("--tap: TAP 13 with a plan and one test point per case",
          out.startswith("TAP version 13\n1..2\n") and "not ok 1 - pop3kit: bad" in out and
          "ok 2 - pop3kit: good" in out and "  ---" in out, out)
    check("--tap: the closing line stays last", out.splitlines()[-1] == "1 passed, 1 failed", out)

    junit = os.path.join(tmp, "report.xml")
    rc, out, err = run("--cases", d, "--junit", junit)
    try:
        root = ET.parse(junit).getroot()
        suite = root.find("testsuite")
        ok = suite is not None and suite.get("tests") == "2" and suite.get("failures") == "1"
        ok = ok and len(root.findall(".//failure")) == 1
    except (ET.ParseError, OSError) as e:
        ok, out = False, str(e)
    check("--junit: one testsuite, two testcases, one failure", ok, out)

    rc, out, err = run("--cases", d, "--list")
    check("--list names the cases and what they cover",
          rc == 0 and re.search(r"^good\s+RFC 1939 §5\s+RFC1939-5.1$", out, re.M) is not None, out)

    rc, out, err = run("--cases", d, "--filter", "nothing-matches")
    check("a filter that matches nothing is a usage error", rc == 2, out + err)

    open(os.path.join(d, "broken.case"), "w").write(GOOD.replace("run: stat\n", "run: stat\nweird line\n"))
    rc, out, err = run("--cases", d, "--filter", "broken")
    check("a malformed case is reported with FILE:LINE", rc == 2 and "broken.case:9:" in err,
          out + err)
    os.remove(os.path.join(d, "broken.case"))

    rc, out, err = run("--cases", cases, "--list")
    n = len([f for f in os.listdir(cases) if f.endswith(".case")])
    check("every case of the suite parses (%d)" % n, rc == 0 and ("%d cases" % n) in out, err)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
print("%d failed" % failures)
sys.exit(1 if failures else 0)
