#!/usr/bin/env python3
"""bench_netfuzz.py - pop3-fuzz's runs per second against our own programs, beside a
boofuzz-style baseline written here, in one run, and the ratio of each to its baseline.

Measured, each for SECONDS of wall time:
  client  pop3-fuzz client against `pop3` (BUILD_BIN_DIR/pop3 ... retr 1): a mutated
          dialogue per run, served by the mock's engine in pop3-fuzz's own process, the
          client started through `sh -c`; with the default --idle-ms (100) and with 10.
  base-c  the baseline for it: for each test case a new listening socket, one new TCP
          connection and one new `pop3` process; the server's replies come from a fixed
          list of hostile dialogues, written one reply per line the client sends without
          reading it (no state feedback, no mutation): the way boofuzz drives a target,
          one connection per test case.
  server  pop3-fuzz server against pop3-mock --maildrop, when this build has server mode
          (`pop3-fuzz server` said "not built yet" before it existed: then "n/a").
  base-s  the baseline for it: for each test case one new TCP connection to the same
          pop3-mock, a fixed list of command sequences written one after the other, the
          replies read until the server is quiet or closes (boofuzz's session without
          its protocol graph).

usage: bench_netfuzz.py BUILD_BIN_DIR [--seconds S]
Needs nothing but the build (python3, loopback).
"""
import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

# The baselines' fixed payloads. A client test case is the greeting and one reply per
# line the client sends; a server test case is a list of command lines.
CLIENT_CASES = [
    # `pop3 retr 1` sends CAPA, USER, PASS, RETR 1, QUIT: a case gives the replies in
    # that order (the greeting first), as a boofuzz session would be written for it.
    [b"+OK ready\r\n", b"-ERR\r\n", b"+OK\r\n", b"+OK\r\n",
     b"+OK 1 octets\r\nSubject: x\r\n\r\n..x\r\n.\r\n", b"+OK\r\n"],
    [b"+OK ready\r\n", b"-ERR\r\n", b"+OK\r\n", b"+OK\r\n",
     b"+OK\r\n" + b"A" * 70000 + b"\r\n.\r\n", b"+OK\r\n"],
    [b"+OK ready\r\n", b"-ERR\r\n", b"+OK\r\n", b"+OK\r\n", b"+OK\r\nbody\r\n"],
    [b"+OK ready\r\n", b"-ERR\r\n", b"-ERR [IN-USE] locked\r\n"],
    [b"+OK ready\n", b"-ERR\n", b"+OK\n", b"+OK\n", b"+OK\nSubject: x\n\nbody\n.\n", b"+OK\n"],
    [b"+OK ready\r\n", b"+OK\r\nSASL PLAIN\r\n.\r\n", b"+OK\r\n", b"-ERR\r\n"],
    [b"+OK ready\r\n", b"-ERR\r\n", b"+OK\x00\r\n", b"+OK\r\n", b"+OK\r\n.\r"],
    [b"garbage\r\n"],
]
SERVER_CASES = [
    [b"USER user\r\n", b"PASS secret\r\n", b"STAT\r\n", b"QUIT\r\n"],
    [b"USER user\r\n", b"PASS secret\r\n", b"LIST 18446744073709551616\r\n"],
    [b"USER " + b"A" * 5000 + b"\r\n"],
    [b"CAPA\r\n", b"AUTH PLAIN\r\n", b"!!!!\r\n"],
    [b"USER user\r\n", b"PASS secret\r\n", b"RETR 0\r\n", b"TOP 1 -1\r\n", b"DELE 1\r\n"],
    [b"STLS\r\n", b"\x16\x03\x01\x00\x05hello"],
    [b"APOP user 0123456789abcdef0123456789abcdef\r\n", b"UIDL\r\n"],
    [b"\r\n\r\n\r\n", b"NOOP\x00\r\n"],
]


def run_fuzz(cmd, seconds, env=None):
    """Run a pop3-fuzz campaign; return (runs, wall seconds, its output)."""
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env,
                       timeout=seconds * 3 + 120)
    wall = time.perf_counter() - t0
    out = p.stdout + p.stderr
    m = re.search(r"^(\d+) runs, \d+ (findings|disagreements)$", p.stdout, re.M)
    return (int(m.group(1)) if m else None), wall, out


