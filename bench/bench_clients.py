#!/usr/bin/env python3
"""bench_clients.py - retrieve a whole mailbox from a real server with pop3kit's `pop3 fetch`
and with the clients people use (Python's poplib, curl, mpop), in one run, and print the
ratio of each to pop3kit.

Server: Debian's Dovecot on loopback (conformance/peers/dovecot.sh). Workloads: (a) 2,000
messages of 10 KB, (b) one message of 100 MB; each plain and over implicit TLS. Every
client stores what it retrieves on disk (Maildir for pop3 and mpop, one file per message
for poplib and curl); figures are the median of the runs, each started after sync(2), so
that no client pays for what the others left unwritten. Memory is the peak resident
set of the client process.

pop3-nosync is `pop3 fetch --no-fsync` (a hidden option for benchmarks): pop3kit without the
durability that poplib and curl never pay for. Beside the clients, a "floor" row (bench_floor, built with the rest): no client, the least
time any client can take against this server for the same stream, so a result can be read
as a fraction of what the server allows. --tmpfs puts Dovecot's Maildir and every client's
output on /dev/shm, which takes the disk out of the comparison.

usage: bench_clients.py BUILD_BIN_DIR [--runs N] [--small N] [--big-mb N] [--only NAME,...]
                        [--tmpfs]
Needs root (Dovecot's mail user), dovecot-pop3d, curl, mpop, python3 and GNU time.
"""
import argparse
import itertools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from dovecot_env import read_env

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEER = os.path.join(TOP, "conformance", "peers", "dovecot.sh")
RUN_NUMBERS = itertools.count(1)  # each run's output folder is new (see fresh())


def sh(*args, **kw):
    return subprocess.run(list(args), check=True, **kw)


def make_message(size, seq):
    """A message of about `size` octets: headers, then 76-octet CRLF lines."""
    head = (f"From: bench@example.com\r\nTo: tester@example.com\r\n"
            f"Subject: message {seq}\r\nMessage-ID: <{seq}@bench>\r\n\r\n").encode()
    line = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijkl\r\n"
    body = bytearray()
    while len(head) + len(body) + len(line) <= size:
        body += line
    return head + bytes(body)


def fill(dovecot_dir, count, size):
    env = read_env(dovecot_dir)
    maildir = env["DOVECOT_MAILDIR"]
    for sub in ("cur", "new"):
        for name in os.listdir(os.path.join(maildir, sub)):
            os.unlink(os.path.join(maildir, sub, name))
    # Remove Dovecot's index so the new mailbox is seen as it is.
    for name in os.listdir(maildir):
        if name.startswith("dovecot"):
            path = os.path.join(maildir, name)
            shutil.rmtree(path) if os.path.isdir(path) else os.unlink(path)
    owner = os.stat(maildir)
    for i in range(count):
        path = os.path.join(maildir, "new", f"{1000000000 + i}.P1Q{i}.bench")
        with open(path, "wb") as f:
            f.write(make_message(size, i))
        os.chown(path, owner.st_uid, owner.st_gid)
    return count * len(make_message(size, 0))


def timed(cmd, env=None):
    """Run `cmd`; return (seconds, peak RSS in MiB, CPU seconds, its stderr). GNU time measures the
    peak: a child forked from this (large) Python process would count our pages too."""
    rss_file = tempfile.NamedTemporaryFile(delete=False)
    rss_file.close()
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%M %U %S", "-o", rss_file.name] + cmd, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    secs = time.perf_counter() - t0
    with open(rss_file.name) as f:
        lines = f.read().split()
    os.unlink(rss_file.name)
    try:
        rss, cpu = int(lines[-3]) / 1024.0, float(lines[-2]) + float(lines[-1])
    except (IndexError, ValueError):
        rss, cpu = float("nan"), float("nan")
    err = p.stderr.decode(errors="replace")
    if p.returncode != 0:
        err = f"exit status {p.returncode}: {err}"
    return secs, rss, cpu, err


