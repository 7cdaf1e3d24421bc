#!/usr/bin/env python3
"""interop_lifecycle.py - the pop3-mock command's life: options, port file, accounts,
Maildir rescans, signals, --case.

- --version is exactly "pop3-mock (pop3kit) VERSION"; --help goes to stdout, exit 0; a
  usage error is two lines on stderr ("pop3-mock: ..." and the hint), exit 2.
- --port-file: the bound port, written by rename (no temporary file left).
- --users FILE: several accounts, each with its own Maildir; errors name FILE:LINE.
- A Maildir is read again at each login: a message delivered since is seen, unique-ids
  stay; SIGHUP drops the deletions made so far; SIGTERM and SIGINT exit 0.
- --case FILE plays the dialogue of a conformance case file.
- --max-steps and --max-output, at their limit and one past it: a script too long is
  refused at FILE:LINE (exit 2); a session whose output passes the limit is reset and
  the report says why (exit 1).

usage: interop_lifecycle.py POP3_MOCK CASES_DIR
"""
import os
import poplib
import re
import shutil
import signal
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mockrun import Mock, main, make_maildir, run  # noqa: E402

BIN, CASES = sys.argv[1], sys.argv[2]


def check_usage():
    r = run(BIN, "--version")
    assert r.returncode == 0 and re.fullmatch(r"pop3-mock \(pop3kit\) \d+\.\d+\.\d+\n", r.stdout), r
    r = run(BIN, "--help")
    assert r.returncode == 0 and r.stdout.startswith("usage: pop3-mock") and r.stderr == "", r
    for args, msg in ((["--x"], "unknown option '--x'"),
                      (["--bogus=1"], "unknown option '--bogus'"),
                      (["--listen"], "option '--listen' needs a value"),
                      (["--once=yes", "s"], "option '--once' takes no value"),
                      (["--max-s", "1"], "ambiguous option '--max-s'"),
                      ([], "give SCRIPT files, --case FILE, --maildrop DIR or --users FILE")):
        r = run(BIN, *args)
        assert r.returncode == 2, (args, r)
        assert r.stdout == "", (args, r)
        assert r.stderr == "pop3-mock: %s\ntry 'pop3-mock --help'\n" % msg, (args, r.stderr)


def check_numeric_options(md):
    """Every numeric option is read by the codec's number parser: digits only, in its
    range; anything else is a usage error naming the option and the range."""
    base = ["--maildrop", md, "--user", "a", "--password", "pa"]
    # (option, lowest, highest): each is taken at both ends and refused one past them.
    ranges = (("--idle-timeout", 0, 2 ** 31), ("--max-sessions", 1, 2 ** 31),
              ("--max-command", 8, 2 ** 31), ("--max-sasl-line", 8, 2 ** 31),
              ("--max-input", 8, 2 ** 31), ("--output-buffer", 1, 2 ** 31),
              ("--max-output", 1, 2 ** 31), ("--max-steps", 1, 2 ** 31))
    for opt, lo, hi in ranges:
        for good in (lo, hi, "0%d" % lo):
            # Taken: the server starts (and stops cleanly). The large values only size
            # per-session buffers, and no session is opened here.
            with Mock(BIN, base + [opt, str(good)]):
                pass
        bad = [str(hi + 1), "18446744073709551615", "18446744073709551616", "+%d" % lo,
               "-1", " %d" % lo, "%d " % lo, "", "0x10", "1e3", "ten"]
        if lo > 0:
            bad.append(str(lo - 1))
        for v in bad:
            r = run(BIN, *base, opt, v)
            assert r.returncode == 2, (opt, v, r)
            assert r.stdout == "", (opt, v, r)
            want = "pop3-mock: %s %s: want " % (opt, v)
            assert r.stderr.startswith(want) and "%d to %d" % (lo, hi) in r.stderr, \
                (opt, v, r.stderr)
    # --listen: the port is 0 to 65535, digits (no service names, no sign).
    with Mock(BIN, base + ["--listen", "127.0.0.1:00"]) as m:
        assert m.port > 0
    for port in ("65536", "99999", "18446744073709551616", "+1", "-1", " 1", "", "pop3",
                 "0x10"):
        spec = "127.0.0.1:" + port
        r = run(BIN, *base, "--listen", spec)
        assert r.returncode == 2, (spec, r)
        assert r.stderr == ("pop3-mock: --listen %s: want a port number from 0 to 65535 "
                            "(0: any free)\n" % spec), (spec, r.stderr)


