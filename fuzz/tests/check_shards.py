#!/usr/bin/env python3
"""check_shards - a campaign split in two shards, then merged (fuzz/campaign --shard, --merge).

    check_shards.py --build-dir DIR --work DIR

DIR is a libFuzzer build tree (bin/fuzz_status and its dictionary; ctest passes the one
fuzz/tests/check_build_script.py builds). In --work this:
  1. checks that bad --shard/--seed/--merge arguments are refused (exit 2, a reason);
  2. runs shards 1/2 and 2/2 of the status target for a few seconds with base seed 7:
     libFuzzer must report seeds 15 and 16 (BASE*N+I), each shard works in its own
     directory, and corpus/ of the source tree is left as it was;
  3. plants findings in the shard directories: the same input in both shards without a
     report (it does not fail: one finding, told apart by its SHA-1), two different inputs
     whose reports (real AddressSanitizer reports of a small crashing target built here
     with clang) show the same kind and frames (one finding, the smaller input kept), one
     UndefinedBehaviorSanitizer report (a finding of its own); and the same input under two
     names in both shard corpora;
  4. merges the shards: exit 1 (findings), three distinct findings, a merged corpus made
     only of shard inputs, no input twice, with the coverage (libFuzzer's cov and ft) of
     all shard inputs together; a second merge into the same place changes nothing;
  5. runs a shard whose binary is that crashing target: it must exit 1 and file the
     minimised input in findings/ with the sanitizer's report beside it.
"""
import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CAMPAIGN = ROOT / "fuzz" / "campaign"
TARGET = "status"
SECONDS = 3

# A target with two distinct bugs: a heap overflow reached through `inner` for inputs
# starting with A (whatever their length), a signed overflow in `over` for U.
CRASHER = r"""
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
static int inner(const uint8_t *d, size_t n) {
    volatile char *p = malloc(4);
    memcpy((char *)p, d, n);
    int r = p[3];
    free((char *)p);
    return r;
}
static int over(int a) { return a + 2147483647; }
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    if (n > 4 && d[0] == 'A') return inner(d, n);
    if (n > 0 && d[0] == 'U') return over((int)n);
    return 0;
}
"""

faults = []


def fault(msg):
    print(f"check_shards: FAULT: {msg}")
    faults.append(msg)


def campaign(*args):
    cmd = [sys.executable, str(CAMPAIGN)] + [str(a) for a in args]
    res = subprocess.run(cmd, capture_output=True, text=True)
    return res.returncode, res.stdout + res.stderr


def sha1(path):
    return hashlib.sha1(path.read_bytes()).hexdigest()


def files(d):
    return sorted(p for p in d.iterdir() if p.is_file()) if d.is_dir() else []


def coverage(binary, dirs):
    """(cov, ft) libFuzzer reports after running every input of dirs once."""
    res = subprocess.run([str(binary), "-runs=0", "-max_len=1024"] + [str(d) for d in dirs],
                         capture_output=True, text=True)
    m = re.search(r"INITED cov: (\d+) ft: (\d+)", res.stderr)
    if res.returncode != 0 or not m:
        fault(f"{binary.name} -runs=0 {dirs}: exit {res.returncode}, no INITED line")
        return None
    return int(m.group(1)), int(m.group(2))


def check_usage(build):
    for args, reason in ((["--shard", "0/2"], "want I/N with 1 <= I <= N"),
                         (["--shard", "3/2"], "want I/N with 1 <= I <= N"),
                         (["--shard", "2"], "want I/N"),
                         (["--shard", "1/2", "--seed", "-1"], "must not be negative"),
                         (["--shard", "1/2", "--seed", str(2**31)], "BASE is at most 2147483646"),
                         # At the limit the seed is accepted: the next complaint is the target.
                         (["--shard", "2/2", "--seed", "2147483646", "nosuch"],
                          "unknown target(s): nosuch"),
                         (["--shard", "1/2", "--smoke"], "do not go together"),
                         (["--merge", "/nonexistent-shard-dir"], "not a directory"),
                         ([TARGET, "--merge", "."], "--merge takes shard directories only")):
        rc, out = campaign("--no-build", "--build-dir", build, *args)
        if rc != 2 or reason not in out:
            fault(f"campaign {' '.join(args)}: exit {rc}, want 2 and {reason!r}: {out[-300:]}")


