#!/usr/bin/env python3
"""matrix_slice.py - conformance/matrix/run on a slice of the cases, into a temporary folder.

The matrix's generator is run with the reference client and poplib (the Python standard
library: always there) on three cases (poplib passes one, fails one, one is n/a), and its two reports are
checked: MATRIX.md has the clients table with a row per group and the counts each cell
must hold, the failing cells link to an anchor that lists the case file and a one-line
reason; matrix.html is well-formed (every element closed in order), has no script, and
holds the same cells and links. Its client columns are found by discovery: every
peers/*_adapter.* is one.

    matrix_slice.py POP3_CONFORM CASES_DIR MATRIX_RUN
"""
import glob
import html.parser
import os
import re
import subprocess
import sys
import tempfile

conform, cases, run = sys.argv[1:4]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


# Discovery: one column per adapter file, plus the reference client.
peers = os.path.join(os.path.dirname(os.path.abspath(cases)), "peers")
listed = subprocess.run([sys.executable, run, "--list-clients"], stdout=subprocess.PIPE,
                        text=True, check=True).stdout.split("\n")
names = {l.split(" ")[0] for l in listed if l}
want = {os.path.basename(p).split("_adapter")[0]
        for p in glob.glob(os.path.join(peers, "*_adapter.*"))} | {"pop3kit"}
check(names == want, "--list-clients %s, adapters %s" % (sorted(names), sorted(want)))

SLICE = ["curl-859-stat", "q47-stat-count-overflow", "rfc1939-5.1-stat-64bit"]
with tempfile.TemporaryDirectory() as out:
    args = [sys.executable, run, "--conform", conform, "--cases", cases, "--out", out,
            "--no-install", "--no-servers", "--no-drip", "--clients", "pop3kit,poplib", "-j", "2"]
    for c in SLICE:
        args += ["--filter", c]
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
    md = open(os.path.join(out, "MATRIX.md")).read()
    page = open(os.path.join(out, "matrix.html")).read()

    # Markdown: the header row, the totals, one row per group with one cell per client.
    check("| group | pop3kit | poplib |" in md, "MATRIX.md: no clients header row")
    check("(3 cases," in md, "MATRIX.md: not 3 cases")
    check("| **all cases** | **3 / 0 / 0** | **1 / 1 / 1** |" in md,
          "MATRIX.md: totals row:\n" + md)
    check(re.search(r"^\| RFC 1939 \| 3 / 0 / 0 \| \[1 / 1 / 1\]\(#f-poplib-rfc-1939\) \|$",
                    md, re.M), "MATRIX.md: RFC 1939 row")
    check(re.search(r"^\| Q47 hostile-counts \| 1 / 0 / 0 \| "
                    r"\[0 / 1 / 0\]\(#f-poplib-q47-hostile-counts\) \|$", md, re.M),
          "MATRIX.md: Q47 row")
    for anchor in re.findall(r"\]\(#(f-[a-z0-9-]+)\)", md):
        check('<a id="%s"></a>' % anchor in md, "MATRIX.md: no anchor %s" % anchor)
    check(re.search(r"^- \[q47-stat-count-overflow\]\(\S+/q47-stat-count-overflow\.case\): "
                    r"stat: expected err proto, received ok$", md, re.M),
          "MATRIX.md: the failure's line")
    check("## Servers" in md and "No server was probed." in md, "MATRIX.md: servers part")
    # The case link resolves from the report's folder.
    link = re.search(r"\]\((\S+/q47-stat-count-overflow\.case)\)", md)
    check(link and os.path.exists(os.path.join(out, link.group(1))), "MATRIX.md: case link")

    # HTML: well-formed, static, the same cells.
    class Check(html.parser.HTMLParser):
        VOID = {"meta", "br", "img", "link", "hr", "input"}

        def __init__(self):
            super().__init__()
            self.stack, self.ids, self.hrefs, self.bad = [], set(), [], []

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "script" or any(k.startswith("on") for k in a):
                self.bad.append("script in the page")
            if "id" in a:
                self.ids.add(a["id"])
            if tag == "a" and "href" in a:
                self.hrefs.append(a["href"])
            if tag not in self.VOID:
                self.stack.append(tag)

        def handle_endtag(self, tag):
            if not self.stack or self.stack[-1] != tag:
                self.bad.append("</%s> closes <%s>" % (tag, self.stack[-1] if self.stack
                                                       else "nothing"))
            else:
                self.stack.pop()

    h = Check()
    h.feed(page)
    h.close()
    check(not h.bad and not h.stack, "matrix.html: %s, open %s" % (h.bad, h.stack))
    check('<td class="fail"><a href="#f-poplib-rfc-1939">1 / 1 / 1</a></td>' in page,
          "matrix.html: failing cell")
    check('<td class="pass">3 / 0 / 0</td>' in page, "matrix.html: passing cell")
    for href in h.hrefs:
        if href.startswith("#"):
            check(href[1:] in h.ids, "matrix.html: no id %s" % href)
        else:
            check(os.path.exists(os.path.join(out, href)), "matrix.html: link %s" % href)

for f in failures:
    print("FAIL " + f)
print("matrix slice: %d problems" % len(failures))
sys.exit(1 if failures else 0)