def login(port, user, pw):
    p = poplib.POP3("127.0.0.1", port, timeout=10)
    p.user(user)
    p.pass_(pw)
    return p


def uids(p):
    return [l.split()[1] for l in p.uidl()[1]]


def check_port_file(tmp, md):
    pf = os.path.join(tmp, "port")
    with Mock(BIN, ["--maildrop", md, "--user", "a", "--password", "pa", "--port-file", pf]) as m:
        assert open(pf).read() == "%d\n" % m.port
        # The ready line is the contract too (for those who read stdout).
        assert m.stdout() == "pop3-mock listening on 127.0.0.1:%d\n" % m.port, m.stdout()
        assert [f for f in os.listdir(tmp) if f.startswith("port.")] == [], os.listdir(tmp)


def check_users(tmp):
    one = make_maildir()
    two = make_maildir(msgs=(b"Subject: only\n\nfor bob\n",))
    users = os.path.join(tmp, "users")
    os.symlink(two, os.path.join(tmp, "bobdir"))
    with open(users, "w") as f:
        f.write("# accounts\n\nalice secret-a %s\nbob  secret-b\tbobdir\n" % one)
    try:
        with Mock(BIN, ["--users", users]) as m:
            a = login(m.port, "alice", "secret-a")
            assert a.stat()[0] == 3
            b = login(m.port, "bob", "secret-b")  # another account: no [IN-USE]
            assert b.stat()[0] == 1 and b"for bob" in b"\n".join(b.retr(1)[1])
            a.quit()
            b.quit()
            p = poplib.POP3("127.0.0.1", m.port, timeout=10)
            p.user("bob")
            try:
                p.pass_("secret-a")
                raise AssertionError("bob logged in with alice's password")
            except poplib.error_proto as e:
                assert e.args[0].startswith(b"-ERR [AUTH]"), e
            p.quit()
        bad = [("alice x\n", "%s:1: expected USER PASSWORD MAILDIR, found 2 fields"),
               ("alice x y z\n", "%s:1: expected USER PASSWORD MAILDIR, found more fields "
                "(a password holds no blank)"),
               ("# c\nalice x %s\nalice y %s\n" % (one, one),
                "%s:3: user alice is already given on line 2"),
               ("\nalice x /nonexistent/md\n", "%s:2: /nonexistent/md: not a directory"),
               ("# nothing\n", "%s: no account (lines USER PASSWORD MAILDIR)")]
        for text, msg in bad:
            with open(users, "w") as f:
                f.write(text)
            r = run(BIN, "--users", users)
            assert r.returncode == 2, (text, r)
            assert r.stderr == "pop3-mock: --users " + (msg % users) + "\n", (text, r.stderr)
        r = run(BIN, "--users", users, "--user", "x")
        assert r.returncode == 2 and "no --user or --password" in r.stderr, r
        # 10000 accounts at most: at the limit the server runs and the last one logs
        # in; one more is refused, naming the line.
        empty = make_maildir(msgs=())
        try:
            with open(users, "w") as f:
                for i in range(10000):
                    f.write("u%d p%d %s\n" % (i, i, empty))
            with Mock(BIN, ["--users", users]) as m:
                p = login(m.port, "u9999", "p9999")
                assert p.stat()[0] == 0
                p.quit()
            with open(users, "a") as f:
                f.write("u10000 p %s\n" % empty)
            r = run(BIN, "--users", users)
            assert r.returncode == 2, r
            assert r.stderr == "pop3-mock: --users %s:10001: more than 10000 accounts\n" % users, \
                r.stderr
        finally:
            shutil.rmtree(empty, ignore_errors=True)
    finally:
        shutil.rmtree(one, ignore_errors=True)
        shutil.rmtree(two, ignore_errors=True)


