"""dovecot_env.py - what conformance/peers/dovecot.sh tells about the Dovecot it started.

The script writes KEY=VALUE lines (ports, user, password, maildir) to DIR/env; the
benchmarks that run against that Dovecot read them with read_env(DIR).
"""
import os


def read_env(dovecot_dir):
    env = {}
    with open(os.path.join(dovecot_dir, "env")) as f:
        for line in f:
            k, _, v = line.strip().partition("=")
            env[k] = v
    return env
