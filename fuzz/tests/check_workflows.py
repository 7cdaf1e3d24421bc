#!/usr/bin/env python3
"""check_workflows - the GitHub Actions workflows under .github/workflows/ against what the
actions they use document, so that a workflow a user copies runs as it is.

    check_workflows.py [--root DIR]      check every .github/workflows/*.yml; exit 1 on a fault
    check_workflows.py --self-test       break good workflows in known ways; each must be caught

Every workflow: parses as YAML, has a name, triggers (`on`), permissions (top level or per
job) and jobs with runs-on and steps. Every `uses:` of google/clusterfuzzlite's actions:
a version ref, only the inputs that action documents, its required inputs, a mode among
code-change/batch/prune/coverage, the language of .clusterfuzzlite/project.yaml, sanitizers
(also through a matrix) among the ones pop3kit fuzzes with (address, undefined; coverage for
the coverage task), the build step's sanitizer on the run step. Across the workflows: code-change
fuzzing on pull requests, batch fuzzing, pruning and coverage on a schedule, and every storage
input taken from one `env:` block that is the same in every file. A sharded campaign matrix
(fuzz/campaign --shard I/N) covers shards 1..N exactly.
"""
import argparse
import copy
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]

# The inputs each action declares, copied from its action.yml in google/clusterfuzzlite
# (actions/build_fuzzers/action.yml and actions/run_fuzzers/action.yml at commit
# 40f9a53e632516d2ec9f738eadd284635529fbad, the v1 line). The value says whether the
# action.yml marks the input `required: true`.
ACTIONS = {
    "google/clusterfuzzlite/actions/build_fuzzers": {
        "language": False,
        "dry-run": False,
        "allowed-broken-targets-percentage": False,
        "sanitizer": False,
        "project-src-path": False,
        "bad-build-check": False,
        "keep-unaffected-fuzz-targets": False,
        "storage-repo": False,
        "storage-repo-branch": False,
        "storage-repo-branch-coverage": False,
        "upload-build": False,
        "github-token": False,
    },
    "google/clusterfuzzlite/actions/run_fuzzers": {
        "language": False,
        "fuzz-seconds": True,
        "dry-run": False,
        "sanitizer": False,
        "mode": False,
        "github-token": True,
        "storage-repo": False,
        "storage-repo-branch": False,
        "storage-repo-branch-coverage": False,
        "report-unreproducible-crashes": False,
        "minimize-crashes": False,
        "parallel-fuzzing": False,
        "output-sarif": False,
        "report-timeouts": False,
        "report-ooms": False,
    },
}
MODES = {"code-change", "batch", "prune", "coverage"}
# The sanitizers pop3kit's fuzz builds use (fuzz/oss-fuzz/project.yaml); `coverage` is the
# build ClusterFuzzLite's coverage task needs, and only that task may use it.
SANITIZERS = {"address", "undefined"}
STORAGE_INPUTS = ("storage-repo", "storage-repo-branch", "storage-repo-branch-coverage")
# Code-change fuzzing holds up a pull request: keep it short.
CODE_CHANGE_MAX_SECONDS = 600
EXPR = re.compile(r"^\$\{\{\s*(.*?)\s*\}\}$")


def load(path):
    """The parsed workflow. YAML 1.1 reads the key `on` as true; give it its name back."""
    data = yaml.safe_load(path.read_text())
    if isinstance(data, dict) and True in data:
        data["on"] = data.pop(True)
    return data


def triggers(wf):
    on = wf.get("on")
    if isinstance(on, str):
        return {on}
    if isinstance(on, list):
        return set(on)
    if isinstance(on, dict):
        return set(on)
    return set()


def resolve(value, job, wf_env, where, faults):
    """The literal values an input can take: itself, the matrix values an expression
    `${{ matrix.X }}` names, or None for another expression (secrets, env: not literal)."""
    if not isinstance(value, str):
        return [value]
    m = EXPR.match(value.strip())
    if not m:
        return [value]
    expr = m.group(1)
    mm = re.fullmatch(r"matrix\.([A-Za-z0-9_-]+)", expr)
    if mm:
        matrix = (job.get("strategy") or {}).get("matrix") or {}
        values = matrix.get(mm.group(1))
        if not isinstance(values, list) or not values:
            faults.append(f"{where}: {value} names no matrix list of the job")
            return []
        return values
    me = re.fullmatch(r"env\.([A-Za-z0-9_]+)", expr)
    if me and me.group(1) not in wf_env:
        faults.append(f"{where}: {value}: the workflow's env has no {me.group(1)}")
    return [None]