def check_rescan_and_signals(md):
    m = Mock(BIN, ["--maildrop", md, "--user", "a", "--password", "pa"])
    try:
        p = login(m.port, "a", "pa")
        before = uids(p)
        assert len(before) == 3
        p.quit()
        # Delivered while the server runs: seen at the next login, old UIDs unchanged.
        with open(os.path.join(md, "new", "1800000000.M9P1.test"), "wb") as f:
            f.write(b"Subject: late\n\nnew mail\n")
        p = login(m.port, "a", "pa")
        after = uids(p)
        assert after[:3] == before and len(after) == 4, (before, after)
        p.dele(1)
        p.quit()
        p = login(m.port, "a", "pa")
        assert uids(p) == after[1:], uids(p)
        p.quit()
        # SIGHUP: the deletion is forgotten.
        m.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 5
        while True:
            p = login(m.port, "a", "pa")
            got = uids(p)
            p.quit()
            if got == after or time.time() > deadline:
                break
            time.sleep(0.05)
        assert got == after, got
        # SIGTERM: exit 0 and a report line, also with a session open.
        live = socket.create_connection(("127.0.0.1", m.port), timeout=10)
        assert live.recv(100).startswith(b"+OK")
        m.proc.send_signal(signal.SIGTERM)
        rc, err = m.wait(10)
        assert rc == 0, (rc, err)
        assert re.search(r"pop3-mock: stopped by SIGTERM after \d+ sessions", err), err
        assert live.recv(100) == b"", "the open session was closed"
        live.close()
    finally:
        m.stop()
    m = Mock(BIN, ["--maildrop", md, "--user", "a", "--password", "pa"])
    m.proc.send_signal(signal.SIGINT)
    rc, err = m.wait(10)
    assert rc == 0 and "stopped by SIGINT" in err, (rc, err)


def check_case():
    case = os.path.join(CASES, "ex-rfc1939-5-dele.case")
    with Mock(BIN, ["--case", case]) as m:
        p = poplib.POP3("127.0.0.1", m.port, timeout=10)
        p.user("mrose")
        p.pass_("secret")
        p.dele(1)
        p.dele(2)
        try:
            p.dele(2)
        except poplib.error_proto:
            pass
        assert p.stat() == (0, 0)
        p.quit()
        rc, err = m.wait(10)
        assert rc == 0, (rc, err)
    # A client that departs: the report carries the case file's own line number.
    with Mock(BIN, ["--case", case]) as m:
        p = poplib.POP3("127.0.0.1", m.port, timeout=10)
        p.user("mrose")
        try:
            p.pass_("wrong")
        except poplib.error_proto:
            pass
        p.close()
        rc, err = m.wait(10)
        assert rc == 1, (rc, err)
        assert re.search(r"ex-rfc1939-5-dele\.case:(\d+)", err), err
    with tempfile.NamedTemporaryFile("w", suffix=".case") as f:
        f.write("title: no dialogue\nrun: connect\n  ok\n")
        f.flush()
        r = run(BIN, "--case", f.name)
        assert r.returncode == 2, r
        assert r.stderr == '%s:3: no "dialogue:" section\n' % f.name, r.stderr


def check_script_limits(tmp):
    script = os.path.join(tmp, "limits.pop3")
    with open(script, "w") as f:
        f.write("S: +OK hello\nC: QUIT\nS: +OK bye\n")
    # Three steps: taken with --max-steps 3, refused with 2 at the third step's line.
    with Mock(BIN, ["--max-steps", "3", script]) as m:
        p = poplib.POP3("127.0.0.1", m.port, timeout=10)
        p.quit()
        rc, err = m.wait(10)
        assert rc == 0, (rc, err)
    r = run(BIN, "--max-steps", "2", script)
    assert r.returncode == 2, r
    assert r.stderr == ("%s:3: more than 2 steps in one session (the max-steps limit)\n"
                        % script), r.stderr
    # "+OK hello" CRLF is 11 octets: sent with --max-output 11; with 10 the session is
    # reset before it and the report names the limit.
    with Mock(BIN, ["--max-output", "11", script]) as m:
        p = poplib.POP3("127.0.0.1", m.port, timeout=10)
        assert p.getwelcome() == b"+OK hello"
        p.quit()
        rc, err = m.wait(10)
        assert rc == 0, (rc, err)
    with Mock(BIN, ["--max-output", "10", script]) as m:
        try:
            poplib.POP3("127.0.0.1", m.port, timeout=10)
            assert False, "a greeting past --max-output"
        except (poplib.error_proto, OSError):
            pass
        rc, err = m.wait(10)
        assert rc == 1, (rc, err)
        assert "output over the max-output limit" in err, err


def test(binary):
    assert binary == BIN
    tmp = tempfile.mkdtemp(prefix="pop3mock-life-")
    md = make_maildir()
    try:
        check_usage()
        check_numeric_options(md)
        check_port_file(tmp, md)
        check_users(tmp)
        check_rescan_and_signals(md)
        check_case()
        check_script_limits(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(md, ignore_errors=True)


if __name__ == "__main__":
    main(test)
