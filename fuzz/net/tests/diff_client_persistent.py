#!/usr/bin/env python3
# pop3-conform-adapter: persistent
"""diff_client_persistent.py - diff_client.py served as a persistent adapter
(conformance/README.md, "Persistent adapters"), for the test that `pop3-fuzz diff` keeps
one process for every run of such an adapter. Each case appends the serving process's id
to the file named by $DIFF_PID_LOG, when set. Standard library only.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "conformance", "peers"))
import diff_client  # noqa: E402
import persistent  # noqa: E402


def run_case():
    log = os.environ.get("DIFF_PID_LOG")
    if log:
        with open(log, "a") as f:
            f.write(f"{os.getpid()}\n")
    diff_client.main()


if __name__ == "__main__":
    persistent.serve(run_case)