def check_workflow(path, wf, project_language, seen, faults):
    name = path.name
    if not isinstance(wf, dict):
        faults.append(f"{name}: not a YAML mapping")
        return
    for key in ("name", "on", "jobs"):
        if key not in wf:
            faults.append(f"{name}: no `{key}`")
    if not triggers(wf):
        faults.append(f"{name}: no trigger under `on`")
    jobs = wf.get("jobs") or {}
    if not isinstance(jobs, dict) or not jobs:
        faults.append(f"{name}: no jobs")
        return
    wf_env = wf.get("env") or {}
    if "permissions" not in wf:
        for job_id, job in jobs.items():
            if "permissions" not in (job or {}):
                faults.append(f"{name}: job {job_id}: no permissions (top level or job)")
    storage_env = {k: v for k, v in wf_env.items() if k.startswith("CFLITE_")}
    if storage_env:
        seen["storage_env"].append((name, storage_env))

    for job_id, job in jobs.items():
        where_job = f"{name}: job {job_id}"
        if not isinstance(job, dict) or "runs-on" not in job:
            faults.append(f"{where_job}: no runs-on")
            continue
        steps = job.get("steps")
        if not isinstance(steps, list) or not steps:
            faults.append(f"{where_job}: no steps")
            continue
        build_sanitizers = None
        for i, step in enumerate(steps):
            uses = (step or {}).get("uses", "")
            where = f"{where_job}: step {step.get('name') or i + 1}"
            check_shard_matrix(job, step, where, faults)
            if not uses.startswith("google/clusterfuzzlite/"):
                continue
            action, _, ref = uses.partition("@")
            if action not in ACTIONS:
                faults.append(f"{where}: {action} is not an action this check knows")
                continue
            if not ref:
                faults.append(f"{where}: {action} without a version (@v1)")
            inputs = ACTIONS[action]
            given = step.get("with") or {}
            for key in given:
                if key not in inputs:
                    faults.append(f"{where}: {action} documents no input `{key}`")
            for key, required in inputs.items():
                if required and key not in given:
                    faults.append(f"{where}: {action} requires `{key}`")
            lang = given.get("language")
            if lang != project_language:
                faults.append(f"{where}: language {lang!r}, .clusterfuzzlite/project.yaml says "
                              f"{project_language!r}")
            sanitizers = [s for s in resolve(given.get("sanitizer", "address"), job, wf_env,
                                             where, faults) if s is not None]
            mode = given.get("mode", "code-change") if action.endswith("run_fuzzers") else None
            for s in sanitizers:
                allowed = {"coverage"} if mode == "coverage" else SANITIZERS | {"coverage"}
                if action.endswith("run_fuzzers") and mode != "coverage":
                    allowed = SANITIZERS
                if s not in allowed:
                    faults.append(f"{where}: sanitizer {s!r} not among {sorted(allowed)}")
            for key in STORAGE_INPUTS:
                if key in given:
                    m = EXPR.match(str(given[key]).strip())
                    if not m or not re.fullmatch(r"env\.CFLITE_[A-Z_]+", m.group(1)):
                        faults.append(f"{where}: {key} is not taken from the CFLITE_ env block")
                    resolve(given[key], job, wf_env, where, faults)
            if action.endswith("build_fuzzers"):
                build_sanitizers = sanitizers
                continue
            # run_fuzzers
            if mode not in MODES:
                faults.append(f"{where}: mode {mode!r} not among {sorted(MODES)}")
                continue
            if build_sanitizers is None:
                faults.append(f"{where}: run_fuzzers without a build_fuzzers step before it")
            elif sorted(build_sanitizers) != sorted(sanitizers):
                faults.append(f"{where}: runs with {sanitizers}, built with {build_sanitizers}")
            if mode == "coverage" and sanitizers != ["coverage"]:
                faults.append(f"{where}: mode coverage needs sanitizer coverage")
            seconds = given.get("fuzz-seconds")
            if not isinstance(seconds, int) or seconds <= 0:
                faults.append(f"{where}: fuzz-seconds {seconds!r} is not a positive number")
            elif mode == "code-change" and seconds > CODE_CHANGE_MAX_SECONDS:
                faults.append(f"{where}: code-change fuzzing for {seconds} s "
                              f"(at most {CODE_CHANGE_MAX_SECONDS})")
            if mode in ("batch", "prune", "coverage") and "storage-repo" not in given:
                faults.append(f"{where}: mode {mode} keeps no corpus storage setting")
            seen["modes"].setdefault(mode, []).append((name, triggers(wf), set(sanitizers)))


