#!/usr/bin/env python3
"""check_project_files - the OSS-Fuzz and ClusterFuzzLite project files are complete.

    check_project_files.py [--root DIR]     exit 1 on a fault
    check_project_files.py --self-test      plant known defects; each must be caught

fuzz/oss-fuzz/project.yaml: every field OSS-Fuzz's guide asks for is there; language c,
sanitizers address and undefined, engine libfuzzer; the fields only the maintainer knows
(homepage, main_repo, primary_contact) are either real values or left empty with a
comment saying what to put there, never a stand-in address. Both Dockerfiles follow the
base-builder conventions: FROM gcr.io/oss-fuzz-base/base-builder, apt-get install of the
build dependencies, the sources in $SRC/pop3kit, WORKDIR there, build.sh copied to $SRC/;
OSS-Fuzz's clone URL is the maintainer's MAIN_REPO (equal to main_repo when both are set).
.clusterfuzzlite/project.yaml names the same language.
"""
import argparse
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
MAINTAINER_FIELDS = ("homepage", "main_repo", "primary_contact")
# Words and hosts that mark a stand-in rather than a value.
PLACEHOLDER = re.compile(r"example\.(invalid|com|org|net)|\.invalid\b|TODO|FIXME|placeholder|"
                         r"changeme|your[-_ ]?(name|project|email)", re.I)


def check(texts):
    """Faults in {relative path: text}."""
    faults = []
    for path, text in texts.items():
        for n, line in enumerate(text.splitlines(), 1):
            if PLACEHOLDER.search(line):
                faults.append(f"{path}:{n}: a placeholder: {line.strip()}")

    yaml_path = "fuzz/oss-fuzz/project.yaml"
    project = yaml.safe_load(texts[yaml_path]) or {}
    for key in MAINTAINER_FIELDS + ("language", "sanitizers", "fuzzing_engines"):
        if key not in project:
            faults.append(f"{yaml_path}: no `{key}`")
    if project.get("language") != "c":
        faults.append(f"{yaml_path}: language {project.get('language')!r}, not c")
    if sorted(project.get("sanitizers") or []) != ["address", "undefined"]:
        faults.append(f"{yaml_path}: sanitizers {project.get('sanitizers')}, "
                      "not address and undefined")
    if project.get("fuzzing_engines") != ["libfuzzer"]:
        faults.append(f"{yaml_path}: fuzzing_engines {project.get('fuzzing_engines')}, "
                      "not [libfuzzer] (the only engine build.sh links)")
    comments = "\n".join(l for l in texts[yaml_path].splitlines() if l.lstrip().startswith("#"))
    for key in MAINTAINER_FIELDS:
        value = project.get(key)
        if value in (None, ""):
            if not re.search(rf"#\s+{key}\s+\S", comments):
                faults.append(f"{yaml_path}: {key} is empty and no comment says what to fill in")
        elif key == "primary_contact" and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", value):
            faults.append(f"{yaml_path}: primary_contact {value!r} is not an e-mail address")
        elif key != "primary_contact" and not re.match(r"https://[^/\s]+\.[a-z]{2,}/", value):
            faults.append(f"{yaml_path}: {key} {value!r} is not an https URL")

    for path, build_copy in (("fuzz/oss-fuzz/Dockerfile", r"COPY build\.sh \$SRC/"),
                             (".clusterfuzzlite/Dockerfile",
                              r"COPY \.clusterfuzzlite/build\.sh \$SRC/")):
        lines = [l.strip() for l in texts[path].splitlines()
                 if l.strip() and not l.lstrip().startswith("#")]
        # Continuation lines belong to their instruction.
        instructions = re.sub(r"\\\n\s*", " ", "\n".join(lines)).splitlines()
        if not instructions or instructions[0] != "FROM gcr.io/oss-fuzz-base/base-builder":
            faults.append(f"{path}: does not start FROM gcr.io/oss-fuzz-base/base-builder")
        if not any(re.match(r"RUN apt-get update && apt-get install -y .*libssl-dev", i)
                   for i in instructions):
            faults.append(f"{path}: no RUN apt-get update && apt-get install of libssl-dev")
        if not any(re.search(r"(git clone .* |COPY \. )\$SRC/pop3kit$", i) for i in instructions):
            faults.append(f"{path}: the sources are not put in $SRC/pop3kit")
        if "WORKDIR $SRC/pop3kit" not in instructions:
            faults.append(f"{path}: no WORKDIR $SRC/pop3kit")
        if not any(re.fullmatch(build_copy, i) for i in instructions):
            faults.append(f"{path}: build.sh is not copied to $SRC/")
        if path.startswith("fuzz/"):
            arg = next((i for i in instructions if i.startswith("ARG MAIN_REPO")), None)
            if arg is None or not any('git clone --depth 1 "$MAIN_REPO"' in i
                                      for i in instructions):
                faults.append(f"{path}: the clone URL is not the ARG MAIN_REPO field")
            else:
                value = arg.partition("=")[2].strip()
                if value and project.get("main_repo") and value != project["main_repo"]:
                    faults.append(f"{path}: MAIN_REPO {value} is not project.yaml's main_repo "
                                  f"{project['main_repo']}")

    cfl = yaml.safe_load(texts[".clusterfuzzlite/project.yaml"]) or {}
    if cfl.get("language") != project.get("language"):
        faults.append(f".clusterfuzzlite/project.yaml: language {cfl.get('language')!r}, "
                      f"OSS-Fuzz's is {project.get('language')!r}")
    return faults


