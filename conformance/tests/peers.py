#!/usr/bin/env python3
"""peers.py - the conformance suite run with Python's poplib and curl through their
adapters (conformance/peers/), side by side with the reference client.

Peers fail cases; that is what the table is for. This test checks that the runner
completes, that every client has its column in the per-case lines and in the summary,
that the closing line is there, and that the reference client's verdicts are the same as
when it runs alone (an adapter must not disturb the run). It fails only when the run
itself breaks.

usage: peers.py POP3_CONFORM CASES_DIR PEERS_DIR
"""
import os
import re
import shutil
import subprocess
import sys

conform, cases, peers = sys.argv[1:4]
py = sys.executable
# poplib is named with NAME=; curl's column takes its name from the adapter's file name
# (curl_adapter.py -> "curl", not the interpreter's "python3").
clients = ["poplib=%s %s" % (py, os.path.join(peers, "poplib_adapter.py"))]
names = ["poplib"]
if shutil.which("curl"):
    clients.append("%s %s" % (py, os.path.join(peers, "curl_adapter.py")))
    names.append("curl")
else:
    print("# curl not found: its column is left out")

args = [conform, "--cases", cases, "-j", "6"]
for c in clients:
    args += ["--client", c]
env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                   timeout=900)
out = p.stdout
problems = []
if p.returncode not in (0, 1):
    problems.append("pop3-conform exited %d" % p.returncode)
lines = out.splitlines()
if not lines or not re.fullmatch(r"\d+ passed, \d+ failed", lines[-1]):
    problems.append("no closing line \"N passed, N failed\"")
header = [l for l in lines if l.startswith("by RFC")]
if not header or not all(n in header[0] for n in ["pop3kit"] + names):
    problems.append("the summary has no column for every client: %r" % header)
case_lines = [l for l in lines if re.match(r"^\S+\s+RFC \d+ §", l) and "pop3kit" in l]
ncases = len([f for f in os.listdir(cases) if f.endswith(".case")])
if len(case_lines) != ncases:
    problems.append("%d case lines for %d cases" % (len(case_lines), ncases))
for l in case_lines:
    for n in ["pop3kit"] + names:
        if not re.search(r"\b%s (PASS|FAIL|n/a)" % re.escape(n), l):
            problems.append("no verdict of %s in: %s" % (n, l))
            break
# The reference client's verdicts with peers around equal those of a run of its own.
alone = subprocess.run([conform, "--cases", cases, "-j", "4"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=600).stdout
solo = {m.group(2): m.group(1) for m in
        re.finditer(r"^(PASS|FAIL)\s+(\S+)", alone, re.M)}
for l in case_lines:
    cid = l.split()[0]
    v = re.search(r"pop3kit (PASS|FAIL)", l)
    if v and solo.get(cid) and solo[cid] != v.group(1):
        problems.append("%s: pop3kit %s with peers, %s alone" % (cid, v.group(1), solo[cid]))
# The table, for the log.
start = next((i for i, l in enumerate(lines) if l.startswith("summary")), len(lines))
print("\n".join(lines[start:]))
for pr in problems:
    print("not ok - " + pr)
sys.exit(1 if problems else 0)