def run_shards(build, work):
    before = {p.name: sha1(p) for p in files(ROOT / "corpus" / TARGET)}
    shards = []
    for i in (1, 2):
        out = work / f"shard{i}"
        rc, log = campaign("--no-build", "--build-dir", build, "--shard", f"{i}/2", "--seed", 7,
                           "--time", SECONDS, "--jobs", 1, "--out", out, TARGET)
        if rc != 0:
            fault(f"shard {i}/2 exit {rc}: {log[-1500:]}")
        fuzz_log = (out / TARGET / "fuzz.log").read_text(errors="replace") \
            if (out / TARGET / "fuzz.log").is_file() else ""
        m = re.search(r"INFO: Seed: (\d+)", fuzz_log)
        if not m or int(m.group(1)) != 7 * 2 + i:
            fault(f"shard {i}/2: libFuzzer's seed {m.group(1) if m else None}, want {7 * 2 + i}")
        shards.append(out)
    after = {p.name: sha1(p) for p in files(ROOT / "corpus" / TARGET)}
    if after != before:
        fault(f"the shards changed corpus/{TARGET}/ of the source tree")
    return shards


def build_crasher(work):
    src = work / "crasher.c"
    src.write_text(CRASHER)
    binary = work / "crasher"
    subprocess.run(["clang", "-g", "-O1", "-fsanitize=fuzzer,address,undefined",
                    "-fno-sanitize-recover=all", str(src), "-o", str(binary)], check=True)
    return binary


def report_of(binary, data, work):
    path = work / "input"
    path.write_bytes(data)
    res = subprocess.run([str(binary), str(path)], capture_output=True, text=True,
                         env=dict(os.environ, UBSAN_OPTIONS="print_stacktrace=1"))
    return res.stdout + res.stderr


def plant(shards, work, crasher):
    s1, s2 = (s / TARGET / "findings" for s in shards)
    for d in (s1, s2):
        d.mkdir(parents=True, exist_ok=True)
    # The same input in both shards, no report, no failure on replay: one finding by SHA-1.
    (s1 / "regress-same1").write_bytes(b"+OK same in both shards\r\n")
    (s2 / "regress-same2").write_bytes(b"+OK same in both shards\r\n")
    # Two inputs, one bug (heap overflow in `inner`): one finding, the smaller input kept.
    small, large = b"AAAAAAAA", b"AAAAAAAAAAAAAAAA"
    for d, name, data in ((s1, "regress-heap1", large), (s2, "regress-heap2", small)):
        (d / name).write_bytes(data)
        report = report_of(crasher, data, work)
        if "heap-buffer-overflow" not in report:
            fault(f"the crasher did not overflow on {data!r}: {report[-500:]}")
        (d / f"{name}.report").write_text(report)
    # Another bug: a finding of its own.
    (s2 / "regress-ub").write_bytes(b"UUUU")
    report = report_of(crasher, b"UUUU", work)
    if "runtime error" not in report:
        fault(f"the crasher did not overflow an int: {report[-500:]}")
    (s2 / "regress-ub.report").write_text(report)
    # The same corpus input in both shards under different names.
    for s, name in ((shards[0], "same-a"), (shards[1], "same-b")):
        (s / TARGET / "corpus" / name).write_bytes(b"+OK [SASL-IR] planted in both shards\r\n")
    return small


