#!/usr/bin/env python3
"""runner_cli.py - the command-line contract of pop3-conform (README.md, pop3-conform.1):
one line per case with its RFC section, the closing line "N passed, N failed", exit status
1 when a case fails with the transcript diff printed, --filter, --tap, --junit, --list,
--cases; the case format's errors reported with FILE:LINE; the conventions (--help,
--version, two-line usage errors); -v and -vv; JUnit failure messages and GitHub
annotations; --client commands that cannot be started, adapter names and paths; and the
installed layout (cases and peers under share/pop3kit beside bin/).

usage: runner_cli.py POP3_CONFORM CASES_DIR
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

import tapcheck

conform, cases = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
T = tapcheck.Checks(detail_lines=40)
check, usage_error = T.check, T.usage_error


def run(*args, cwd=None, env=None, prog=None):
    p = subprocess.run([prog or conform] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=300, cwd=cwd, env=env)
    return p.returncode, p.stdout, p.stderr


# An adapter that cannot express anything: every case is n/a for it (README: the adapter
# contract), so a run with it passes and shows its column.
NA_ADAPTER = """import sys
for line in sys.stdin:
    if line.startswith("option "):
        continue
    print("n/a this adapter expresses nothing")
"""
ENV = dict(os.environ)
ENV.pop("GITHUB_ACTIONS", None)
ENV.pop("POP3_CONFORM_CASES", None)


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

    # The "exit:" number of a case: 0 to 4 (the pop3 command's statuses), nothing else.
    for good in ("0", "4"):
        open(os.path.join(d, "exit.case"), "w").write(GOOD.replace("run: connect", "exit: %s\nrun: connect" % good, 1))
        rc, out, err = run("--cases", d, "--filter", "exit", "--list")
        check("exit: %s (at the limit) is taken" % good, rc == 0, out + err)
    for bad in ("5", "-1", "+1", "", "1 2", "0x1", "18446744073709551616"):
        open(os.path.join(d, "exit.case"), "w").write(GOOD.replace("run: connect", "exit: %s\nrun: connect" % bad, 1))
        rc, out, err = run("--cases", d, "--filter", "exit", "--list")
        check("exit: %r is a FILE:LINE error" % bad,
              rc == 2 and out == "" and err.endswith(
                  "exit.case:6: exit: expected a number from 0 to 4, not '%s'\n" % bad),
              "rc=%d\nstdout=%r\nstderr=%r" % (rc, out, err))
    os.remove(os.path.join(d, "exit.case"))

    # "connect timeout=SECONDS": digits, and at most three after a point, up to an hour.
    def timeout_case(value):
        open(os.path.join(d, "tmo.case"), "w").write(GOOD.replace("run: connect", "run: connect timeout=%s" % value, 1))
        return run("--cases", d, "--filter", "tmo", "--no-drip")
    for good in ("3600", "2.5", "1.250", "3599.999"):
        rc, out, err = timeout_case(good)
        check("connect timeout=%s is taken" % good, rc == 0, out + err)
    for bad in ("3600.001", "3601", "-1", "+1", "1e3", "inf", "nan", "0x10", "", "2.", ".5",
                "2.5000", "18446744073709551616"):
        rc, out, err = timeout_case(bad)
        check("connect timeout=%r is a malformed operation at FILE:LINE" % bad,
              rc == 1 and 'tmo.case:6: unknown or malformed operation "connect"' in out,
              out + err)
    os.remove(os.path.join(d, "tmo.case"))

    # -v: failures of every client, not the transcripts of passing cases; -vv: those too.
    rc, out, err = run("--cases", d, "--filter", "good", "-v")
    check("-v: no transcript of a passing case", rc == 0 and "transcript:" not in out, out)
    rc, out, err = run("--cases", d, "--filter", "good", "-vv")
    check("-vv: the transcript of a passing case", rc == 0 and "transcript:" in out, out)

    # JUnit: the failure message is the first difference, in one line.
    rc, out, err = run("--cases", d, "--junit", junit)
    try:
        msgs = [f.get("message") for f in ET.parse(junit).getroot().iter("failure")]
    except (ET.ParseError, OSError) as e:
        msgs = [str(e)]
    check("--junit: the failure message is the first difference",
          msgs == ["stat: expected stat 2 999, received stat 2 320"], repr(msgs))

    # GitHub annotations: at the case file and the line of the operation that differs.
    bad_rel = os.path.relpath(os.path.join(d, "bad.case"), tmp)
    want = ("::error file=%s,line=8::pop3kit: bad: "
            "stat: expected stat 2 999, received stat 2 320" % bad_rel)
    rc, out, err = run("--cases", d, "--github", cwd=tmp, env=ENV)
    check("--github: an ::error annotation at the case file and line", want in out.splitlines(),
          out)
    check("--github: the closing line stays last", out.splitlines()[-1] == "1 passed, 1 failed",
          out)
    rc, out, err = run("--cases", d, cwd=tmp, env=dict(ENV, GITHUB_ACTIONS="true"))
    check("GITHUB_ACTIONS=true turns annotations on", want in out.splitlines(), out)
    rc, out, err = run("--cases", d, "--no-github", cwd=tmp, env=dict(ENV, GITHUB_ACTIONS="true"))
    check("--no-github turns them off", "::error" not in out, out)
    rc, out, err = run("--cases", d, cwd=tmp, env=ENV)
    check("no annotations outside GitHub Actions", "::error" not in out, out)

    # A failure the mock alone sees (a session the client never opened): the annotation
    # points at that session's "!session" line, the message is the mock's.
    sess = os.path.join(tmp, "sess")
    os.makedirs(sess)
    open(os.path.join(sess, "sess.case"), "w").write(
        GOOD + "\n!session\nS: +OK again\nC: QUIT\nS: +OK bye\n")
    line = (GOOD + "\n!session\n").count("\n")
    rc, out, err = run("--cases", sess, "--github", "--no-drip", "--junit", junit, cwd=tmp,
                       env=ENV)
    want = ("::error file=sess/sess.case,line=%d::pop3kit: sess: "
            "session 2 never ran: the client did not open a connection for it" % line)
    check("--github: a session that never ran is annotated at its !session line",
          rc == 1 and want in out.splitlines(), out)
    try:
        msgs = [f.get("message") for f in ET.parse(junit).getroot().iter("failure")]
    except (ET.ParseError, OSError) as e:
        msgs = [str(e)]
    check("--junit: the mock's first line is the message when the results agree",
          msgs == ["session 2 never ran: the client did not open a connection for it"],
          repr(msgs))

    # Command-line conventions.
    rc, out, err = run("--version")
    check("--version: 'pop3-conform (pop3kit) VERSION' on stdout, exit 0",
          rc == 0 and re.fullmatch(r"pop3-conform \(pop3kit\) \d+\.\d+\.\d+\n", out) is not None
          and err == "", out + err)
    for h in ("--help", "-h"):
        rc, out, err = run(h)
        check("%s: the usage on stdout, exit 0" % h,
              rc == 0 and out.startswith("usage: pop3-conform") and "--github" in out and
              err == "", out + err)
    rc, out, err = run("--cases")
    usage_error("an option without its value says so", (rc, out, err),
                "option '--cases' needs a value")
    rc, out, err = run("-j")
    usage_error("a short option without its value says so", (rc, out, err),
                "option '-j' needs a value")
    rc, out, err = run("--x")
    usage_error("an unknown option: \"unknown option '--x'\"", (rc, out, err),
                "unknown option '--x'")
    rc, out, err = run("--bogus=1")
    usage_error("an unknown option with a value", (rc, out, err), "unknown option '--bogus'")
    rc, out, err = run("-q")
    usage_error("an unknown short option", (rc, out, err), "unknown option '-q'")
    rc, out, err = run("--tap=yes")
    usage_error("a value for an option that takes none", (rc, out, err),
                "option '--tap' takes no value")
    rc, out, err = run("-j", "0")
    usage_error("a bad number", (rc, out, err), "--jobs wants a number from 1 to 256, not '0'")
    # Numbers are digits only, read whole (the codec's pop3_parse_number): each option's
    # range at both ends is taken, one past either end, a sign, a blank, a base prefix, an
    # empty value and a value past 2^64-1 are usage errors naming the range.
    for opt, lo, hi, what in (("jobs", 1, 256, "a number"), ("timeout", 1, 600000, "milliseconds"),
                              ("watchdog", 100, 3600000, "milliseconds")):
        for good in (lo, hi):
            rc, out, err = run("--cases", d, "--list", "--%s=%d" % (opt, good))
            check("--%s %d (at the limit) is taken" % (opt, good), rc == 0, out + err)
        for bad in (str(lo - 1), str(hi + 1), "-1", "+%d" % lo, " %d" % lo, "%d " % lo,
                    "0x10", "", "12abc", "18446744073709551615", "18446744073709551616",
                    "99999999999999999999999"):
            rc, out, err = run("--cases", d, "--list", "--%s=%s" % (opt, bad))
            usage_error("--%s %r is refused" % (opt, bad), (rc, out, err),
                        "--%s wants %s from %d to %d, not '%s'" % (opt, what, lo, hi, bad))
    rc, out, err = run("--probe")
    usage_error("--probe without its value", (rc, out, err), "option '--probe' needs a value")
    rc, out, err = run("stray")
    usage_error("a stray argument", (rc, out, err), "unexpected argument 'stray'")

    # --client: a command that cannot be started is one usage error, not N failed cases.
    def cannot_start(name, spec, reason_re, **kw):
        rc, out, err = run("--cases", d, "--client", spec, **kw)
        lines = err.splitlines()
        check("--client %s: exit 2 with a one-line reason" % name,
              rc == 2 and len(lines) == 1 and re.search(reason_re, lines[0]) is not None and
              "failed" not in out, "rc=%d\nstdout=%s\nstderr=%s" % (rc, out, err))
    cannot_start("a missing adapter script", "python3 %s/nothere_adapter.py" % tmp,
                 r"^pop3-conform: --client .*nothere_adapter\.py: no such file")
    cannot_start("a missing program", "/nonexistent/adapter", r"/nonexistent/adapter: no such file")
    cannot_start("a missing script behind env and assignments",
                 "env -i A=1 B=2 python3 %s/nothere_adapter.py" % tmp,
                 r"nothere_adapter\.py: no such file")
    cannot_start("a program not in PATH", "pop3-conform-no-such-program --x",
                 r"pop3-conform-no-such-program: command not found")
    noexec = os.path.join(tmp, "noexec_adapter.py")
    open(noexec, "w").write(NA_ADAPTER)
    os.chmod(noexec, 0o644)
    cannot_start("a file that is not executable", noexec, r"not executable")
    shebang = os.path.join(tmp, "shebang_adapter.py")
    open(shebang, "w").write("#!/nonexistent/python3\n" + NA_ADAPTER)
    os.chmod(shebang, 0o755)
    cannot_start("a script whose interpreter is missing", shebang,
                 r"interpreter /nonexistent/python3 is not there")
    # Only seen when it runs: the shell's own exit status 127 on every case.
    cannot_start("a command that exits 127 on every case", "sh -c 'exit 127'",
                 r"--client sh: 'sh -c 'exit 127'' cannot be started")

    # Adapter names and paths.
    peers_dir = os.path.join(tmp, "peers")
    os.makedirs(peers_dir)
    open(os.path.join(peers_dir, "fake_adapter.py"), "w").write(NA_ADAPTER)
    py = sys.executable
    rc, out, err = run("--cases", d, "--filter", "good", "--client",
                       "%s %s/fake_adapter.py" % (py, peers_dir))
    check("the column is named after the adapter (fake), not the interpreter",
          rc == 0 and re.search(r"^good\s+RFC 1939 §5\s+pop3kit PASS .* fake n/a", out, re.M)
          is not None and "python" not in out.split("summary")[0], out + err)
    rc, out, err = run("--cases", d, "--filter", "good", "--client",
                       "mine=%s %s/fake_adapter.py" % (py, peers_dir))
    check("NAME= names the column", rc == 0 and " mine n/a" in out, out + err)
    rc, out, err = run("--cases", d, "--filter", "good", "--client",
                       "%s peers/fake_adapter.py" % py, cwd="/")
    check("a relative adapter path is found beside the cases folder (from /)",
          rc == 0 and " fake n/a" in out, out + err)

    # The installed layout: <prefix>/bin/pop3-conform finds <prefix>/share/pop3kit/cases
    # and adapters in <prefix>/share/pop3kit/peers, from any working folder.
    prefix = os.path.join(tmp, "prefix")
    os.makedirs(os.path.join(prefix, "bin"))
    shutil.copy2(conform, os.path.join(prefix, "bin", "pop3-conform"))
    share = os.path.join(prefix, "share", "pop3kit")
    os.makedirs(os.path.join(share, "cases"))
    shutil.copytree(peers_dir, os.path.join(share, "peers"))
    shutil.copy(os.path.join(d, "good.case"), os.path.join(share, "cases", "installed.case"))
    inst = os.path.join(prefix, "bin", "pop3-conform")
    rc, out, err = run("--list", prog=inst, cwd=tmp, env=ENV)
    check("an installed pop3-conform lists its installed cases",
          rc == 0 and re.search(r"^installed\s", out, re.M) is not None and "1 cases" in out,
          out + err)
    rc, out, err = run("--client", "%s conformance/peers/fake_adapter.py" % py, prog=inst,
                       cwd=tmp, env=ENV)
    check("an installed pop3-conform finds conformance/peers/X in share/pop3kit/peers",
          rc == 0 and re.search(r"^installed\s.* fake n/a", out, re.M) is not None, out + err)

    rc, out, err = run("--cases", cases, "--list")
    n = len([f for f in os.listdir(cases) if f.endswith(".case")])
    check("every case of the suite parses (%d)" % n, rc == 0 and ("%d cases" % n) in out, err)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
T.finish()
