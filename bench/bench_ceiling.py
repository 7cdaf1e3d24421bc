#!/usr/bin/env python3
"""bench_ceiling.py - `pop3 fetch` from pop3-mock served from memory, against the loopback
ceiling measured in the same run: the same octets copied from one process to another
(bench_copy), in clear and over TLS with the version and cipher the pop3kit run negotiated.

Workloads: (a) 1000 messages of 10 KB, (b) one message of 100 MB (bench_clients.py's
message shape). Everything lives on tmpfs (/dev/shm): pop3-mock --maildrop serves a Maildir
there, so every RETR is read from the page cache, and both receivers write there. (The mock
library can also hold messages in memory, pop3mock_maildrop_add, but pop3-mock has no option
for it; a file on tmpfs costs one read(2) copy per chunk, which the ceiling's sender pays too.)

pop3kit side: `pop3-mock --maildrop` (plain, and --implicit-tls with a self-signed
certificate made for the run), started once the maildrop has been left alone for REST
seconds (a Maildir at rest between deliveries, which a login need not read whole, see
pop3-mock's README); `pop3 fetch` into a fresh Maildir per run
(its defaults: CRLF stored as LF, fsync, which tmpfs makes free).
Ceiling side: the exact octet stream pop3-mock sent to `pop3 fetch` (greeting, replies and
RETR responses, captured through a relay before timing) served by `bench_copy send`
(started once, the stream file read again per connection) and received by `bench_copy
recv`, which writes every octet to one file on the same tmpfs ("ceiling"), or to one file
per message for (a) ("ceil+files": the file creation a Maildir cannot avoid), or to one
file per message created in tmp/ and renamed into new/ once complete ("ceil+mdir": the
delivery maildir(5) asks for, which `pop3 fetch` does too). The ceiling has no protocol:
no commands, no round trips, no parsing, no CRLF conversion, and (but for ceil+mdir) no
rename.
Floor side: bench_floor (the least a client can do, see bench_floor.c) against the same
pop3-mock: it logs in (AUTH CRAM-MD5), sends every RETR at once, reads to the end and keeps
nothing. It pays what the protocol and this server cost (the login, the mock's maildrop
scan, its reading and byte-stuffing of each message) and nothing of a client's storage:
pop3kit's ratio to it is the client's own share of the gap; the floor's ratio to the
ceiling is the server's and the protocol's.

What is timed, on both sides alike: the receiving process from spawn to exit, the server
already listening: process start, TCP connect, TLS handshake (same version and suite,
certificate verified), for pop3kit also login and the listing, every octet, and the
receiver's writes. Whole processes are what a user waits for, and the part a library
cannot hide (exec, dynamic loading, the handshake) weighs the same on both sides.
Figures: median seconds of --runs runs (pop3kit and ceiling runs interleaved), MB/s of the
message octets, CPU seconds of the receiver (wait4) and of the server (/proc/PID/schedstat);
ratio: that side's seconds / pop3kit seconds (pop3kit's share of the ceiling's speed; the goal
is >= 0.8); cpu ratio: the same for the CPU seconds of both ends together, which a loaded
machine disturbs less. Exit status is non-zero only when something fails, never on a ratio.

usage: bench_ceiling.py BUILD_BIN_DIR [--runs N] [--small N] [--big-mb N] [--work DIR]
Needs python3 and openssl(1); bench_copy is built with POP3_TLS.
"""
import argparse
import os
import selectors
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from bench_clients import make_message

USER, PASSWORD = "bench", "secret"
# Seconds the maildrop is left alone once written (pop3-mock's POP3MOCK_STAMP_MARGIN_NS is 2).
REST = 2.5


def write_maildir(path, count, size):
    """A Maildir of `count` messages of about `size` octets; returns their total size."""
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(path, sub), exist_ok=True)
    total = 0
    for i in range(count):
        data = make_message(size, i)
        with open(os.path.join(path, "new", f"{1000000000 + i}.P1Q{i}.bench"), "wb") as f:
            f.write(data)
        total += len(data)
    return total