def check_shard_matrix(job, step, where, faults):
    """A `fuzz/campaign --shard ${{ matrix.X }}/N` step runs in a matrix of exactly 1..N."""
    run = step.get("run") or ""
    m = re.search(r"--shard[ =]\"?\$\{\{\s*matrix\.([A-Za-z0-9_-]+)\s*\}\}/(\d+)", run)
    if not m:
        return
    values = ((job.get("strategy") or {}).get("matrix") or {}).get(m.group(1))
    want = list(range(1, int(m.group(2)) + 1))
    if values != want:
        faults.append(f"{where}: --shard .../{m.group(2)} but matrix.{m.group(1)} is {values}")


def check_all(workflows, project_language):
    """Faults found in {path: parsed workflow}, as a list of messages."""
    faults = []
    seen = {"modes": {}, "storage_env": []}
    for path, wf in sorted(workflows.items()):
        check_workflow(path, wf, project_language, seen, faults)
    modes = seen["modes"]
    for mode in sorted(MODES):
        if mode not in modes:
            faults.append(f"no workflow runs ClusterFuzzLite mode {mode}")
    for name, trig, sanitizers in modes.get("code-change", []):
        if "pull_request" not in trig:
            faults.append(f"{name}: code-change fuzzing is not triggered by pull_request")
    for mode in ("batch", "prune", "coverage"):
        for name, trig, _ in modes.get(mode, []):
            if "schedule" not in trig:
                faults.append(f"{name}: mode {mode} is not on a schedule")
    for mode in ("code-change", "batch"):
        used = set().union(*(s for _, _, s in modes.get(mode, []))) if modes.get(mode) else set()
        if modes.get(mode) and used != SANITIZERS:
            faults.append(f"mode {mode} runs with {sorted(used)}, not {sorted(SANITIZERS)}")
    envs = seen["storage_env"]
    for name, env in envs[1:]:
        if env != envs[0][1]:
            faults.append(f"{name}: its CFLITE_ storage block differs from {envs[0][0]}'s; "
                          "the storage must be named in one place")
    return faults


def read_tree(root):
    files = sorted((root / ".github" / "workflows").glob("*.yml"))
    files += sorted((root / ".github" / "workflows").glob("*.yaml"))
    workflows, faults = {}, []
    for f in files:
        try:
            workflows[f] = load(f)
        except yaml.YAMLError as e:
            faults.append(f"{f.name}: not valid YAML: {e}")
    project = yaml.safe_load((root / ".clusterfuzzlite" / "project.yaml").read_text()) or {}
    for part in ("Dockerfile", "build.sh", "project.yaml"):
        if not (root / ".clusterfuzzlite" / part).is_file():
            faults.append(f".clusterfuzzlite/{part} is missing")
    return workflows, project.get("language"), faults


