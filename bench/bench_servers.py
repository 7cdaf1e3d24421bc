#!/usr/bin/env python3
"""bench_servers.py - pop3-mock --maildrop against Dovecot on the same Maildir, with the
same client (bench_server_load, on libpop3), in one run.

Figures: sessions per second (connect, USER/PASS, STAT, QUIT) and MB/s served (RETR of
every message), each with WORKERS concurrent client processes; the ratio mock/Dovecot.
The goal is a ratio of at least 1 on both.

usage: bench_servers.py BUILD_BIN_DIR [--workers N] [--seconds S] [--messages N] [--kb K]
Needs root (Dovecot's mail user) and dovecot-pop3d.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

from dovecot_env import read_env

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEER = os.path.join(TOP, "conformance", "peers", "dovecot.sh")


def load(bin_dir, host, port, user, pw, mode, workers, amount):
    out = subprocess.run([os.path.join(bin_dir, "bench_server_load"), host, str(port), user,
                          mode, str(workers), str(amount)],
                         env=dict(os.environ, POP3_PASSWORD=pw), capture_output=True, text=True)
    line = next((l for l in out.stdout.splitlines() if l.startswith("RESULT")), None)
    if out.returncode != 0 or not line:
        sys.exit(f"bench_server_load failed: {out.stderr.strip()}")
    return float(line.split()[1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin_dir")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--messages", type=int, default=200)
    ap.add_argument("--kb", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench_servers.py: needs root to run Dovecot's mail user")
    work = tempfile.mkdtemp(prefix="pop3kit-bench-servers-")
    os.chmod(work, 0o755)
    dv = os.path.join(work, "dovecot")
    subprocess.run(["bash", PEER, "start", dv], check=True, stdout=subprocess.DEVNULL)
    mock = None
    try:
        env = read_env(dv)
        maildir = env["DOVECOT_MAILDIR"]
        st = os.stat(maildir)
        line = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijkl\r\n"
        body = line * (a.kb * 1000 // len(line))
        for i in range(a.messages):
            p = os.path.join(maildir, "new", f"{1000000000 + i}.P1Q{i}.bench")
            with open(p, "wb") as f:
                f.write(b"Subject: m%d\r\n\r\n" % i + body)
            os.chown(p, st.st_uid, st.st_gid)
        user, pw, host = env["DOVECOT_USER"], env["DOVECOT_PASSWORD"], env["DOVECOT_HOST"]
        # Warm Dovecot first: on first access it indexes the Maildir and moves new/ to
        # cur/, and pop3-mock reads the file names when it starts.
        load(a.bin_dir, host, env["DOVECOT_PORT"], user, pw, "retr", 1, 1)
        mock = subprocess.Popen([os.path.join(a.bin_dir, "pop3-mock"), "--maildrop", maildir,
                                 "--user", env["DOVECOT_USER"], "--password",
                                 env["DOVECOT_PASSWORD"], "--no-lock", "--listen",
                                 "127.0.0.1:0"], stdout=subprocess.PIPE, text=True)
        ready = mock.stdout.readline().strip()
        if not ready.startswith("pop3-mock listening on "):
            sys.exit("pop3-mock did not start: " + ready)
        mock_port = ready.rsplit(":", 1)[1]
        load(a.bin_dir, host, mock_port, user, pw, "retr", 1, 1)
        print(f"Maildir: {a.messages} messages of {a.kb} KB; {a.workers} client processes")
        print(f"{'measure':<22} {'Dovecot':>10} {'pop3-mock':>10} {'mock/Dovecot':>13}")
        for title, mode, amount, unit in (("sessions/s", "sessions", a.seconds, ""),
                                          ("MB/s served (RETR)", "retr", a.rounds, "")):
            d = load(a.bin_dir, host, env["DOVECOT_PORT"], user, pw, mode, a.workers, amount)
            m = load(a.bin_dir, host, mock_port, user, pw, mode, a.workers, amount)
            print(f"{title:<22} {d:>10.1f} {m:>10.1f} {m / d:>12.2f}x")
    finally:
        if mock:
            mock.terminate()
            mock.wait()
        subprocess.run(["bash", PEER, "stop", dv])
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
