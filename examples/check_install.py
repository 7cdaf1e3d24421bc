#!/usr/bin/env python3
"""check_install.py - install a pop3kit build tree into a temporary prefix and use it.

    check_install.py --build-dir BUILD --source-dir SRC [--cmake CMAKE] [--c-compiler CC]

Checks what a user of the installation gets: every program runs from the prefix; the
manual pages, the conformance cases and the peer adapters (executable bits kept) are
there; the installed pop3-conform runs installed cases; libpop3mock has its soname and
exports only its API; pkg-config and find_package(pop3kit) both build programs, among
them one that embeds the mock library (examples/mock_embed), whose CTest fixture test runs
the installed pop3-mock and pop3; libpop3mock_embed exports only its API; the installed
pytest plugin finds the installed library (its default backend) and the installed
pop3-mock (its program backend) by itself. Exit status 0 when all holds; each failure is one line on stderr.
"""

import argparse
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

failures = []


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what, flush=True)
    if not ok:
        failures.append(what)
    return ok


def run(argv, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 300)
    return subprocess.run([str(a) for a in argv], **kw)


def must(argv, what, **kw):
    r = run(argv, **kw)
    if not check(r.returncode == 0, what):
        sys.stderr.write(f"$ {' '.join(map(str, argv))}\n{r.stdout}{r.stderr}\n")
    return r


def cache_value(build, name):
    try:
        for line in (build / "CMakeCache.txt").read_text().splitlines():
            if line.startswith(name + ":"):
                return line.split("=", 1)[1]
    except OSError:
        pass
    return ""