def check_merge(build, shards, work, small):
    merged = work / "merged"
    binary = build / "bin" / f"fuzz_{TARGET}"
    shard_corpora = [s / TARGET / "corpus" for s in shards]
    shard_inputs = {sha1(p) for d in shard_corpora for p in files(d)}
    results = []
    for attempt in (1, 2):
        rc, log = campaign("--no-build", "--build-dir", build, "--merge", *shards, "--out", merged)
        print(log)
        if rc != 1:
            fault(f"merge {attempt}: exit {rc}, want 1 (there are findings)")
        corpus = files(merged / TARGET / "corpus")
        digests = [sha1(p) for p in corpus]
        if len(set(digests)) != len(digests):
            fault(f"merge {attempt}: an input is in the merged corpus twice")
        if not set(digests) <= shard_inputs:
            fault(f"merge {attempt}: the merged corpus has inputs no shard had")
        if not corpus:
            fault(f"merge {attempt}: the merged corpus is empty")
        lines = (merged / "findings.txt").read_text().splitlines() \
            if (merged / "findings.txt").is_file() else []
        kept = [p for p in files(merged / TARGET / "findings") if not p.name.endswith(".report")]
        if len(lines) != 3 or len(kept) != 3:
            fault(f"merge {attempt}: {len(lines)} findings listed, {len(kept)} kept, want 3: {lines}")
        want = [("2 copies from 2 shards", "no failure on replay, sha1 "),
                ("2 copies from 2 shards", "AddressSanitizer: heap-buffer-overflow in inner < "),
                ("1 copy from 1 shard", "UndefinedBehaviorSanitizer: signed integer overflow in over")]
        for copies, signature in want:
            if not any(copies in l and signature in l for l in lines):
                fault(f"merge {attempt}: no finding '{copies}' '{signature}' in {lines}")
        heap = [l for l in lines if "heap-buffer-overflow" in l]
        if heap:
            path = merged / heap[0].split("\t")[2]
            if path.read_bytes() != small:
                fault(f"merge {attempt}: {path} is not the smaller of the two inputs")
            if "heap-buffer-overflow" not in path.with_name(path.name + ".report").read_text():
                fault(f"merge {attempt}: {path}'s report is not beside it")
        results.append(sorted(digests))
    if results[0] != results[1]:
        fault("a second merge of the same shards changed the merged corpus")
    union = coverage(binary, shard_corpora)
    got = coverage(binary, [merged / TARGET / "corpus"])
    print(f"check_shards: coverage (cov, ft) of the shards' inputs {union}, merged {got}; "
          f"{len(shard_inputs)} distinct shard inputs, {len(results[0])} merged")
    if union and got and union != got:
        fault(f"the merged corpus covers {got}, the shards together {union}")


def check_finding_shard(work, crasher):
    """A shard that finds a failure files it, minimised, with its report."""
    build = work / "crash-build"
    (build / "bin").mkdir(parents=True)
    shutil.copy(crasher, build / "bin" / f"fuzz_{TARGET}")
    shutil.copy(ROOT / "fuzz" / "pop3.dict", build / "bin" / f"fuzz_{TARGET}.dict")
    out = work / "crash-shard"
    rc, log = campaign("--no-build", "--build-dir", build, "--shard", "1/1", "--time", 5,
                       "--jobs", 1, "--out", out, TARGET)
    found = [p for p in files(out / TARGET / "findings") if not p.name.endswith(".report")]
    if rc != 1 or not found:
        fault(f"a shard on a crashing target: exit {rc}, {len(found)} findings: {log[-1500:]}")
        return
    for p in found:
        report = p.with_name(p.name + ".report")
        text = report.read_text() if report.is_file() else ""
        if not re.search(r"runtime error|ERROR: AddressSanitizer", text):
            fault(f"{p} has no sanitizer report beside it")
    print(f"check_shards: the crashing shard filed {len(found)} findings with reports")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    args = parser.parse_args()
    build, work = args.build_dir.resolve(), args.work.resolve()
    if not (build / "bin" / f"fuzz_{TARGET}").is_file():
        print(f"check_shards: no {build}/bin/fuzz_{TARGET}: build the fuzz targets first")
        return 1
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    check_usage(build)
    shards = run_shards(build, work)
    crasher = build_crasher(work)
    small = plant(shards, work, crasher)
    check_merge(build, shards, work, small)
    check_finding_shard(work, crasher)
    print(f"check_shards: {len(faults)} faults")
    return 1 if faults else 0


if __name__ == "__main__":
    sys.exit(main())
