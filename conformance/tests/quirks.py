#!/usr/bin/env python3
"""quirks.py - is the quirk catalogue (conformance/QUIRKS.md) complete and consistent?

Checks, over the source tree:
  - every entry has the layout "## Qn name — title" and the fields Server, Seen, Mock,
    Client, Cases, in that order; ids and names are unique;
  - every quirk id cited anywhere in the tree (code, comments, cases, docs, tests, fuzz;
    a word "Q" + digits, ranges "Q9-Q12" and "Q1..Q54" included) has an entry;
  - every entry is covered by at least one case, and its Cases field lists exactly the
    cases whose "covers:" line names it;
  - the Mock field names quirks and presets that pop3-mock has (pop3mock/quirks.h,
    mockserver/src/quirks.c), or says "none";
  - the C table of conformance/src/quirk_names.c has the same ids and names;
  - every requirement id cited anywhere (RFC1939-3.4, EX-RFC2449-5-CAPA...) is defined in
    conformance/coverage.txt (its first word on a line), and so is every quirk;
  - no file sends the reader to a document kept outside the repository (a design
    document, notes): what the tree cites must be in the tree;
  - given pop3-conform, its --list prints the name beside every quirk id.

The corpus/ folder (fuzzer inputs: octets, not citations), build folders and files with a
NUL octet are not searched.

usage: quirks.py SOURCE_ROOT [POP3_CONFORM]
       quirks.py --self-test SOURCE_ROOT   plants one violation of each kind in a copy of the
                                 files the checks read, and fails unless each is caught
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

FIELDS = ["Server", "Seen", "Mock", "Client", "Cases"]
HEADING = re.compile(r"^## (Q(\d+)) ([a-z0-9]+(?:-[a-z0-9]+)*) \u2014 (\S.*)$")
QUIRK_WORD = re.compile(r"\bQ(\d{1,3})\b")
QUIRK_RANGE = re.compile(r"\bQ(\d{1,3})(?:-|\.\.)Q(\d{1,3})\b")
# Documents outside the repository that a comment must not send a reader to.
OUTSIDE = re.compile(r"\bDESIGN\.md\b|\bSTYLE\.md\b|\b(?:reference|design|research)\s+notes\b",
                     re.I)
REQ_ID = re.compile(r"\b(?:EX-)?RFC\d{4}-\d(?:[\w.-]*\w)?")
SKIP_DIRS = {".git", "corpus", "node_modules", "__pycache__"}


def source_files(root):
    """Every text file of the tree, as (relative path, text)."""
    for top, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("build")
                         and not os.path.exists(os.path.join(top, d, "CMakeCache.txt")))
        for name in sorted(files):
            path = os.path.join(top, name)
            try:
                data = open(path, "rb").read()
            except OSError:
                continue
            if b"\0" in data:
                continue
            yield os.path.relpath(path, root), data.decode("utf-8", errors="replace")


def parse_catalogue(path, problems):
    """{id: {"name", "title", "fields": {label: text}, "line"}} from QUIRKS.md."""
    entries, cur = {}, None
    names = {}
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        line = line.rstrip("\n")
        if line.startswith("## "):
            m = HEADING.match(line)
            if not m:
                problems.append("QUIRKS.md:%d: heading is not \"## Qn name \u2014 title\": %s"
                                % (n, line))
                cur = None
                continue
            qid, name = int(m.group(2)), m.group(3)
            if m.group(1) != "Q%d" % qid:
                problems.append("QUIRKS.md:%d: write the id as Q%d" % (n, qid))
            if qid in entries:
                problems.append("QUIRKS.md:%d: Q%d has two entries" % (n, qid))
            if name in names:
                problems.append("QUIRKS.md:%d: name %s is also Q%d's" % (n, name, names[name]))
            names[name] = qid
            cur = {"name": name, "title": m.group(4), "fields": {}, "order": [], "line": n}
            entries[qid] = cur
            continue
        if cur is None:
            continue
        m = re.match(r"^- \*\*([A-Za-z ]+):\*\*\s*(.*)$", line)
        if m:
            label = m.group(1)
            cur["order"].append(label)
            cur["fields"][label] = m.group(2)
            cur["last"] = label
        elif line.startswith("  ") and cur.get("last"):
            cur["fields"][cur["last"]] += " " + line.strip()
        elif line.strip():
            cur["last"] = None
    for qid, e in sorted(entries.items()):
        if e["order"] != FIELDS:
            problems.append("QUIRKS.md:%d: Q%d has fields %s, wants %s"
                            % (e["line"], qid, ", ".join(e["order"]) or "none",
                               ", ".join(FIELDS)))
        for label in FIELDS:
            if label in e["fields"] and not e["fields"][label].strip():
                problems.append("QUIRKS.md:%d: Q%d: %s is empty" % (e["line"], qid, label))
    return entries


def case_covers(cases_dir):
    """{case name: set of ids on its covers: lines}."""
    out = {}
    for name in sorted(os.listdir(cases_dir)):
        if not name.endswith(".case"):
            continue
        ids = set()
        for line in open(os.path.join(cases_dir, name), encoding="utf-8", errors="replace"):
            if line.startswith("covers:"):
                ids.update(line.split()[1:])
        out[name[:-5]] = ids
    return out


def mock_names(root):
    """The names pop3-mock accepts after --quirk and --preset."""
    h = open(os.path.join(root, "mockserver/include/pop3mock/quirks.h"), encoding="utf-8").read()
    quirks = set(re.findall(r"X\(\s*\w+\s*,\s*\"([a-z0-9-]+)\"", h))
    c = open(os.path.join(root, "mockserver/src/quirks.c"), encoding="utf-8").read()
    presets = set(re.findall(r"strcmp\(name, \"([a-z0-9-]+)\"\)", c))
    return quirks, presets


def c_table(path, problems):
    text = open(path, encoding="utf-8").read()
    table = {}
    for m in re.finditer(r"\[(\d+)\]\s*=\s*\"([^\"]*)\"", text):
        qid = int(m.group(1))
        if qid in table:
            problems.append("quirk_names.c: [%d] given twice" % qid)
        table[qid] = m.group(2)
    mx = re.search(r"#define\s+POP3CONFORM_QUIRK_MAX\s+(\d+)", open(
        os.path.join(os.path.dirname(path), "quirk_names.h"), encoding="utf-8").read())
    return table, int(mx.group(1)) if mx else None


def check(root, conform=None):
    problems = []
    conf = os.path.join(root, "conformance")
    entries = parse_catalogue(os.path.join(conf, "QUIRKS.md"), problems)
    covers = case_covers(os.path.join(conf, "cases"))

    # Citations anywhere in the tree.
    cited, req_cited = {}, {}
    for rel, text in source_files(root):
        for n, line in enumerate(text.splitlines(), 1):
            ids = {int(m.group(1)) for m in QUIRK_WORD.finditer(line)}
            for m in QUIRK_RANGE.finditer(line):
                lo, hi = int(m.group(1)), int(m.group(2))
                if lo < hi:
                    ids.update(range(lo, hi + 1))
            for i in ids:
                cited.setdefault(i, "%s:%d" % (rel, n))
            for m in REQ_ID.finditer(line):
                req_cited.setdefault(m.group(0), "%s:%d" % (rel, n))
            m = OUTSIDE.search(line)
            if m:
                problems.append("%s:%d: cites %r, which is not in the repository"
                                % (rel, n, m.group(0)))
    for qid, where in sorted(cited.items()):
        if qid not in entries:
            problems.append("%s: cites Q%d, which QUIRKS.md does not define" % (where, qid))

    # Cases: every entry covered, the Cases field exact, no case names an unknown quirk.
    for qid, e in sorted(entries.items()):
        want = sorted(c for c, ids in covers.items() if "Q%d" % qid in ids)
        if not want:
            problems.append("Q%d (%s) is covered by no case (no covers: line names it)"
                            % (qid, e["name"]))
        listed = re.findall(r"`([^`]+)`", e["fields"].get("Cases", ""))
        for c in listed:
            if c not in covers:
                problems.append("QUIRKS.md Q%d: case %s does not exist" % (qid, c))
            elif c not in want:
                problems.append("QUIRKS.md Q%d: case %s does not cover Q%d" % (qid, c, qid))
        for c in want:
            if c not in listed:
                problems.append("QUIRKS.md Q%d: Cases leaves out %s, which covers it" % (qid, c))

    # Mock: names that exist.
    quirks, presets = mock_names(root)
    for qid, e in sorted(entries.items()):
        mock = e["fields"].get("Mock", "")
        named = re.findall(r"`--(quirk|preset) ([a-z0-9-]+)(?:\[?=[^`]*)?`", mock)
        if not named and not mock.startswith("none"):
            problems.append("QUIRKS.md Q%d: Mock names no `--quirk NAME` and is not \"none\""
                            % qid)
        for kind, name in named:
            if name not in (quirks if kind == "quirk" else presets):
                problems.append("QUIRKS.md Q%d: pop3-mock has no --%s %s" % (qid, kind, name))

    # The C table.
    table, qmax = c_table(os.path.join(conf, "src", "quirk_names.c"), problems)
    for qid, e in sorted(entries.items()):
        if table.get(qid) != e["name"]:
            problems.append("quirk_names.c: Q%d is %r, QUIRKS.md says %r"
                            % (qid, table.get(qid), e["name"]))
    for qid in sorted(set(table) - set(entries)):
        problems.append("quirk_names.c: Q%d (%s) is not in QUIRKS.md" % (qid, table[qid]))
    if entries and qmax != max(entries):
        problems.append("quirk_names.h: POP3CONFORM_QUIRK_MAX is %s, the last quirk Q%d"
                        % (qmax, max(entries)))

    # Requirement ids.
    defined = set()
    for line in open(os.path.join(conf, "coverage.txt"), encoding="utf-8"):
        line = line.strip()
        if line and not line.startswith("#"):
            defined.add(line.split()[0])
    for qid, e in sorted(entries.items()):
        if "Q%d" % qid not in defined:
            problems.append("coverage.txt does not list Q%d (%s)" % (qid, e["name"]))
    for rid, where in sorted(req_cited.items()):
        if rid not in defined:
            problems.append("%s: cites %s, which coverage.txt does not define" % (where, rid))

    # The runner prints the names.
    if conform is not None:
        out = subprocess.run([conform, "--cases", os.path.join(conf, "cases"), "--list"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             timeout=120).stdout
        for qid, e in sorted(entries.items()):
            label = "Q%d (%s)" % (qid, e["name"])
            if any("Q%d" % qid in ids for ids in covers.values()) and label not in out:
                problems.append("pop3-conform --list does not print %r" % label)

    return problems, len(entries), len(cited), len(req_cited)


# ---- self-test: each planted violation must be caught ----------------------------------

NEEDED = ["conformance/QUIRKS.md", "conformance/coverage.txt", "conformance/cases",
          "conformance/src/quirk_names.c", "conformance/src/quirk_names.h",
          "mockserver/include/pop3mock/quirks.h", "mockserver/src/quirks.c"]


def edit(path, old, new):
    text = open(path, encoding="utf-8").read()
    if old not in text:
        raise SystemExit("self-test: %r not found in %s" % (old, path))
    open(path, "w", encoding="utf-8").write(text.replace(old, new, 1))


# Built at run time, so that this file cites neither.
UNKNOWN_Q = "Q" + "55"
UNKNOWN_REQ = "RFC" + "1939-99.9"
OUTSIDE_DOC = "the reference" + " notes"


def self_test(root):
    plants = [
        ("an unknown quirk id cited in a comment",
         lambda t: open(os.path.join(t, "fuzz_x.c"), "w").write("/* as %s shows */\n" % UNKNOWN_Q),
         "cites " + UNKNOWN_Q),
        ("an unknown quirk id inside a cited range",
         lambda t: open(os.path.join(t, "notes.md"), "w").write("quirks Q49-Q%d\n" % (55 + 1)),
         "cites " + UNKNOWN_Q),
        ("an entry no case covers",
         lambda t: edit(os.path.join(t, "conformance/cases/q07-extra-blank-line.case"),
                        "covers:  Q7", "covers:  RFC1939-3.4"),
         "Q7 (extra-blank-line) is covered by no case"),
        ("a case left out of an entry's Cases",
         lambda t: edit(os.path.join(t, "conformance/cases/q08-truncated-lines.case"),
                        "covers:  Q8", "covers:  Q8 Q9"),
         "Cases leaves out q08-truncated-lines"),
        ("a C table name that differs",
         lambda t: edit(os.path.join(t, "conformance/src/quirk_names.c"),
                        '"bare-lf"', '"bare-lf-x"'),
         "Q6 is 'bare-lf-x'"),
        ("an entry missing a field",
         lambda t: edit(os.path.join(t, "conformance/QUIRKS.md"),
                        "- **Seen:** Berkeley \"POP3 version 1.004\"",
                        "- **Where:** Berkeley \"POP3 version 1.004\""),
         "Q8 has fields"),
        ("a mock quirk that does not exist",
         lambda t: edit(os.path.join(t, "conformance/QUIRKS.md"),
                        "`--quirk top-twice`", "`--quirk top-thrice`"),
         "no --quirk top-thrice"),
        ("a quirk coverage.txt does not list",
         lambda t: edit(os.path.join(t, "conformance/coverage.txt"), "\nQ50\n", "\n"),
         "coverage.txt does not list Q50"),
        ("a citation of a document outside the repository",
         lambda t: open(os.path.join(t, "y.c"), "w").write("/* see %s */\n" % OUTSIDE_DOC),
         "which is not in the repository"),
        ("an undefined requirement id",
         lambda t: open(os.path.join(t, "x.c"), "w").write("/* %s */\n" % UNKNOWN_REQ),
         "cites " + UNKNOWN_REQ),
    ]
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        def fresh():
            t = os.path.join(tmp, "tree")
            shutil.rmtree(t, ignore_errors=True)
            for rel in NEEDED:
                src, dst = os.path.join(root, rel), os.path.join(t, rel)
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                (shutil.copytree if os.path.isdir(src) else shutil.copy)(src, dst)
            return t
        problems = check(fresh())[0]
        print("%s - the unplanted copy passes" % ("not ok" if problems else "ok"))
        for p in problems:
            print("#   " + p)
        failures += bool(problems)
        for what, plant, expect in plants:
            t = fresh()
            plant(t)
            problems = check(t)[0]
            caught = any(expect in p for p in problems)
            print("%s - caught: %s" % ("ok" if caught else "not ok", what))
            if not caught:
                failures += 1
                for p in problems or ["(no problem reported)"]:
                    print("#   " + p)
    return failures


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--self-test":
        sys.exit(1 if self_test(sys.argv[2]) else 0)
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    problems, n, ncited, nreq = check(sys.argv[1], sys.argv[2] if len(sys.argv) == 3 else None)
    for p in problems:
        print("not ok - " + p)
    print("%d quirks in QUIRKS.md, %d quirk ids and %d requirement ids cited in the tree, "
          "%d problems" % (n, ncited, nreq, len(problems)))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
