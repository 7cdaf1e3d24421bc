#!/usr/bin/env python3
"""coverage.py - does the suite cover what conformance/coverage.txt lists?

Every id there (requirement rows, quirks Q1-Q54, test_poplib cases, RFC example dialogues)
must appear in the "covers:" line of at least one case, unless its line says "not covered:"
and why. Every id a case names must be well-formed (a typo would count for nothing).

usage: coverage.py COVERAGE_TXT CASES_DIR
"""
import os
import re
import sys

listing, cases = sys.argv[1], sys.argv[2]
required, excused = [], {}
for line in open(listing, encoding="utf-8"):
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    ident, _, rest = line.partition(" ")
    if "not covered:" in rest:
        excused[ident] = rest.split("not covered:", 1)[1].strip()
    else:
        required.append(ident)

covered = {}
bad = []
form = re.compile(r"^(EX-)?RFC\d{4}-[\w.-]+$|^Q([1-9]|[1-4]\d|5[0-4])$|^poplib:\w+$|^curl:\d+$")
for name in sorted(os.listdir(cases)):
    if not name.endswith(".case"):
        continue
    for line in open(os.path.join(cases, name), encoding="utf-8", errors="replace"):
        if line.startswith("covers:"):
            for ident in line.split()[1:]:
                covered.setdefault(ident, []).append(name[:-5])
                if not form.match(ident):
                    bad.append("%s: malformed id %r" % (name, ident))
missing = [i for i in required if i not in covered]
stale = [i for i in excused if i in covered]
for i in missing:
    print("not ok - %s is covered by no case" % i)
for b in bad:
    print("not ok - " + b)
for i in stale:
    print("# %s is marked \"not covered\" but %s covers it" % (i, ", ".join(covered[i])))
print("%d ids required, %d covered, %d excused (%s)" % (
    len(required), len(required) - len(missing), len(excused),
    "; ".join("%s: %s" % kv for kv in sorted(excused.items()))[:2000]))
sys.exit(1 if missing or bad else 0)