def pytest_python():
    for py in (sys.executable, "/usr/bin/python3"):
        if run([py, "-c", "import pytest"]).returncode == 0:
            return py
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", required=True, type=Path)
    ap.add_argument("--source-dir", required=True, type=Path)
    ap.add_argument("--cmake", default="cmake")
    ap.add_argument("--c-compiler", default="cc")
    ap.add_argument("--keep", action="store_true", help="keep the temporary prefix")
    a = ap.parse_args()
    build, src = a.build_dir.resolve(), a.source_dir.resolve()
    work = Path(tempfile.mkdtemp(prefix="pop3kit-install-check-"))
    prefix = work / "prefix"
    try:
        must([a.cmake, "--install", build, "--prefix", prefix], "cmake --install")
        if failures:
            return 1
        checks(a, build, src, work, prefix)
    finally:
        if a.keep:
            print(f"prefix kept: {prefix}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    if failures:
        print(f"{len(failures)} install check(s) failed", file=sys.stderr)
        return 1
    print("install check: all as expected")
    return 0


def checks(a, build, src, work, prefix):
    bindir, libdir = prefix / "bin", prefix / "lib"
    data, man1 = prefix / "share" / "pop3kit", prefix / "share" / "man" / "man1"

    # Programs run from the prefix (--help exits 0), and each has its manual page installed.
    pages = {"pop3": src / "client/cli/pop3.1", "pop3-mock": src / "mockserver/pop3-mock.1",
             "pop3-conform": src / "conformance/pop3-conform.1",
             "pop3-record": src / "record/pop3-record.1",
             "pop3-fuzz": src / "fuzz/net/pop3-fuzz.1"}
    for prog, page_src in pages.items():
        exe = bindir / prog
        if check(os.access(exe, os.X_OK), f"bin/{prog} installed"):
            r = run([exe, "--help"], cwd=work)
            check(r.returncode == 0 and "usage" in (r.stdout + r.stderr).lower(),
                  f"bin/{prog} --help exits 0 with a usage text")
        page = man1 / f"{prog}.1"
        check(page_src.is_file() and page.is_file()
              and page.read_text().lstrip().startswith((".TH", ".\\\"", "'\\\"")),
              f"share/man/man1/{prog}.1 installed")

    # Cases and adapters: the same files as the source tree, adapters still executable.
    cases_src = sorted(p.name for p in (src / "conformance/cases").iterdir())
    cases = sorted(p.name for p in (data / "cases").iterdir()) if (data / "cases").is_dir() else []
    check(cases == cases_src and len(cases) > 0, f"share/pop3kit/cases holds the {len(cases_src)} cases")
    # Every file of peers/ and its folders (servers/), not what peers/install.sh fetched
    # there (node_modules/) nor Python's caches.
    peers_src = src / "conformance/peers"
    for p in sorted(peers_src.rglob("*")):
        rel = p.relative_to(peers_src)
        if p.is_dir() or rel.parts[0] in ("node_modules", "package-lock.json") or "__pycache__" in rel.parts:
            continue
        inst = data / "peers" / rel
        same_x = inst.exists() and (inst.stat().st_mode & stat.S_IXUSR) == (p.stat().st_mode & stat.S_IXUSR)
        check(inst.is_file() and same_x, f"share/pop3kit/peers/{rel} installed with its mode")

    # The installed runner plays installed cases (reference client against the mock).
    r = must([bindir / "pop3-conform", "--cases", data / "cases", "--list"],
             "pop3-conform --list over the installed cases", cwd=work)
    check(r.returncode == 0 and sum(1 for line in r.stdout.splitlines() if line.strip()) >= len(cases_src),
          "pop3-conform lists every installed case")
    must([bindir / "pop3-conform", "--cases", data / "cases", "--filter", "curl-859*",
          "--filter", "curl-860*", "-j", "2"], "pop3-conform runs installed cases", cwd=work)

    # Headers and the mock library.
    for h in ("pop3/pop3.h", "pop3/wire.h", "pop3mock/server.h", "pop3mock/script.h",
              "pop3mock/maildrop.h", "pop3mock/session.h"):
        check((prefix / "include" / h).is_file(), f"include/{h} installed")
    lib = libdir / "libpop3mock.so"
    if check(lib.exists(), "lib/libpop3mock.so installed"):
        r = run(["readelf", "-d", lib])
        check("Library soname: [libpop3mock.so.0]" in r.stdout, "libpop3mock.so has soname libpop3mock.so.0")
        r = run(["nm", "-D", "--defined-only", lib])
        names = [line.split()[-1] for line in r.stdout.splitlines() if line.strip()]
        stray = [n for n in names if not n.startswith("pop3mock_") or n.startswith("pop3mock__")]
        check(r.returncode == 0 and names and not stray,
              "libpop3mock.so exports pop3mock_ API symbols only" + (f" (not {stray[:5]})" if stray else ""))

    lib = libdir / "libpop3mock_embed.so.0"
    check((prefix / "include" / "pop3mock_embed.h").is_file(), "include/pop3mock_embed.h installed")
    if check(lib.exists(), "lib/libpop3mock_embed.so.0 installed"):
        r = run(["nm", "-D", "--defined-only", lib])
        names = [line.split()[-1] for line in r.stdout.splitlines() if line.strip()]
        stray = [n for n in names if not n.startswith("pop3mock_embed_")]
        check(r.returncode == 0 and names and not stray,
              "libpop3mock_embed.so exports pop3mock_embed_ symbols only" + (f" (not {stray[:5]})" if stray else ""))

    sanitize = any(cache_value(build, o).upper() in ("ON", "TRUE", "1") for o in ("POP3_SANITIZE", "POP3_FUZZ"))
    cflags = "-fsanitize=address,undefined" if sanitize else ""
    env = dict(os.environ, PKG_CONFIG_PATH=str(libdir / "pkgconfig"))
    env.pop("POP3_MOCK", None)

    # pkg-config: both modules, and a program built from them alone.
    must(["pkg-config", "--exists", "pop3kit", "pop3mock"], "pkg-config knows pop3kit and pop3mock", env=env)
    flags = run(["pkg-config", "--cflags", "--libs", "pop3mock"], env=env).stdout.split()
    exe = work / "mockcheck-pkgconfig"
    must([a.c_compiler, "-std=c11", *cflags.split(), src / "examples/mock_embed/mockcheck.c", *flags,
          f"-Wl,-rpath,{libdir}", "-o", exe], "mockcheck built with pkg-config pop3mock")
    if exe.exists():
        must([exe], "mockcheck (pkg-config build) runs the embedded mock as expected")

    # find_package(pop3kit): the client consumer and the mock consumer with its fixture test.
    cmake_common = [f"-DCMAKE_PREFIX_PATH={prefix}", f"-DCMAKE_C_COMPILER={a.c_compiler}"]
    if cflags:
        cmake_common += [f"-DCMAKE_C_FLAGS={cflags}", f"-DCMAKE_EXE_LINKER_FLAGS={cflags}"]
    for name in ("consumer", "mock_embed"):
        b = work / f"build-{name}"
        if must([a.cmake, "-S", src / "examples" / name, "-B", b, *cmake_common],
                f"find_package(pop3kit) configures examples/{name}").returncode == 0:
            must([a.cmake, "--build", b], f"examples/{name} builds against the installed package")
    mailcount = work / "build-consumer" / "mailcount"
    if mailcount.exists():
        check(run([mailcount]).returncode == 2, "mailcount without arguments exits 2")
    ctest = Path(a.cmake).with_name("ctest")
    if (work / "build-mock_embed" / "mockcheck").exists():
        r = must([ctest if ctest.exists() else "ctest", "--test-dir", work / "build-mock_embed",
                  "--output-on-failure"],
                 "examples/mock_embed tests: mockcheck and the installed CTest fixture with pop3 stat")
        check("100% tests passed, 0 tests failed out of 4" in r.stdout,
              "examples/mock_embed ran its 4 tests (mockcheck, mail.start, pop3 stat, mail.stop)")

    # The installed pytest plugin finds <prefix>/lib/libpop3mock_embed.so.0 and
    # <prefix>/bin/pop3-mock from its own location. A sanitizer build's library loads in
    # Python only with the sanitizer runtime preloaded: there the default falls back to
    # the program.
    py = pytest_python()
    if check(py is not None, "a Python with pytest (python3-pytest)"):
        t = work / "pytest-installed"
        t.mkdir()
        default = "program" if sanitize else "library"
        (t / "test_installed.py").write_text(
            "import os, poplib\n"
            "def test_stat(pop3_mock_factory, pop3_mock_backend):\n"
            "    mock = pop3_mock_factory.maildrop([b'Subject: x\\n\\nbody\\n'])\n"
            "    assert mock.backend == pop3_mock_backend == os.environ['EXPECT_BACKEND']\n"
            "    if mock.backend == 'program':\n"
            f"        assert mock.binary == {str(bindir / 'pop3-mock')!r}\n"
            "    c = poplib.POP3(*mock.address, timeout=10)\n"
            "    c.user(mock.user); c.pass_(mock.password)\n"
            "    assert c.stat() == (1, 20)\n"
            "    c.quit()\n")
        penv = dict(env, PYTHONPATH=str(data / "pytest"), PYTHONDONTWRITEBYTECODE="1",
                    PATH="/usr/bin:/bin", EXPECT_BACKEND=default)
        for var in ("POP3MOCK_LIBRARY", "POP3MOCK_BACKEND", "LD_PRELOAD"):
            penv.pop(var, None)
        must([py, "-m", "pytest", "-q", "-p", "pop3mock_fixture", "-p", "no:cacheprovider",
              t / "test_installed.py"],
             f"the installed pytest plugin runs its default backend, the {default}", env=penv, cwd=t)
        penv["EXPECT_BACKEND"] = "program"
        must([py, "-m", "pytest", "-q", "-p", "pop3mock_fixture", "-p", "no:cacheprovider",
              "--pop3-mock-backend=program", t / "test_installed.py"],
             "the installed pytest plugin finds the installed pop3-mock", env=penv, cwd=t)


if __name__ == "__main__":
    sys.exit(main())
