#!/usr/bin/env python3
"""bench_fuzz.py - executions per second of every libFuzzer target on one core, for the
table in fuzz/README.md.

Each target runs alone, pinned to one core (taskset), for SECONDS from a copy of its
corpus (corpus/NAME/, so nothing is written into the tree), with the max_len of its
NAME.options and its dictionary, and the figure is libFuzzer's own
stat::average_exec_per_sec. An empty target (a fuzzer that returns at once, built here
with the same flags) runs first: libFuzzer's ceiling on this machine. The load average
before and after each run is printed beside it, since a core shared with other work
gives fewer executions. No figure is asserted: this is a measurement, not a test.

usage: bench_fuzz.py BUILD_FUZZ_DIR [--seconds S] [--core N] [NAME ...]
BUILD_FUZZ_DIR: a clang build with -DPOP3_FUZZ=ON (fuzz/README.md, "Fuzzing").
"""
import argparse
import configparser
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def options(name):
    cp = configparser.ConfigParser()
    cp.read(os.path.join(TOP, "fuzz", name + ".options"))
    return cp["libfuzzer"].get("max_len", "4096") if cp.has_section("libfuzzer") else "4096"


def run(binary, args, seconds, core, corpus):
    work = tempfile.mkdtemp(prefix="pop3kit-bench-fuzz-")
    try:
        if corpus and os.path.isdir(corpus):
            for f in os.listdir(corpus):
                shutil.copy(os.path.join(corpus, f), work)
        before = load()
        p = subprocess.run(["taskset", "-c", str(core), binary, f"-max_total_time={seconds}",
                            "-print_final_stats=1"] + args + [work],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                           errors="replace")
        after = load()
        m = re.search(r"stat::average_exec_per_sec:\s+(\d+)", p.stderr)
        return (int(m.group(1)) if m else None), before, after
    finally:
        shutil.rmtree(work, ignore_errors=True)


def empty_target(work):
    src = os.path.join(work, "empty.c")
    exe = os.path.join(work, "fuzz_empty")
    with open(src, "w") as f:
        f.write("#include <stddef.h>\n#include <stdint.h>\n"
                "int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)"
                " { (void)d; (void)n; return 0; }\n")
    r = subprocess.run(["clang", "-O1", "-fsanitize=fuzzer,address,undefined", src, "-o", exe])
    return exe if r.returncode == 0 else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build_fuzz_dir")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--core", type=int, default=1)
    ap.add_argument("names", nargs="*")
    a = ap.parse_intermixed_args()
    bindir = os.path.join(a.build_fuzz_dir, "bin")
    names = a.names or sorted(os.path.basename(p)[5:]
                              for p in glob.glob(os.path.join(bindir, "fuzz_*"))
                              if os.access(p, os.X_OK) and "." not in os.path.basename(p))
    if not names:
        sys.exit(f"bench_fuzz.py: no fuzz_* binaries in {bindir}")
    print(f"| target | max_len | exec/s on one core | load before → after |")
    print("|---|---|---|---|")
    work = tempfile.mkdtemp(prefix="pop3kit-bench-fuzz-empty-")
    try:
        exe = empty_target(work)
        if exe:
            n, b, e = run(exe, [], a.seconds, a.core, None)
            print(f"| (empty target: libFuzzer's ceiling) | - | {n} | {b:.2f} → {e:.2f} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for name in names:
        ml = options(name)
        args = [f"-max_len={ml}"]
        d = os.path.join(bindir, f"fuzz_{name}.dict")
        if os.path.exists(d):
            args.append(f"-dict={d}")
        n, b, e = run(os.path.join(bindir, f"fuzz_{name}"), args, a.seconds, a.core,
                      os.path.join(TOP, "corpus", name))
        print(f"| `{name}` | {ml} | {n if n is not None else 'failed'} | {b:.2f} → {e:.2f} |",
              flush=True)


if __name__ == "__main__":
    main()
