#!/usr/bin/env python3
"""check_symbols.py - fail when one external name is defined twice in the build.

A static library is a bag of objects: when two of its members (or two libraries) both
define a global name, the linker takes whichever member it pulls first and never says
a word. That is how two `cli_fail` functions with different signatures once lived in
the `pop3` command, and the calls meant for one ran the other. This check makes such a
build fail.

What is checked, generically over a CMake build tree (Unix Makefiles or Ninja), so new
libraries and programs are covered without editing this file:
  - every static library (*.a): no name is defined by two of its members, nor by two
    libraries (members that are byte-identical, the same object archived twice, count
    once);
  - every executable's own objects: none defines a name a library defines as well
    (the program's copy would silently replace the library's).
Only strong definitions count (nm types T D B R G S and common C); weak ones (W V) are
meant to be overridden.

usage: check_symbols.py BUILD_DIR
       check_symbols.py --self-test --cc CC --ar AR   (proves the check catches a clash)
Exit status: 0 clean, 1 duplicates (each listed), 2 usage or a tool failure.
"""
import hashlib
import os
import re
import subprocess
import sys
import tempfile

STRONG = set("TDBRGSC")


def nm_defined(path):
    """{(member, name)} of strong global definitions in an object or archive."""
    out = subprocess.run(["nm", "-A", "-g", "--defined-only", path], capture_output=True,
                         text=True, errors="replace")
    if out.returncode != 0:
        raise RuntimeError("nm %s: %s" % (path, out.stderr.strip()))
    defs = []
    for line in out.stdout.splitlines():
        # "lib.a:member.o:0000000000000000 T name" or "obj.o:0000 T name"
        m = re.match(r"^(.*?):\s*(?:[0-9a-fA-F]+\s+)?([A-Za-z])\s+(\S+)$", line)
        if not m:
            continue
        where, kind, name = m.groups()
        if kind not in STRONG:
            continue
        member = where.split(":", 1)[1] if path.endswith(".a") and ":" in where else ""
        defs.append((member, name))
    return defs


def nm_defined_many(paths):
    """[(object, name)] of strong global definitions in plain object files."""
    out = subprocess.run(["nm", "-A", "-g", "--defined-only"] + paths, capture_output=True,
                         text=True, errors="replace")
    if out.returncode != 0:
        raise RuntimeError("nm: %s" % out.stderr.strip())
    defs = []
    for line in out.stdout.splitlines():
        m = re.match(r"^(.*?\.o):\s*(?:[0-9a-fA-F]+\s+)?([A-Za-z])\s+(\S+)$", line)
        if m and m.group(2) in STRONG:
            defs.append((m.group(1), m.group(3)))
    return defs


def member_digest(archive, member, cache={}):
    key = (archive, member)
    if key not in cache:
        data = subprocess.run(["ar", "p", archive, member], capture_output=True).stdout
        cache[key] = hashlib.sha256(data).hexdigest()
    return cache[key]


def walk(build):
    """os.walk of the build tree, without the build trees nested in it (a directory with a
    CMakeCache.txt of its own, e.g. the OSS-Fuzz build fuzz/ checks): not this build's."""
    for root, dirs, files in os.walk(build):
        dirs[:] = [d for d in dirs
                   if not os.path.exists(os.path.join(root, d, "CMakeCache.txt"))]
        yield root, dirs, files


def find_archives(build):
    found = []
    for root, dirs, files in walk(build):
        for f in files:
            if f.endswith(".a"):
                found.append(os.path.join(root, f))
    return sorted(found)


def executables_objects(build):
    """{program: [objects]} from the generator's own records."""
    progs = {}
    ninja = os.path.join(build, "build.ninja")
    if os.path.exists(ninja):
        with open(ninja, errors="replace") as f:
            for line in f:
                m = re.match(r"^build (\S+): C_EXECUTABLE_LINKER\S* (.*)$", line.rstrip("\n"))
                if not m:
                    continue
                inputs = m.group(2).split(" | ")[0].split()
                objs = [os.path.join(build, i) for i in inputs if i.endswith(".o")]
                progs[m.group(1)] = objs
        return progs
    for root, dirs, files in walk(build):
        if "link.txt" not in files or not root.endswith(".dir"):
            continue
        with open(os.path.join(root, "link.txt"), errors="replace") as f:
            link = f.read()
        # A static library is made by `ar qc`, a shared one with -shared: skip both.
        if re.search(r"(^|/)\S*ar\s+q", link) or " -shared" in link:
            continue
        objs = []
        for r2, d2, f2 in os.walk(root):
            objs += [os.path.join(r2, x) for x in f2 if x.endswith(".o")]
        if objs:
            progs[os.path.basename(root)[:-4]] = sorted(objs)
    return progs


