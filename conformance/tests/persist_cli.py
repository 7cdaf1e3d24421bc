#!/usr/bin/env python3
"""persist_cli.py - persistent adapters (conformance/README.md, "Persistent adapters"):
a persistent adapter (tests/persist_peer.py: poplib's adapter served by peers/persistent.py)
gives the same verdicts as its one-shot runs, one process serves many cases (one per
worker with -j N), and an adapter that crashes mid-frame, hangs, writes a malformed frame
or a reply past --max-output fails that case with a clear error while the cases after it
run in a fresh process. Also --max-output at and past its limit in one-shot runs,
--persistent for an adapter without the marker, and the options' usage errors.

usage: persist_cli.py POP3_CONFORM CASES_DIR
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

conform, cases = sys.argv[1:3]
here = os.path.dirname(os.path.abspath(__file__))
peer = os.path.join(here, "persist_peer.py")
client = "%s %s" % (sys.executable, peer)
# Seven cases in this order: two pass, one n/a, the one that gets the faults, three after
# it (one a failure of poplib's). Every run is --no-drip: seven runs of the adapter.
FILTERS = ["rfc1939-4.1-*", "rfc1939-4.2-*", "rfc1939-5-delivery*", "rfc1939-5.1-*"]
FAULTY = "rfc1939-5-delivery-list-retr"
AFTER = ["rfc1939-5.1-stat-64bit", "rfc1939-5.1-stat-extra-text", "rfc1939-5.1-stat-malformed"]
tmp = tempfile.mkdtemp(prefix="persist-cli-")
problems = []


def run(*extra, fault=None, cl=client, frames=None, drip=False):
    """One run: (verdicts {case: ok|not ok|skip}, output, exit status, [(pid, case)])."""
    log = os.path.join(tmp, "log")
    if os.path.exists(log):
        os.unlink(log)
    env = dict(os.environ, PERSIST_PEER_LOG=log, PYTHONDONTWRITEBYTECODE="1")
    env.pop("PERSIST_PEER_FAULT", None)
    if fault:
        env["PERSIST_PEER_FAULT"] = fault
    env.pop("PERSIST_PEER_FRAMES", None)
    env.pop("PERSIST_PEER_DRIP", None)
    if drip:
        env["PERSIST_PEER_DRIP"] = "1"
    if frames:
        env["PERSIST_PEER_FRAMES"] = repr(frames)
    args = [conform, "--cases", cases, "--no-reference", "--client", cl, "--tap", "--no-drip"]
    for f in FILTERS:
        args += ["--filter", f]
    t0 = time.time()
    p = subprocess.run(args + list(extra), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, env=env, timeout=120)
    print("# %.1f s: %s" % (time.time() - t0, " ".join(extra + (fault or "",))))
    verdicts = {}
    for m in re.finditer(r"^(ok|not ok) \d+ - \S+: (\S+) .*?(# SKIP)?$", p.stdout, re.M):
        verdicts[m.group(2)] = "skip" if m.group(3) else m.group(1)
    served = []
    if os.path.exists(log):
        with open(log) as f:
            served = [tuple(l.split()) for l in f if l.strip()]
    return verdicts, p.stdout, p.returncode, served


def check(cond, what):
    print("%s - %s" % ("ok" if cond else "not ok", what))
    if not cond:
        problems.append(what)


def pids(served):
    return {pid for pid, _ in served}


# The one-shot verdicts: a process per case.
oneshot, out, rc, served = run("--one-shot", "-j", "2")
check(len(oneshot) == 7 and rc == 1, "one-shot: 7 verdicts, exit status 1 (%r, %d)"
      % (oneshot, rc))
check(len(pids(served)) == len(served) == 7, "--one-shot: a process per case "
      "(%d processes, %d runs)" % (len(pids(served)), len(served)))

# Persistent: the same verdicts, one process, or one per worker.
v, out, rc, served = run("-j", "1")
check(v == oneshot, "persistent -j 1: the one-shot verdicts (%r)" % v)
check(len(served) == 7 and len(pids(served)) == 1,
      "persistent -j 1: one process served the 7 runs (%d processes)" % len(pids(served)))
v, out, rc, served = run("-j", "2")
check(v == oneshot, "persistent -j 2: the one-shot verdicts (%r)" % v)
check(len(served) == 7 and 1 <= len(pids(served)) <= 2,
      "persistent -j 2: at most two processes served the 7 runs (%d)" % len(pids(served)))

# Replies written one octet per write: the frames are put together from any split.
v, out, rc, served = run("-j", "1", drip=True)
check(v == oneshot and len(pids(served)) == 1, "replies one octet per write: the one-shot "
      "verdicts from one process (%r)" % v)

# The adapter without its marker line: one-shot, unless --persistent says otherwise.
plain = os.path.join(tmp, "plain_peer.py")
with open(peer) as f:
    text = f.read().replace("# pop3-conform-adapter: persistent\n", "")
with open(plain, "w") as f:
    f.write(text.replace('HERE = os.path.dirname(os.path.abspath(__file__))',
                         'HERE = %r' % here))
plain_client = "%s %s" % (sys.executable, plain)
v, out, rc, served = run("-j", "1", "--persistent", cl=plain_client)
check(v == oneshot and len(pids(served)) == 1 and len(served) == 7,
      "no marker, --persistent: one process (%d)" % len(pids(served)))


def fault(kind, message, *extra):
    v, out, rc, served = run("-j", "1", *extra, fault="%s:%s" % (kind, FAULTY))
    check(v.get(FAULTY) == "not ok", "%s: %s fails" % (kind, FAULTY))
    check(re.search(message, out) is not None, "%s: the error says so (%s)" % (kind, message))
    if re.search(message, out) is None:
        print(out)
    check(all(v.get(c) == oneshot[c] for c in AFTER),
          "%s: the cases after it have their one-shot verdicts (%r)" % (kind, v))
    before = {p for p, c in served if c not in AFTER}
    after = {p for p, c in served if c in AFTER}
    check(len(after) == 1 and not (after & before),
          "%s: a fresh process served the cases after it (%r)" % (kind, served))
    return out


out = fault("crash", r"the persistent adapter ended \(exit status 3\) before its reply to "
            r"this case was complete \(14 octets of it came\); it is restarted")
check("crashing on purpose" in out, "crash: the adapter's own standard error is shown")
fault("hang", r"the persistent adapter did not answer within 2000 ms and was killed; it is "
      r"restarted", "--watchdog", "2000")
fault("malformed", r"the persistent adapter wrote a malformed reply frame: an unknown record "
      r"\\?\"hello\\?\"")

# Malformed replies of every kind, one per case: each case fails with what was wrong.
BAD = [
    (b"stdout 5\nok\n\nexit 1\n0\nend 0\n\n", r"no line feed after the data of the "
     r"\\?\"stdout\\?\" record: its length is wrong"),
    (b"exit 1\n0\nexit 1\n0\nend 0\n\n", r"a second \\?\"exit\\?\" record"),
    (b"stdout 3\nok\n\nend 0\n\n", r"no exit record"),
    (b"exit 3\n300\nend 0\n\n", r"an exit status past 255"),
    (b"exit 1\n0\nend 0\n\nxyz", r"3 octets after the end of the reply"),
    (b"x" * 100 + b"\n", r"a record header longer than 39 octets"),
    (b"stdout -1\n", r"a record length that is no number"),
]
names = sorted(oneshot)
v, out, rc, served = run("-j", "2", frames={names[i]: BAD[i][0] for i in range(len(BAD))})
for i, (frame, msg) in enumerate(BAD):
    check(v.get(names[i]) == "not ok" and re.search("malformed reply frame: " + msg, out),
          "malformed frame %r: %s fails with %s" % (frame[:20], names[i], msg))

# --max-output: a reply of exactly the limit passes, one octet more fails that case only.
SIZE = 100000
SIZED = "size=%d:%s" % (SIZE, FAULTY)
v, out, rc, _ = run("-j", "1", "--max-output", str(SIZE), fault=SIZED)
check(v.get(FAULTY) == oneshot[FAULTY], "persistent: a reply of --max-output octets is taken")
v, out, rc, served = run("-j", "2", "--max-output", str(SIZE), fault=SIZED, cl=plain_client)
check(v.get(FAULTY) == oneshot[FAULTY], "one-shot: output of --max-output octets is taken")
check(len(pids(served)) == len(served) == 7,
      "no marker: one-shot (%d processes for %d runs)" % (len(pids(served)), len(served)))
fault("size=%d" % SIZE, r"the persistent adapter's reply passed --max-output \(%d octets of "
      r"standard output and error\) and it was killed; it is restarted" % (SIZE - 1),
      "--max-output", str(SIZE - 1))
v, out, rc, _ = run("-j", "2", "--max-output", str(SIZE - 1), "--one-shot", fault=SIZED)
msg = r"the adapter wrote more than %d octets \(--max-output\) and was killed" % (SIZE - 1)
check(v.get(FAULTY) == "not ok" and re.search(msg, out) is not None,
      "one-shot: one octet past --max-output fails the case")
check(all(v.get(c) == oneshot[c] for c in AFTER),
      "one-shot: the cases after it have their verdicts")

# A persistent adapter the shell cannot start: one usage error, as for a one-shot one.
broken = os.path.join(tmp, "broken_adapter.sh")
with open(broken, "w") as f:
    f.write("#!/bin/sh\n# pop3-conform-adapter: persistent\nexec no-such-program-here\n")
os.chmod(broken, 0o755)
v, out, rc, served = run("-j", "2", cl=broken)
check(rc == 2 and re.search(r"'%s' cannot be started: .*no-such-program-here.*not found"
                            % re.escape(broken), out) is not None,
      "persistent adapter that cannot start: exit status 2 and why (%d)" % rc)

# Usage errors.
for args, msg in ((["--one-shot", "--persistent"], "exclude each other"),
                  (["--max-output", "0"], "--max-output wants octets from 1 to")):
    p = subprocess.run([conform, "--cases", cases] + args, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=60)
    check(p.returncode == 2 and msg in p.stderr, "usage: %s (%r)" % (" ".join(args), p.stderr))

shutil.rmtree(tmp, ignore_errors=True)
sys.exit(1 if problems else 0)
