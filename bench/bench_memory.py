#!/usr/bin/env python3
"""bench_memory.py - peak memory of `pop3 fetch`, `pop3 retr N` and pop3-mock against the size
and the number of messages: one message of 1 MB, 100 MB and 1 GB, and 1, 1000 and 10000
messages of 10 KB (bench_clients.py's message shape), plain and over implicit TLS.

Everything lives on tmpfs (/dev/shm, --work): the Maildir pop3-mock --maildrop serves and
the Maildir `pop3 fetch` fills (a 1 GB message takes 2 GB of RAM while it is fetched).
For each workload and mode a fresh pop3-mock is started, `pop3 fetch` retrieves every
message, then `pop3 retr N` writes the last message to /dev/null. Figures: the peak
resident set in MiB of each pop3 process (GNU time %M) and of pop3-mock over its whole life
(VmHWM: the startup scan of the maildrop and both sessions), and for each column the ratio
of its largest to its smallest peak (1.00x: flat). Exit status is non-zero only when
something fails.

usage: bench_memory.py BUILD_BIN_DIR [--sizes-mb 1,100,1000] [--counts 1,1000,10000] [--work DIR]
Needs python3, openssl(1) and GNU time (/usr/bin/time).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

from bench_ceiling import USER, PASSWORD, make_cert, start
from bench_clients import make_message

LINE = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijkl\r\n"


def write_message(path, size, seq):
    """make_message(size, seq) written in pieces, so that 1 GB never sits in this process."""
    head = make_message(0, seq)  # the headers alone: no body line fits in 0 octets
    lines = (size - len(head)) // len(LINE) if size > len(head) else 0
    piece = LINE * 16384
    with open(path, "wb") as f:
        f.write(head)
        while lines > 0:
            k = min(lines, 16384)
            f.write(piece if k == 16384 else LINE * k)
            lines -= k
    return os.path.getsize(path)


def write_maildir(path, count, size):
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(path, sub), exist_ok=True)
    return sum(write_message(os.path.join(path, "new", f"{1000000000 + i}.P1Q{i}.bench"),
                             size, i) for i in range(count))


def peak_of(cmd, env, stdout=subprocess.DEVNULL):
    """Run `cmd` under GNU time; its peak RSS in MiB, or raise when it fails."""
    fd, tfile = tempfile.mkstemp()
    os.close(fd)
    p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", tfile] + cmd, env=env, stdout=stdout,
                       stderr=subprocess.PIPE)
    with open(tfile) as f:
        words = f.read().split()
    os.unlink(tfile)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit status {p.returncode}: "
                           f"{p.stderr.decode(errors='replace').strip()}")
    return int(words[-1]) / 1024.0


def vm_hwm(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError("no VmHWM in /proc/PID/status")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin_dir")
    ap.add_argument("--sizes-mb", default="1,100,1000", help="sizes of the single message")
    ap.add_argument("--counts", default="1,1000,10000", help="numbers of 10 KB messages")
    ap.add_argument("--work", default="/dev/shm", help="tmpfs folder for every file")
    a = ap.parse_args()
    pop3 = os.path.join(a.bin_dir, "pop3")
    mock_bin = os.path.join(a.bin_dir, "pop3-mock")
    workloads = [(f"1 x {mb} MB", 1, mb * 1000 * 1000) for mb in map(int, a.sizes_mb.split(","))]
    workloads += [(f"{n} x 10 KB", n, 10 * 1000) for n in map(int, a.counts.split(","))]
    work = tempfile.mkdtemp(prefix="pop3kit-memory-", dir=a.work)
    mock = None
    failed = False
    rows = []
    try:
        cert, certkey = make_cert(work)
        penv = dict(os.environ, POP3_PASSWORD=PASSWORD)
        print(f"{'workload':<16} {'mode':<5} {'fetch MiB':>10} {'retr MiB':>10} {'mock MiB':>10}")
        for title, count, size in workloads:
            md = os.path.join(work, "maildrop")
            write_maildir(md, count, size)
            for tls in (False, True):
                cmd = [mock_bin, "--maildrop", md, "--user", USER, "--password", PASSWORD,
                       "--listen", "127.0.0.1:0"]
                if tls:
                    cmd += ["--implicit-tls", "--tls-cert", certkey]
                mock, port = start(cmd, "pop3-mock listening on ")
                base = [pop3, "-H", "127.0.0.1", "-p", str(port), "-u", USER]
                if tls:
                    base += ["--tls", "--cafile", cert]
                out = os.path.join(work, "Maildir")
                fetch = peak_of(base + ["fetch", out], penv)
                got = sum(os.path.getsize(os.path.join(out, "new", n))
                          for n in os.listdir(os.path.join(out, "new")))
                if len(os.listdir(os.path.join(out, "new"))) != count or got == 0:
                    raise RuntimeError(f"{title}: pop3 fetch stored a wrong Maildir")
                shutil.rmtree(out)
                retr = peak_of(base + ["retr", str(count)], penv)
                served = vm_hwm(mock.pid)
                mock.terminate()
                mock.wait()
                mock = None
                mode = "tls" if tls else "plain"
                rows.append((title, mode, fetch, retr, served))
                print(f"{title:<16} {mode:<5} {fetch:10.1f} {retr:10.1f} {served:10.1f}",
                      flush=True)
            shutil.rmtree(md)
        for mode in ("plain", "tls"):
            mine = [r for r in rows if r[1] == mode]
            spread = [max(r[i] for r in mine) / min(r[i] for r in mine) for i in (2, 3, 4)]
            print(f"{'largest/smallest':<16} {mode:<5} " +
                  " ".join(f"{x:9.2f}x" for x in spread))
        print("peak resident set: pop3 fetch and pop3 retr (GNU time %M), pop3-mock over its life")
        print("(VmHWM: maildrop scan, then the fetch and the retr sessions).")
    except (RuntimeError, OSError, subprocess.CalledProcessError) as e:
        print(f"bench_memory.py: {e}", file=sys.stderr)
        failed = True
    finally:
        if mock is not None:
            mock.terminate()
            mock.wait()
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