FILES = ("fuzz/oss-fuzz/project.yaml", "fuzz/oss-fuzz/Dockerfile", "fuzz/oss-fuzz/build.sh",
         ".clusterfuzzlite/project.yaml", ".clusterfuzzlite/Dockerfile",
         ".clusterfuzzlite/build.sh")


def self_test(texts):
    if check(texts):
        print("self-test: the files themselves do not pass; run without --self-test")
        return 1
    y, d = "fuzz/oss-fuzz/project.yaml", "fuzz/oss-fuzz/Dockerfile"
    plants = {
        "stand-in homepage": (y, "homepage:\n", 'homepage: "https://example.invalid/pop3kit"\n',
                              "a placeholder"),
        "fake contact": (y, "primary_contact:\n", "primary_contact: nobody\n",
                         "not an e-mail address"),
        "undocumented empty field": (y, "#   homepage ", "#   (web page) ",
                                     "homepage is empty and no comment"),
        "engine the build lacks": (y, "  - libfuzzer\n", "  - libfuzzer\n  - afl\n",
                                   "fuzzing_engines"),
        "sanitizer missing": (y, "  - undefined\n", "", "sanitizers ['address']"),
        "wrong base image": (d, "FROM gcr.io/oss-fuzz-base/base-builder\n",
                             "FROM ubuntu:20.04\n", "does not start FROM"),
        "hard-coded clone": (d, 'git clone --depth 1 "$MAIN_REPO"',
                             "git clone --depth 1 https://github.com/o/p.git",
                             "not the ARG MAIN_REPO field"),
        "repo mismatch": (d, "ARG MAIN_REPO=\n", "ARG MAIN_REPO=https://github.com/a/b.git\n",
                          None),  # consistent alone; with main_repo below it is not
        "no WORKDIR": (d, "WORKDIR $SRC/pop3kit\n", "", "no WORKDIR"),
    }
    failed = 0
    for what, (path, old, new, expect) in plants.items():
        broken = dict(texts)
        if old not in broken[path]:
            print(f"self-test: {what}: {old!r} not in {path}")
            return 1
        broken[path] = broken[path].replace(old, new, 1)
        if expect is None:  # the mismatch needs both sides
            broken[y] = broken[y].replace("main_repo:\n", "main_repo: https://github.com/c/d.git\n")
            expect = "is not project.yaml's main_repo"
        found = [f for f in check(broken) if expect in f]
        print(f"{'ok' if found else 'NOT CAUGHT'}: {what}: {found[0] if found else expect}")
        failed += not found
    print(f"self-test: {len(plants) - failed}/{len(plants)} planted defects caught")
    return 1 if failed else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    texts = {f: (args.root / f).read_text() for f in FILES}
    if args.self_test:
        return self_test(texts)
    faults = check(texts)
    for f in faults:
        print(f"check_project_files: {f}")
    print(f"check_project_files: {len(FILES)} files, {len(faults)} faults")
    return 1 if faults else 0


if __name__ == "__main__":
    sys.exit(main())
