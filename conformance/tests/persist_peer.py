#!/usr/bin/env python3
# pop3-conform-adapter: persistent
"""persist_peer.py - a persistent adapter for tests/persist_cli.py: poplib's adapter served
by peers/persistent.py, with one fault on one case when asked.

PERSIST_PEER_LOG=FILE     append "PID CASE" for every case run
PERSIST_PEER_FAULT=KIND:CASE   on case CASE (every delivery of it):
    crash      write half a reply frame and exit 3, a line on its own standard error
    hang       never answer
    malformed  answer with a line that is no frame
    size=N     run the case, then pad its standard error so that its standard output
               and standard error are N octets together (one-shot runs too)
PERSIST_PEER_FRAMES={CASE: b"REPLY", ...}   (a Python literal) answer each CASE with REPLY
PERSIST_PEER_DRIP=1       write every reply one octet per write (the runner must put the
                          frame together from any split)
"""
import ast
import io
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "peers"))
import persistent  # noqa: E402
import poplib_adapter  # noqa: E402

KIND, _, CASE = os.environ.get("PERSIST_PEER_FAULT", "").partition(":")
FRAMES = ast.literal_eval(os.environ.get("PERSIST_PEER_FRAMES", "{}"))


def run_case():
    case = os.environ.get("POP3_CONFORM_CASE", "")
    log = os.environ.get("PERSIST_PEER_LOG")
    if log:
        with open(log, "a") as f:
            f.write("%d %s\n" % (os.getpid(), case))
    if not (KIND.startswith("size=") and case == CASE):
        poplib_adapter.main()
        return
    real, sys.stdout = sys.stdout, io.StringIO()
    try:
        poplib_adapter.main()
    finally:
        out, sys.stdout = sys.stdout.getvalue().encode(), real
    sys.stdout.write(out.decode())
    sys.stdout.flush()
    sys.stderr.write("x" * (int(KIND[5:]) - len(out)))
    sys.stderr.flush()


class Dripping(persistent._Server):
    def write(self, reply):
        for i in range(len(reply)):
            os.write(self.frames_out, reply[i:i + 1])


def serve_with_faults():
    srv = Dripping() if os.environ.get("PERSIST_PEER_DRIP") else persistent._Server()
    while True:
        records = persistent._read_frame(srv.frames_in)
        if records is None:
            return
        env = dict(d.decode().partition("=")[::2] for n, d in records if n == "env")
        if env.get("POP3_CONFORM_CASE") in FRAMES:
            os.write(srv.frames_out, FRAMES[env["POP3_CONFORM_CASE"]])
            continue
        if env.get("POP3_CONFORM_CASE") == CASE:
            if KIND == "crash":
                os.write(srv.real_err, b"persist_peer: crashing on purpose\n")
                os.write(srv.frames_out, b"stdout 200\nok\n")
                os._exit(3)
            if KIND == "hang":
                time.sleep(3600)
            if KIND == "malformed":
                os.write(srv.frames_out, b"hello there\n")
                continue
        srv.case(run_case, records)


if __name__ == "__main__":
    if os.environ.get(persistent.MODE_VAR) == "persistent" and (
            KIND in ("crash", "hang", "malformed") or FRAMES
            or os.environ.get("PERSIST_PEER_DRIP")):
        serve_with_faults()
    else:
        persistent.serve(run_case)
