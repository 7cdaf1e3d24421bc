#!/usr/bin/env python3
"""probe_cli.py - the command line and the reports of pop3-conform --probe (README.md,
pop3-conform.1): the size check labelled with the RFC 1939 requirement it checks
(RFC1939-11), --tap, --json, --junit FILE, the usage errors, and a server that cannot be
reached (exit 3, said in every format).

The server is pop3-mock --maildrop with the quirk lying-sizes (LIST gives half the size),
so that the probe has a deviation to report.

usage: probe_cli.py POP3_MOCK POP3_CONFORM
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

import mocksrv
import tapcheck

MOCK, CONFORM = sys.argv[1], sys.argv[2]
USER, PASSWORD = "probe", "probe-secret"
T = tapcheck.Checks()
check, usage_error = T.check, T.usage_error


def probe(*args):
    env = dict(os.environ, POP3_PASSWORD=PASSWORD)
    p = subprocess.run([CONFORM] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, env=env, timeout=120)
    return p.returncode, p.stdout, p.stderr


MESSAGES = {"1": "From: a@example.org\nSubject: one\n\nline one\nline two\n"}

with tempfile.TemporaryDirectory(prefix="pop3-probe-cli-") as tmp, \
        mocksrv.maildrop(MOCK, MESSAGES, USER, PASSWORD, quirks=["lying-sizes"]) as mock:
    target = "127.0.0.1:%d" % mock.port
    base = ["--probe", target, "--user", USER, "--timeout", "3"]

    # The size check names the RFC 1939 requirement it checks.
    rc, out, err = probe(*base)
    check("text: the size deviation is labelled RFC1939-11",
          rc == 1 and re.search(r"^dev\s+RFC1939-11\s+quirk=lying-sizes", out, re.M) is not None
          and "RFC6856-2.3" not in out, out + err)
    ndev = len(re.findall(r"^dev ", out, re.M))
    nfind = len(re.findall(r"^(pass|note|dev) ", out, re.M))

    # TAP: a test point per finding, "not ok" per deviation, the plan at the end.
    rc, out, err = probe(*(base + ["--tap"]))
    lines = out.splitlines()
    points = [l for l in lines if re.match(r"^(not )?ok \d+ - ", l)]
    check("--tap: TAP 13, a test point per finding, the plan",
          rc == 1 and lines[0] == "TAP version 13" and ("1..%d" % len(points)) in lines and
          len(points) == nfind, out + err)
    check("--tap: a deviation is \"not ok\"",
          len([l for l in points if l.startswith("not ok")]) == ndev and
          any(re.match(r"^not ok \d+ - dev RFC1939-11 quirk=lying-sizes", l) for l in points),
          out)
    check("--tap: only TAP on stdout",
          all(re.match(r"^((not )?ok \d+ - |1\.\.\d+$|# |TAP version 13$)", l) for l in lines),
          out)

    # JSON: one document, its documented fields.
    rc, out, err = probe(*(base + ["--json"]))
    try:
        doc = json.loads(out)
    except ValueError as e:
        doc = {}
        check("--json: valid JSON", False, "%s\n%s" % (e, out))
    if doc:
        sizes = [x for x in doc["findings"] if x["requirement"] == "RFC1939-11"]
        check("--json: format, server, summary, exit status",
              doc.get("format") == "pop3-conform-probe/1" and
              doc["server"]["port"] == mock.port and doc["server"]["user"] == USER and
              doc["server"]["security"] == "plain" and doc["server"]["greeting"].startswith("+OK")
              and doc["summary"]["deviations"] == ndev and doc["exit_status"] == rc == 1 and
              doc["error"] is None and "lying-sizes" in doc["summary"]["quirks"], out)
        check("--json: findings with severity, requirement, quirk and message",
              len(doc["findings"]) == nfind and
              all(set(x) == {"severity", "requirement", "quirk", "catalogue", "message"} and
                  x["severity"] in ("pass", "note", "deviation") for x in doc["findings"]) and
              any(x["severity"] == "deviation" and x["quirk"] == "lying-sizes" and
                  x["catalogue"] == ["Q9"] and "LIST 1 says" in x["message"] for x in sizes), out)
        sup = doc["supported"]
        check("--json: supported features",
              sup["capa"] is True and "USER" in sup["capabilities"] and sup["user"] is True and
              sup["uidl"] is True and sup["apop"] is True and sup["stls"] is False and
              isinstance(sup["sasl"], list) and set(sup["sasl_working"]) <= set(sup["sasl"]),
              out)

    # JUnit: a test case per finding, a failure per deviation.
    junit = os.path.join(tmp, "probe.xml")
    rc, out, err = probe(*(base + ["--junit", junit]))
    try:
        suite = ET.parse(junit).getroot().find("testsuite")
        fails = suite.findall(".//failure")
        ok = (suite.get("tests") == str(nfind) and suite.get("failures") == str(ndev) and
              len(fails) == ndev and
              any(tc.get("classname") == "RFC1939-11" and tc.find("failure") is not None
                  for tc in suite.findall("testcase")))
        detail = ET.tostring(suite, encoding="unicode")
    except (ET.ParseError, OSError, AttributeError) as e:
        ok, detail = False, str(e)
    check("--junit: a testcase per finding, a failure per deviation", ok and rc == 1, detail)
    check("--junit: the text report still goes to stdout",
          re.search(r"^probe: \d+ passed", out, re.M) is not None, out)

    # A server that is not there: exit 3, and every format says so.
    gone = "127.0.0.1:%d" % mocksrv.free_port()
    rc, out, err = probe("--probe", gone, "--user", USER, "--timeout", "2", "--json")
    try:
        doc = json.loads(out)
    except ValueError:
        doc = {}
    check("unreachable: exit 3, JSON with the error",
          rc == 3 and doc.get("exit_status") == 3 and doc.get("error") and
          err.startswith("pop3-conform: "), out + err)
    rc, out, err = probe("--probe", gone, "--user", USER, "--timeout", "2", "--tap")
    check("unreachable: TAP bails out", rc == 3 and "\nBail out! " in out, out + err)

    # The command-line conventions.
    usage_error("--probe without its value", probe("--probe"), "option '--probe' needs a value")
    usage_error("--probe without --user", probe("--probe", target), "--probe needs --user")
    usage_error("an unknown probe option", probe("--probe", target, "--user", USER, "--x"),
                "unknown option '--x'")
    usage_error("--tap and --json together",
                probe("--probe", target, "--user", USER, "--tap", "--json"),
                "--tap and --json exclude each other")
    usage_error("--junit without its value", probe("--probe", target, "--user", USER, "--junit"),
                "option '--junit' needs a value")
    usage_error("a bad port", probe("--probe", "host:0", "--user", USER),
                "--probe wants HOST:PORT, not 'host:0'")
    usage_error("a bad timeout", probe("--probe", target, "--user", USER, "--timeout", "x"),
                "--timeout wants seconds from 1 to 3600, not 'x'")
    # Numbers are digits only, read whole (the codec's pop3_parse_number): each range is
    # taken at both ends (the server that is not there then gives exit 3, past the
    # parsing); one past either end, a sign, a blank, an empty value and a value past
    # 2^64-1 are usage errors naming the range.
    top = "18446744073709551615"
    for opt, lo, hi, what in (("--timeout", "1", "3600", "seconds"),
                              ("--idle", "1", "86400", "seconds"),
                              ("--max-messages", "0", "1000000", "a number"),
                              ("--max-size", "1", top, "octets")):
        for good in (lo, hi):
            rc, out, err = probe("--probe", gone, "--user", USER, opt + "=" + good)
            check("%s %s (at the limit) is taken" % (opt, good), rc == 3, out + err)
        past = [str(int(lo) - 1)] if lo != "0" else []
        for bad in past + [str(int(hi) + 1), "-1", "+1", " 1", "1 ", "", "0x10",
                           "99999999999999999999999"]:
            usage_error("%s %r is refused" % (opt, bad),
                        probe("--probe", gone, "--user", USER, opt + "=" + bad),
                        "%s wants %s from %s to %s, not '%s'" % (opt, what, lo, hi, bad))
    for good in ("1", "65535"):
        rc, out, err = probe("--probe", "127.0.0.1:" + good, "--user", USER, "--timeout", "2")
        check("port %s (at the limit) is taken" % good, rc == 3, out + err)
    for bad in ("0", "65536", "-1", "+1", "", " 1", "18446744073709551616"):
        usage_error("port %r is refused" % bad,
                    probe("--probe", "host:" + bad, "--user", USER),
                    "--probe wants HOST:PORT, not 'host:%s'" % bad)
    rc, out, err = probe("--probe", "--help")
    check("--probe --help: the probe's usage on stdout, exit 0",
          rc == 0 and out.startswith("usage: pop3-conform --probe") and "--json" in out and
          err == "", out + err)
    rc, out, err = probe("--probe", target, "--version")
    check("--probe ... --version", rc == 0 and out.startswith("pop3-conform (pop3kit) "), out + err)
T.finish()