def self_test(root):
    """Each known defect, planted in a copy of the real workflows, must be reported."""
    workflows, language, faults = read_tree(root)
    if faults or check_all(workflows, language):
        print("self-test: the workflows themselves do not pass; run without --self-test")
        return 1

    def find(w, mode):
        """(path, job, step) of the run_fuzzers step with that mode in workflows w."""
        for path, wf in w.items():
            for job in wf["jobs"].values():
                for step in job.get("steps", []):
                    if step.get("uses", "").startswith(
                            "google/clusterfuzzlite/actions/run_fuzzers") and \
                            step["with"].get("mode") == mode:
                        return path, job, step
        raise SystemExit(f"self-test: no run_fuzzers step with mode {mode}")

    def build_step(job):
        return next(s for s in job["steps"] if "build_fuzzers" in s.get("uses", ""))

    def shard_matrices(w):
        found = [job["strategy"]["matrix"] for wf in w.values() for job in wf["jobs"].values()
                 if "shard" in ((job.get("strategy") or {}).get("matrix") or {})]
        if not found:
            raise SystemExit("self-test: no job with a shard matrix")
        return found

    # What to break, and words of the fault that must then be reported.
    plants = {
        "undocumented input": (lambda w: find(w, "batch")[2]["with"].update({"fuzz-time": 60}),
                               "documents no input `fuzz-time`"),
        "unknown mode": (lambda w: find(w, "batch")[2]["with"].update({"mode": "fast"}),
                         "mode 'fast' not among"),
        "missing required input": (lambda w: find(w, "prune")[2]["with"].pop("github-token"),
                                   "requires `github-token`"),
        "wrong language": (lambda w: find(w, "prune")[2]["with"].update({"language": "c++"}),
                           "language 'c++'"),
        "no version": (lambda w: find(w, "prune")[2].update(
            {"uses": "google/clusterfuzzlite/actions/run_fuzzers"}), "without a version"),
        "memory sanitizer in the matrix": (
            lambda w: find(w, "code-change")[1]["strategy"]["matrix"].update(
                {"sanitizer": ["address", "memory"]}), "sanitizer 'memory'"),
        "coverage run on an address build": (
            lambda w: build_step(find(w, "coverage")[1])["with"].pop("sanitizer"),
            "built with ['address']"),
        "no trigger": (lambda w: w[find(w, "batch")[0]].pop("on"), "no `on`"),
        "code-change not on pull requests": (
            lambda w: w[find(w, "code-change")[0]].update({"on": {"push": None}}),
            "not triggered by pull_request"),
        "batch not scheduled": (lambda w: w[find(w, "batch")[0]].update({"on": ["push"]}),
                                "mode batch is not on a schedule"),
        "no permissions": (lambda w: w[find(w, "prune")[0]].pop("permissions"),
                           "no permissions"),
        "no pruning": (lambda w: find(w, "prune")[2]["with"].update({"mode": "batch"}),
                       "no workflow runs ClusterFuzzLite mode prune"),
        "storage hard-coded in one file": (
            lambda w: find(w, "batch")[2]["with"].update(
                {"storage-repo": "https://github.com/o/r.git"}), "not taken from the CFLITE_"),
        "storage block differs": (
            lambda w: w[find(w, "prune")[0]]["env"].update({"CFLITE_STORAGE_BRANCH": "x"}),
            "storage block differs"),
        "env name misspelt": (
            lambda w: find(w, "batch")[2]["with"].update(
                {"storage-repo": "${{ env.CFLITE_STORGE }}"}), "env has no CFLITE_STORGE"),
        "long code-change run": (lambda w: find(w, "code-change")[2]["with"].update(
            {"fuzz-seconds": 3600}), "code-change fuzzing for 3600 s"),
        "shard matrix short": (lambda w: shard_matrices(w)[0].update({"shard": [1, 2]}),
                               "but matrix.shard is [1, 2]"),
    }
    failed = 0
    for what, (plant, expect) in plants.items():
        broken = copy.deepcopy(workflows)
        plant(broken)
        found = check_all(broken, language)
        hit = [f for f in found if expect in f]
        if hit:
            print(f"ok: {what}: {hit[0]}")
        else:
            print(f"NOT CAUGHT: {what} (expected a fault containing {expect!r}; got {found})")
            failed += 1
    print(f"self-test: {len(plants) - failed}/{len(plants)} planted defects caught")
    return 1 if failed else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="source tree (default: this one)")
    parser.add_argument("--self-test", action="store_true",
                        help="plant known defects in copies of the workflows; each must be caught")
    args = parser.parse_args()
    if args.self_test:
        return self_test(args.root)
    workflows, language, faults = read_tree(args.root)
    if not workflows:
        faults.append("no workflow files under .github/workflows/")
    faults += check_all(workflows, language)
    for f in faults:
        print(f"check_workflows: {f}")
    uses = sum(1 for wf in workflows.values() for job in (wf.get("jobs") or {}).values()
               for s in (job or {}).get("steps") or [] if "clusterfuzzlite" in s.get("uses", ""))
    print(f"check_workflows: {len(workflows)} workflows, {uses} ClusterFuzzLite steps, "
          f"{len(faults)} faults")
    return 1 if faults else 0


if __name__ == "__main__":
    sys.exit(main())