def baseline_client(pop3, seconds, timeout):
    """One new listening socket, connection and `pop3` process per test case."""
    runs, k = 0, 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        case = CLIENT_CASES[k % len(CLIENT_CASES)]
        k += 1
        ls = socket.socket()
        ls.bind(("127.0.0.1", 0))
        ls.listen(1)
        port = ls.getsockname()[1]
        client = subprocess.Popen([pop3, "-H", "127.0.0.1", "-p", str(port), "-u", "user",
                                   "--timeout", str(timeout), "retr", "1"],
                                  env=dict(os.environ, POP3_PASSWORD="secret"),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ls.settimeout(timeout * 4 + 1)
        try:
            conn, _ = ls.accept()
            conn.settimeout(timeout)
            conn.sendall(case[0])
            for reply in case[1:]:
                if not conn.recv(65536):
                    break
                conn.sendall(reply)
            conn.close()
        except OSError:
            pass
        ls.close()
        try:
            client.wait(timeout=timeout * 4 + 1)
        except subprocess.TimeoutExpired:
            client.kill()
            client.wait()
        runs += 1
    return runs, time.perf_counter() - t0


def baseline_server(port, seconds, quiet):
    """One new TCP connection per test case to the server, fixed command lines."""
    runs, k = 0, 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        case = SERVER_CASES[k % len(SERVER_CASES)]
        k += 1
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=quiet)
            s.recv(65536)
            for line in case:
                s.sendall(line)
                s.recv(1 << 20)
            s.close()
        except OSError:
            pass
        runs += 1
    return runs, time.perf_counter() - t0


def start_mock(bin_dir, work):
    maildir = os.path.join(work, "Maildir")
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(maildir, sub))
    for i in range(3):
        with open(os.path.join(maildir, "new", f"{1000000000 + i}.P1Q{i}.bench"), "wb") as f:
            f.write(b"Subject: m%d\r\n\r\n..line\r\nbody\r\n" % i)
    mock = subprocess.Popen([os.path.join(bin_dir, "pop3-mock"), "--maildrop", maildir, "--user",
                             "user", "--password", "secret", "--no-lock", "--listen",
                             "127.0.0.1:0"], stdout=subprocess.PIPE, text=True)
    ready = mock.stdout.readline().strip()
    if not ready.startswith("pop3-mock listening on "):
        mock.kill()
        sys.exit("pop3-mock did not start: " + ready)
    return mock, int(ready.rsplit(":", 1)[1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin_dir")
    ap.add_argument("--seconds", type=float, default=20.0)
    a = ap.parse_args()
    fuzz, pop3 = os.path.join(a.bin_dir, "pop3-fuzz"), os.path.join(a.bin_dir, "pop3")
    secs = max(1, int(a.seconds))
    work = tempfile.mkdtemp(prefix="pop3kit-bench-netfuzz-")
    mock = None
    rows = []
    try:
        client_cmd = f"{pop3} -H 127.0.0.1 -p {{port}} -u user --timeout 0.3 retr 1"
        bn, bwall = baseline_client(pop3, a.seconds, 0.3)
        # The default --idle-ms (100) is what a run costs when a mutated dialogue leaves
        # both sides waiting; 10 shows how much of the rate that wait takes.
        for idle in ("100", "10"):
            n, wall, out = run_fuzz([fuzz, "client", "--client", client_cmd, "--seconds",
                                     str(secs), "--seed", "1", "--idle-ms", idle, "--out",
                                     os.path.join(work, "client" + idle)], secs)
            if n is None:
                sys.exit("pop3-fuzz client gave no summary:\n" + out[-2000:])
            rows.append((f"client vs pop3, idle {idle}", n, wall, bn, bwall))

        mock, port = start_mock(a.bin_dir, work)
        n, wall, out = run_fuzz([fuzz, "server", f"127.0.0.1:{port}", "--user", "user",
                                 "--seconds", str(secs), "--out", os.path.join(work, "server")],
                                secs, env=dict(os.environ, POP3_PASSWORD="secret"))
        bn, bwall = baseline_server(port, a.seconds, 0.3)
        rows.append(("server vs pop3-mock", n, wall, bn, bwall))
    finally:
        if mock:
            mock.terminate()
            mock.wait()
        shutil.rmtree(work, ignore_errors=True)
    load = os.getloadavg()[0]
    print(f"{'target':<26} {'pop3-fuzz runs':>14} {'runs/s':>8} {'baseline runs':>14} "
          f"{'runs/s':>8} {'fuzz/baseline':>14}")
    for title, n, wall, bn, bwall in rows:
        b = bn / bwall
        if n is None:
            print(f"{title:<26} {'n/a':>14} {'n/a':>8} {bn:>14} {b:>8.1f} {'n/a':>14}"
                  "   (pop3-fuzz server is not built in this tree)")
            continue
        f = n / wall
        print(f"{title:<26} {n:>14} {f:>8.1f} {bn:>14} {b:>8.1f} {f / b:>13.2f}x")
    print(f"each for {secs} s of wall time; load average {load:.1f} at the end; baseline: one new "
          "TCP connection (and, against pop3, one new client process) per test case, fixed "
          "payloads, no state feedback")


if __name__ == "__main__":
    main()