POPLIB = r"""
import os, poplib, ssl, sys
host, port, user, pw, out, tls, ca = sys.argv[1:8]
if tls == "1":
    ctx = ssl.create_default_context(cafile=ca)
    p = poplib.POP3_SSL(host, int(port), context=ctx)
else:
    p = poplib.POP3(host, int(port))
p.user(user); p.pass_(pw)
n, _ = p.stat()
for i in range(1, n + 1):
    resp, lines, octets = p.retr(i)
    with open(os.path.join(out, str(i)), "wb") as f:
        f.write(b"\r\n".join(lines) + b"\r\n")
p.quit()
"""


def clients(bin_dir, env, tls, work, count):
    host, user, pw, ca = env["DOVECOT_HOST"], env["DOVECOT_USER"], env["DOVECOT_PASSWORD"], env["DOVECOT_CA"]
    port = env["DOVECOT_TLS_PORT"] if tls else env["DOVECOT_PORT"]

    def fresh(name):
        # A new folder per run, all removed at the end (about 4 GB at the peak): removing
        # the last run's thousands of files just before the next run made ext4 search its
        # recently freed inodes for every file the next client created (recently_deleted(),
        # for about 35 s after a deletion: up to 0.7 s of CPU for 2,000 files), a cost no
        # client has outside a benchmark. For the same reason, do not start this right after
        # removing many files on the same file system.
        d = os.path.join(work, "runs", f"{name}-{next(RUN_NUMBERS)}")
        os.makedirs(d)
        return d

    def pop3kit():
        out = fresh("pop3kit")
        cmd = [os.path.join(bin_dir, "pop3"), "-H", host, "-p", port, "-u", user,
               "fetch", os.path.join(out, "Maildir")]
        if tls:
            cmd[1:1] = ["--tls", "--cafile", ca]
        return cmd, dict(os.environ, POP3_PASSWORD=pw)

    def pop3kit_nosync():
        # The same without fsync (a hidden option for benchmarks): what pop3kit costs when it
        # skips the durability that poplib and curl never pay for.
        cmd, env = pop3kit()
        cmd.insert(1, "--no-fsync")
        return cmd, env

    def poplib_cmd():
        out = fresh("poplib")
        script = os.path.join(work, "poplib_fetch.py")
        with open(script, "w") as f:
            f.write(POPLIB)
        return [sys.executable, script, host, port, user, pw, out, "1" if tls else "0", ca], None

    def curl():
        out = fresh("curl")
        scheme = "pop3s" if tls else "pop3"
        cmd = ["curl", "-s", "-S", "-u", f"{user}:{pw}", f"{scheme}://{host}:{port}/[1-{count}]",
               "-o", os.path.join(out, "#1")]
        if tls:
            cmd += ["--cacert", ca]
        return cmd, None

    def mpop():
        out = fresh("mpop")
        maildir = os.path.join(out, "Maildir")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(maildir, sub))
        conf = os.path.join(out, "mpoprc")
        with open(conf, "w") as f:
            f.write("defaults\n")
            f.write(f"account bench\nhost {host}\nport {port}\nuser {user}\npassword {pw}\n")
            f.write("auth user\n")
            if tls:
                f.write(f"tls on\ntls_starttls off\ntls_trust_file {ca}\n")
            else:
                f.write("tls off\n")
            f.write(f"keep on\nonly_new off\nreceived_header off\ndelivery maildir {maildir}\n")
            f.write(f"uidls_file {os.path.join(out, 'uidls')}\n")
        os.chmod(conf, 0o600)
        return ["mpop", "-C", conf, "-q", "bench"], None

    def floor():
        # Not a client: the least any client can take against this server (bench_floor.c).
        cmd = [os.path.join(bin_dir, "bench_floor"), host, port, user, str(count)]
        if tls:
            cmd += ["--tls", ca]
        return cmd, dict(os.environ, POP3_PASSWORD=pw)

    return [("pop3kit", pop3kit), ("pop3-nosync", pop3kit_nosync), ("poplib", poplib_cmd),
            ("curl", curl), ("mpop", mpop), ("floor", floor)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin_dir")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--small", type=int, default=2000, help="messages of 10 KB in workload (a)")
    ap.add_argument("--big-mb", type=int, default=100, help="size of the message of workload (b)")
    ap.add_argument("--only", default="", help="comma-separated client names")
    ap.add_argument("--tmpfs", action="store_true",
                    help="Dovecot's Maildir and every client's output on /dev/shm: no disk")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench_clients.py: needs root to run Dovecot's mail user")
    only = set(filter(None, a.only.split(",")))
    work = tempfile.mkdtemp(prefix="pop3kit-bench-", dir="/dev/shm" if a.tmpfs else None)
    os.chmod(work, 0o755)
    dv = os.path.join(work, "dovecot")
    sh("bash", PEER, "start", dv, stdout=subprocess.DEVNULL)
    try:
        env = read_env(dv)
        workloads = [("(a) %d x 10 KB" % a.small, a.small, 10 * 1000),
                     ("(b) 1 x %d MB" % a.big_mb, 1, a.big_mb * 1000 * 1000)]
        print(f"{'workload':<20} {'mode':<5} {'client':<11} {'seconds':>8} {'MB/s':>8} "
              f"{'cpu s':>8} {'peak MiB':>9} {'vs pop3kit':>10}")
        for title, count, size in workloads:
            total = fill(dv, count, size)
            # Dovecot indexes a new mailbox on first access: pay that before timing.
            sh(os.path.join(a.bin_dir, "pop3"), "-H", env["DOVECOT_HOST"], "-p",
               env["DOVECOT_PORT"], "-u", env["DOVECOT_USER"], "uidl",
               env=dict(os.environ, POP3_PASSWORD=env["DOVECOT_PASSWORD"]),
               stdout=subprocess.DEVNULL)
            for tls in (False, True):
                rows = []
                for name, make in clients(a.bin_dir, env, tls, work, count):
                    if only and name not in only:
                        continue
                    if name == "floor" and not os.access(os.path.join(a.bin_dir, "bench_floor"),
                                                         os.X_OK):
                        continue
                    if name not in ("pop3kit", "pop3-nosync", "poplib", "floor") and \
                            not shutil.which(name):
                        continue
                    times, rss, cpus, err = [], [], [], ""
                    for _ in range(a.runs):
                        cmd, cenv = make()
                        # What the mailbox fill and the clients before wrote is written out
                        # first: a client that syncs would otherwise pay for their dirty
                        # pages (syncfs, or an ext4 journal commit in ordered mode).
                        os.sync()
                        secs, peak, cpu, err = timed(cmd, env=cenv)
                        times.append(secs)
                        rss.append(peak)
                        cpus.append(cpu)
                    rows.append((name, statistics.median(times), max(rss),
                                 statistics.median(cpus), err))
                base = next((r[1] for r in rows if r[0] == "pop3kit"), None)
                for name, secs, peak, cpu, err in rows:
                    ratio = f"{secs / base:.2f}x" if base else "-"
                    mbs = total / secs / 1e6
                    print(f"{title:<20} {'tls' if tls else 'plain':<5} {name:<11} {secs:8.3f} "
                          f"{mbs:8.1f} {cpu:8.3f} {peak:9.1f} {ratio:>10}")
                    if err.strip() and name != "floor":
                        print(f"    {name} said: {err.strip().splitlines()[-1]}")
                peers = [r for r in rows if r[0] not in ("pop3kit", "pop3-nosync", "floor")]
                floor = next((r[1] for r in rows if r[0] == "floor"), None)
                best = min(peers, key=lambda r: r[1]) if peers else None
                if base and best:
                    print(f"    pop3kit against the best peer ({best[0]}): {best[1] / base:.2f}x")
                nosync = next((r[1] for r in rows if r[0] == "pop3-nosync"), None)
                if nosync and best:
                    print(f"    pop3kit without fsync against the best peer ({best[0]}): "
                          f"{best[1] / nosync:.2f}x")
                if base and floor:
                    print(f"    pop3kit at {floor / base:.2f} of the server's floor "
                          f"(1.00: as fast as this server lets any client be)")
        print("vs pop3kit: the client's time divided by pop3kit's (above 1: pop3kit is faster);")
        print("cpu s: the client's own user+system time. pop3 fetch syncs every message to disk")
        print("(Maildir), mpop too; poplib and curl write files without syncing; pop3-nosync is")
        print("pop3 fetch --no-fsync, the same without the syncs. floor: not a")
        print("client but bench_floor, which logs in as pop3 does, sends every RETR at once and")
        print("reads the replies into nothing: the server's own time for the same stream.")
    finally:
        subprocess.run(["bash", PEER, "stop", dv])
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