def make_cert(work):
    pem = os.path.join(work, "cert.pem")
    key = os.path.join(work, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", pem, "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    both = os.path.join(work, "certkey.pem")
    with open(both, "wb") as f:
        for p in (pem, key):
            with open(p, "rb") as g:
                f.write(g.read())
    return pem, both


def start(cmd, prefix):
    """Start a server that prints `prefix...:PORT` when it listens; returns (Popen, port)."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline().strip()
    if not line.startswith(prefix):
        p.kill()
        raise RuntimeError(f"{cmd[0]} did not start: {line!r}")
    return p, int(line.rsplit(":", 1)[1])


def cpu_of(pid):
    """CPU seconds of a running process so far (schedstat: nanoseconds, all threads)."""
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0]) / 1e9


def timed(cmd, env=None):
    """Run `cmd` from spawn to exit: (seconds, CPU seconds, stderr), or raise on failure.
    wait4 gives the child's own user+system time to the microsecond."""
    errf = tempfile.TemporaryFile()
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=errf)
    _, status, ru = os.wait4(p.pid, 0)
    secs = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    errf.seek(0)
    err = errf.read().decode(errors="replace")
    errf.close()
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit status {p.returncode}: {err.strip()}")
    return secs, ru.ru_utime + ru.ru_stime, err


def timed_out(cmd, env):
    """timed() for bench_floor, which prints "octets N messages N login S stream S" on
    stdout: (seconds, CPU seconds, messages, login seconds, stream seconds)."""
    outf, errf = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, stdout=outf, stderr=errf)
    _, status, ru = os.wait4(p.pid, 0)
    secs = time.perf_counter() - t0
    text = []
    for f in (outf, errf):
        f.seek(0)
        text.append(f.read().decode(errors="replace"))
        f.close()
    out = text[0].split()
    if os.waitstatus_to_exitcode(status) != 0 or "messages" not in out:
        raise RuntimeError(f"{' '.join(cmd)}: failed: {text[1].strip()}")
    field = {k: out[i + 1] for i, k in enumerate(out[:-1]) if k in ("messages", "login", "stream")}
    return (secs, ru.ru_utime + ru.ru_stime, int(field["messages"]), float(field["login"]),
            float(field["stream"]))


