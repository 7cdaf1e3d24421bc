#!/usr/bin/env python3
"""check_build_script - run the ClusterFuzzLite and OSS-Fuzz build scripts the way their
builder image does, and check what they leave in $OUT.

    check_build_script.py --work DIR [--root DIR]

Lays DIR out like gcr.io/oss-fuzz-base/base-builder after the project's Dockerfile ran:
$SRC/pop3kit (the checkout) and $SRC/build.sh (the script the Dockerfile copies there),
and runs `bash -eu $SRC/build.sh` from $SRC/pop3kit with only the environment that image
sets for a libFuzzer + AddressSanitizer build: CC=clang, CXX=clang++, CFLAGS/CXXFLAGS
(-fsanitize=address -fsanitize=fuzzer-no-link ...), LIB_FUZZING_ENGINE=-fsanitize=fuzzer,
SANITIZER, FUZZING_ENGINE, ARCHITECTURE, SRC, OUT, WORK. First .clusterfuzzlite/build.sh
(into DIR/out-cflite), then fuzz/oss-fuzz/build.sh (into DIR/out-ossfuzz; same $WORK, so
the second build is incremental).

Each $OUT must then hold, for every target pop3_add_fuzzer names in fuzz/CMakeLists.txt
and nothing else: fuzz_NAME (a libFuzzer binary with coverage counters and ASan),
fuzz_NAME.dict (pop3.dict then NAME.dict), fuzz_NAME.options (NAME.options) and
fuzz_NAME_seed_corpus.zip (exactly the files of corpus/NAME/). Each binary runs its seed
corpus once with its dictionary (-runs=0), which also proves the dictionary parses.
The scratch directory DIR/work is kept between runs (the build tree); DIR/out-* are not.
Last, a copy of a good $OUT with a seed corpus zip removed, a dictionary emptied and a stray
file added must give those three faults (the check can fail).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# What base-builder sets for SANITIZER=address, FUZZING_ENGINE=libfuzzer (its compile
# script adds the sanitizer and engine flags to the image's CFLAGS).
BUILDER_CFLAGS = ("-O1 -fno-omit-frame-pointer -gline-tables-only "
                  "-DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION "
                  "-fsanitize=address -fsanitize-address-use-after-scope "
                  "-fsanitize=fuzzer-no-link")


def targets_of(root):
    """The targets fuzz/CMakeLists.txt registers: pop3_add_fuzzer(NAME ...)."""
    text = (root / "fuzz" / "CMakeLists.txt").read_text()
    return sorted(re.findall(r"^\s*pop3_add_fuzzer\((\w+)", text, re.M))


def run_build(script, root, work, out):
    src = work / "src"
    src.mkdir(parents=True, exist_ok=True)
    link = src / "pop3kit"
    if not link.exists():
        link.symlink_to(root, target_is_directory=True)
    shutil.copy(script, src / "build.sh")  # COPY build.sh $SRC/ of the Dockerfile
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    (work / "work").mkdir(exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "CC": "clang", "CXX": "clang++",
        "CFLAGS": BUILDER_CFLAGS, "CXXFLAGS": BUILDER_CFLAGS,
        "LIB_FUZZING_ENGINE": "-fsanitize=fuzzer",
        "SANITIZER": "address", "FUZZING_ENGINE": "libfuzzer", "ARCHITECTURE": "x86_64",
        "SRC": str(src), "OUT": str(out), "WORK": str(work / "work"),
    }
    log = work / f"{out.name}.log"
    started = time.monotonic()
    with open(log, "w") as f:
        rc = subprocess.run(["bash", "-eu", str(src / "build.sh")], cwd=link, env=env,
                            stdout=f, stderr=subprocess.STDOUT).returncode
    print(f"{script.relative_to(root)}: exit {rc} after {time.monotonic() - started:.0f} s "
          f"(log {log})")
    if rc != 0:
        print(log.read_text()[-3000:])
    return rc


def check_out(root, out, targets):
    faults = []
    expected = set()
    for t in targets:
        name = f"fuzz_{t}"
        expected |= {name, f"{name}.dict", f"{name}.options", f"{name}_seed_corpus.zip"}
        binary = out / name
        if not (binary.is_file() and os.access(binary, os.X_OK)):
            faults.append(f"{out.name}: {name} is missing or not executable")
            continue
        want_dict = (root / "fuzz" / "pop3.dict").read_text() + (root / "fuzz" / f"{t}.dict").read_text()
        if not (out / f"{name}.dict").is_file() or (out / f"{name}.dict").read_text() != want_dict:
            faults.append(f"{out.name}: {name}.dict is not pop3.dict + {t}.dict")
        opts = out / f"{name}.options"
        if not opts.is_file() or opts.read_text() != (root / "fuzz" / f"{t}.options").read_text():
            faults.append(f"{out.name}: {name}.options is not fuzz/{t}.options")
        elif "[libfuzzer]" not in opts.read_text():
            faults.append(f"{out.name}: {name}.options has no [libfuzzer] section")
        corpus = {p.name: p.read_bytes() for p in (root / "corpus" / t).iterdir() if p.is_file()}
        zpath = out / f"{name}_seed_corpus.zip"
        try:
            with zipfile.ZipFile(zpath) as z:
                got = {i.filename: z.read(i) for i in z.infolist()}
        except (OSError, zipfile.BadZipFile) as e:
            faults.append(f"{out.name}: {zpath.name}: {e}")
            continue
        if got != corpus:
            faults.append(f"{out.name}: {zpath.name} holds {len(got)} files, corpus/{t}/ "
                          f"{len(corpus)} (or their contents differ)")
        # A libFuzzer binary built with the builder's flags: ASan linked in, coverage
        # counters in the code, runs its seeds with its dictionary.
        symbols = subprocess.run(["nm", str(binary)], capture_output=True, text=True).stdout
        if "__asan_init" not in symbols:
            faults.append(f"{out.name}: {name} has no AddressSanitizer ($CFLAGS not used)")
        with tempfile.TemporaryDirectory() as seeds:
            with zipfile.ZipFile(zpath) as z:
                z.extractall(seeds)
            res = subprocess.run([str(binary), "-runs=0", f"-dict={out / (name + '.dict')}", seeds],
                                 capture_output=True, text=True, timeout=300,
                                 env=dict(os.environ, ASAN_OPTIONS="detect_leaks=1"))
        m = re.search(r"INFO: Loaded 1 modules\s+\((\d+) inline 8-bit counters\)", res.stderr)
        if res.returncode != 0:
            faults.append(f"{out.name}: {name} -runs=0 on its seeds: exit {res.returncode}: "
                          + res.stderr[-800:])
        elif not m or int(m.group(1)) == 0:
            faults.append(f"{out.name}: {name} is not a libFuzzer binary with coverage counters")
        elif not re.search(rf"INFO:\s+{len(corpus)} files found", res.stderr):
            faults.append(f"{out.name}: {name} did not read the {len(corpus)} seeds")
    extra = sorted(p.name for p in out.iterdir() if p.name not in expected)
    if extra:
        faults.append(f"{out.name}: files no target accounts for: {' '.join(extra)}")
    return faults


def check_catches(root, good, targets):
    """The check itself: a copy of a good $OUT, broken in known ways, must fail it."""
    broken = good.parent / "out-broken"
    shutil.rmtree(broken, ignore_errors=True)
    shutil.copytree(good, broken, symlinks=True)
    t = targets[0]
    (broken / f"fuzz_{t}_seed_corpus.zip").unlink()
    (broken / f"fuzz_{targets[1]}.dict").write_text("")
    (broken / "fuzz_stale").write_text("")
    found = check_out(root, broken, targets)
    shutil.rmtree(broken)
    wanted = [f"fuzz_{t}_seed_corpus.zip: ", f"fuzz_{targets[1]}.dict is not",
              "files no target accounts for: fuzz_stale"]
    missed = [w for w in wanted if not any(w in f for f in found)]
    print(f"check_build_script: a broken $OUT gives {len(found)} faults")
    return [f"a broken $OUT was not caught: {w}" for w in missed]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="scratch directory (kept)")
    parser.add_argument("--root", type=Path, default=ROOT, help="source tree (default: this one)")
    args = parser.parse_args()
    root, work = args.root.resolve(), args.work.resolve()
    targets = targets_of(root)
    if not targets:
        print("check_build_script: no pop3_add_fuzzer lines in fuzz/CMakeLists.txt")
        return 1
    # Every fuzz_*.c is a target (fuzz/CMakeLists.txt enforces it; the scripts glob them).
    sources = sorted(p.stem[len("fuzz_"):] for p in (root / "fuzz").glob("fuzz_*.c"))
    if sources != targets:
        print(f"check_build_script: targets {targets} but sources {sources}")
        return 1
    faults = []
    for script, out in ((root / ".clusterfuzzlite" / "build.sh", work / "out-cflite"),
                        (root / "fuzz" / "oss-fuzz" / "build.sh", work / "out-ossfuzz")):
        if run_build(script, root, work, out) != 0:
            faults.append(f"{script.relative_to(root)} failed")
            continue
        faults += check_out(root, out, targets)
    if not faults:
        faults += check_catches(root, work / "out-ossfuzz", targets)
    for f in faults:
        print(f"check_build_script: {f}")
    print(f"check_build_script: {len(targets)} targets, {len(faults)} faults")
    return 1 if faults else 0


if __name__ == "__main__":
    sys.exit(main())