def check(build):
    problems = []
    owner = {}  # name -> (archive, member)
    for a in find_archives(build):
        for member, name in nm_defined(a):
            prev = owner.get(name)
            if prev is None:
                owner[name] = (a, member)
                continue
            if prev == (a, member):
                continue
            if member_digest(prev[0], prev[1]) == member_digest(a, member):
                continue
            problems.append("%s defined in %s(%s) and in %s(%s)" %
                            (name, os.path.relpath(prev[0], build), prev[1],
                             os.path.relpath(a, build), member))
    progs = executables_objects(build)
    objs = sorted({o for group in progs.values() for o in group if os.path.exists(o)})
    prog_of = {o: p for p, group in progs.items() for o in group}
    # One nm for every program object (they are many; one process each is slow).
    defs = []
    for i in range(0, len(objs), 200):
        defs += nm_defined_many(objs[i:i + 200])
    for o, name in defs:
        if name in owner:
            a, member = owner[name]
            problems.append("%s defined in %s (program %s) and in %s(%s)" %
                            (name, os.path.relpath(o, build), prog_of.get(o, "?"),
                             os.path.relpath(a, build), member))
    return problems


def self_test(cc, ar):
    """Two objects of one library define `cli_fail`: the check must say so; with the
    clash removed it must pass. Then the same across two libraries and a program."""
    with tempfile.TemporaryDirectory() as d:
        def compile_(name, src):
            c = os.path.join(d, name + ".c")
            with open(c, "w") as f:
                f.write(src)
            o = os.path.join(d, "CMakeFiles", "lib.dir", name + ".o")
            os.makedirs(os.path.dirname(o), exist_ok=True)
            subprocess.run([cc, "-c", c, "-o", o], check=True)
            return o

        def archive(name, objs):
            path = os.path.join(d, name)
            if os.path.exists(path):
                os.unlink(path)
            subprocess.run([ar, "qc", path] + objs, check=True)
            return path

        a = compile_("session", "int cli_fail(void *c, int e, const char *w)"
                                " { (void)c; (void)w; return e; }\nint other(void) { return 1; }\n")
        b = compile_("errbuf", "int cli_fail(char *e, unsigned long n, const char *f, ...)"
                               " { (void)e; (void)n; (void)f; return -1; }\n")
        lib = archive("libclash.a", [a, b])
        got = check(d)
        if not any("cli_fail" in p for p in got):
            print("self-test: the clash inside one library was not found: %r" % got)
            return 1
        os.unlink(lib)
        archive("libone.a", [a])
        archive("libtwo.a", [b])
        got = check(d)
        if not any("cli_fail" in p for p in got):
            print("self-test: the clash across two libraries was not found: %r" % got)
            return 1
        os.unlink(os.path.join(d, "libtwo.a"))
        if check(d):
            print("self-test: a clean tree was reported: %r" % check(d))
            return 1
        # A program's own object that redefines a library name.
        pdir = os.path.join(d, "CMakeFiles", "prog.dir")
        os.makedirs(pdir, exist_ok=True)
        with open(os.path.join(pdir, "link.txt"), "w") as f:
            f.write("cc main.c.o -o prog libone.a\n")
        c = os.path.join(d, "main.c")
        with open(c, "w") as f:
            f.write("int other(void) { return 2; }\nint main(void) { return other(); }\n")
        subprocess.run([cc, "-c", c, "-o", os.path.join(pdir, "main.c.o")], check=True)
        got = check(d)
        if not any("other" in p and "prog" in p for p in got):
            print("self-test: a program redefining a library name was not found: %r" % got)
            return 1
    print("self-test: ok (clashes in one library, across libraries, program vs library)")
    return 0


def main(argv):
    if len(argv) >= 2 and argv[1] == "--self-test":
        opts = dict(zip(argv[2::2], argv[3::2]))
        return self_test(opts.get("--cc", "cc"), opts.get("--ar", "ar"))
    if len(argv) != 2 or not os.path.isdir(argv[1]):
        print("usage: check_symbols.py BUILD_DIR | --self-test --cc CC --ar AR", file=sys.stderr)
        return 2
    try:
        problems = check(os.path.abspath(argv[1]))
    except (OSError, RuntimeError) as e:
        print("check_symbols: %s" % e, file=sys.stderr)
        return 2
    for p in problems:
        print("duplicate external definition: %s" % p)
    if problems:
        print("%d duplicate definitions: make one of each static, or rename it" % len(problems))
        return 1
    print("no external name is defined twice")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