def capture(port, out_path, run_client):
    """Relay one connection to 127.0.0.1:`port` and keep every octet the server sent in
    `out_path`; `run_client(relay_port)` makes the connection. Returns the octet count."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    count = [0]

    def relay():
        c, _ = ls.accept()
        s = socket.create_connection(("127.0.0.1", port))
        sel = selectors.DefaultSelector()
        sel.register(c, selectors.EVENT_READ, s)
        sel.register(s, selectors.EVENT_READ, c)
        open_ends = 2
        with open(out_path, "wb") as out:
            while open_ends:
                for key, _ in sel.select():
                    data = key.fileobj.recv(1 << 18)
                    if not data:
                        sel.unregister(key.fileobj)
                        key.data.shutdown(socket.SHUT_WR)
                        open_ends -= 1
                        continue
                    if key.fileobj is s:
                        out.write(data)
                        count[0] += len(data)
                    key.data.sendall(data)
        c.close()
        s.close()

    t = threading.Thread(target=relay)
    t.start()
    run_client(ls.getsockname()[1])
    t.join()
    ls.close()
    return count[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin_dir")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--small", type=int, default=1000, help="messages of 10 KB in workload (a)")
    ap.add_argument("--big-mb", type=int, default=100, help="size of the message of workload (b)")
    ap.add_argument("--work", default="/dev/shm", help="tmpfs folder for every file")
    a = ap.parse_args()
    pop3 = os.path.join(a.bin_dir, "pop3")
    mock_bin = os.path.join(a.bin_dir, "pop3-mock")
    copy_bin = os.path.join(a.bin_dir, "bench_copy")
    floor_bin = os.path.join(a.bin_dir, "bench_floor")
    for b in (pop3, mock_bin, copy_bin, floor_bin):
        if not os.access(b, os.X_OK):
            sys.exit(f"bench_ceiling.py: {b} is missing (bench_copy and bench_floor need "
                     "POP3_TLS=ON)")
    work = tempfile.mkdtemp(prefix="pop3kit-ceiling-", dir=a.work)
    procs = []
    failed = False
    try:
        cert, certkey = make_cert(work)
        penv = dict(os.environ, POP3_PASSWORD=PASSWORD)
        workloads = [("(a) %d x 10 KB" % a.small, a.small, 10 * 1000),
                     ("(b) 1 x %d MB" % a.big_mb, 1, a.big_mb * 1000 * 1000)]
        print(f"{'workload':<18} {'mode':<5} {'side':<10} {'seconds':>8} {'MB/s':>8} "
              f"{'rcv cpu':>8} {'srv cpu':>8} {'ratio':>7} {'cpu ratio':>9}")
        for title, count, size in workloads:
            md = os.path.join(work, f"maildrop-{count}")
            total = write_maildir(md, count, size)
            # At rest, as a Maildir between deliveries is: pop3-mock reads a folder whose
            # modification time is under 2 seconds old whole at each login (a change made
            # within the same clock tick could leave that time as it was).
            time.sleep(max(0.0, REST - (time.time() - os.stat(os.path.join(md, "new")).st_mtime)))
            stream = os.path.join(work, f"stream-{count}")
            mocks = {}
            for tls in (False, True):
                cmd = [mock_bin, "--maildrop", md, "--user", USER, "--password", PASSWORD,
                       "--no-lock", "--idle-timeout", "0", "--listen", "127.0.0.1:0"]
                if tls:
                    cmd += ["--implicit-tls", "--tls-cert", certkey]
                mocks[tls] = start(cmd, "pop3-mock listening on ")
                procs.append(mocks[tls][0])

            def fetch_cmd(tls, port, maildir, verbose=False):
                cmd = [pop3, "-H", "127.0.0.1", "-p", str(port), "-u", USER]
                if tls:
                    cmd += ["--tls", "--cafile", cert]
                if verbose:
                    cmd.append("-v")
                return cmd + ["fetch", maildir]

            out_md = os.path.join(work, "Maildir")
            # Warm-up, and what the TLS run negotiates ("* TLS established: V, CIPHER").
            shutil.rmtree(out_md, ignore_errors=True)
            _, _, err = timed(fetch_cmd(True, mocks[True][1], out_md, verbose=True), penv)
            line = next(l for l in err.splitlines() if "TLS established:" in l)
            version, cipher = [w.strip() for w in line.split(":", 1)[1].split(",")]

            def through_relay(port):
                shutil.rmtree(out_md, ignore_errors=True)
                timed(fetch_cmd(False, port, out_md), penv)

            octets = capture(mocks[False][1], stream, through_relay)
            copies = {}
            for tls in (False, True):
                cmd = [copy_bin, "send", stream]
                if tls:
                    cmd += ["--tls", certkey, "--tls-version", version, "--cipher", cipher]
                copies[tls] = start(cmd, "bench_copy listening on ")
                procs.append(copies[tls][0])

            def run_pop3(tls):
                shutil.rmtree(out_md, ignore_errors=True)
                srv = mocks[tls][0].pid
                c0 = cpu_of(srv)
                secs, cpu, _ = timed(fetch_cmd(tls, mocks[tls][1], out_md), penv)
                got = len(os.listdir(os.path.join(out_md, "new")))
                if got != count:
                    raise RuntimeError(f"pop3 fetch stored {got} messages of {count}")
                return secs, cpu, cpu_of(srv) - c0

            floor_parts = {False: [], True: []}

            def run_floor(tls):
                cmd = [floor_bin, "127.0.0.1", str(mocks[tls][1]), USER, str(count)]
                if tls:
                    cmd += ["--tls", cert]
                srv = mocks[tls][0].pid
                c0 = cpu_of(srv)
                secs, cpu, got, login, stream = timed_out(cmd, penv)
                if got != count:
                    raise RuntimeError(f"bench_floor received {got} messages of {count}")
                floor_parts[tls].append((login, stream))
                return secs, cpu, cpu_of(srv) - c0

            copy_dir = os.path.join(work, "copy")
            split = -(-octets // count)  # as many files as messages

            def run_copy(tls, files=False, maildir=False):
                shutil.rmtree(copy_dir, ignore_errors=True)
                os.mkdir(copy_dir)
                copy_out = os.path.join(copy_dir, "out")
                landed = copy_dir
                if maildir:
                    landed = os.path.join(copy_dir, "new")
                    os.mkdir(landed)
                    os.mkdir(os.path.join(copy_dir, "tmp"))
                    copy_out = os.path.join(copy_dir, "tmp", "out")
                cmd = [copy_bin, "recv", str(copies[tls][1]), copy_out]
                if tls:
                    cmd += ["--cafile", cert, "--tls-version", version, "--cipher", cipher]
                if files:
                    cmd += ["--split", str(split)]
                if maildir:
                    cmd += ["--rename-to", landed]
                srv = copies[tls][0].pid
                c0 = cpu_of(srv)
                secs, cpu, err = timed(cmd)
                if maildir and os.listdir(os.path.join(copy_dir, "tmp")):
                    raise RuntimeError("bench_copy left files in tmp/")
                got = sum(os.path.getsize(os.path.join(landed, n)) for n in os.listdir(landed))
                if got != octets:
                    raise RuntimeError(f"bench_copy received {got} octets of {octets}")
                if tls and cipher not in err:
                    raise RuntimeError(f"bench_copy negotiated something else: {err.strip()}")
                return secs, cpu, cpu_of(srv) - c0

            sides = ["pop3kit", "floor", "ceiling"] + (["ceil+files", "ceil+mdir"]
                                                       if count > 1 else [])
            run = {"pop3kit": run_pop3, "floor": run_floor, "ceiling": run_copy,
                   "ceil+files": lambda tls: run_copy(tls, files=True),
                   "ceil+mdir": lambda tls: run_copy(tls, files=True, maildir=True)}
            for tls in (False, True):
                run["ceiling"](tls)
            res = {(tls, side): [] for tls in (False, True) for side in sides}
            for _ in range(a.runs):
                for tls in (False, True):
                    for side in sides:
                        res[(tls, side)].append(run[side](tls))
            for tls in (False, True):
                med = {side: [statistics.median(x[i] for x in res[(tls, side)])
                              for i in range(3)] for side in sides}
                mode = "tls" if tls else "plain"
                for side in sides:
                    secs, cpu, scpu = med[side]
                    ratio = cpu_ratio = ""
                    if side != "pop3kit":
                        ratio = f"{secs / med['pop3kit'][0]:.2f}x"
                        mine = med["pop3kit"][1] + med["pop3kit"][2]
                        cpu_ratio = f"{(cpu + scpu) / mine:.2f}x"
                    print(f"{title:<18} {mode:<5} {side:<10} {secs:8.3f} "
                          f"{total / secs / 1e6:8.1f} {cpu:8.3f} {scpu:8.3f} {ratio:>7} "
                          f"{cpu_ratio:>9}", flush=True)
            for tls in (False, True):
                login = statistics.median(x[0] for x in floor_parts[tls])
                retr = statistics.median(x[1] for x in floor_parts[tls])
                print(f"{'':<18} floor {'tls' if tls else 'plain'}: {login * 1e3:.1f} ms from "
                      f"connect to the login's +OK, {retr * 1e3:.1f} ms from the first RETR "
                      "to the end (medians)")
            print(f"{'':<18} stream {octets} octets for {total} message octets; "
                  f"TLS: {version}, {cipher}")
            for p in (mocks[False][0], mocks[True][0], copies[False][0], copies[True][0]):
                p.terminate()
                p.wait()
                procs.remove(p)
            shutil.rmtree(md)
            os.unlink(stream)
        print("ratio: that side's seconds / pop3kit's (pop3kit's speed as a share of that side's;")
        print("1.00x: as fast). cpu ratio: the same for CPU seconds of both ends together, steadier")
        print("than seconds on a loaded machine. floor: bench_floor against the same pop3-mock")
        print("(login, every RETR at once, nothing stored): what any client of this server pays.")
        print("ceil+files: the copy written as one file per message; ceil+mdir: the same, each")
        print("file made in tmp/ and renamed into new/. seconds: the receiver from spawn to exit,")
        print("median; rcv/srv cpu: user+system of the receiver (pop3 fetch, bench_floor,")
        print("bench_copy recv) and of the server (pop3-mock, bench_copy send).")
    except (RuntimeError, OSError, subprocess.CalledProcessError, StopIteration) as e:
        print(f"bench_ceiling.py: {e}", file=sys.stderr)
        failed = True
    finally:
        for p in procs:
            p.terminate()
            p.wait()
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
