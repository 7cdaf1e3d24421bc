#!/usr/bin/env python3
"""check_io_free.py - the codec's objects call no socket, poll, clock, TLS or process function.

    check_io_free.py [--nm NM] [--expect NAME,NAME...] ARCHIVE...

Lists the undefined symbols of every object in ARCHIVE (`nm -u`) and fails (exit 1),
naming the object and the symbol, when one is on the deny-list below: the codec is fed
bytes and returns events, so a reference to any of these means I/O, time, TLS or
process state crept into it (the layering rule of codec/CMakeLists.txt).

Names are compared after removing what compilers and libc add around them: a symbol
version ("read@GLIBC_2.2.5"), the fortify wrappers ("__read_chk", "__fprintf_chk") and
the large-file aliases ("open64"). Sanitizer and coverage hooks (__asan_*, __ubsan_*,
__sanitizer_cov_*, __llvm_profile_*) are not on the list.

--expect turns the check into its own self-test: the archive must show exactly the
listed violations, no more and no fewer (tests/layering/violation.c calls them on
purpose), so a deny-list that stopped matching would fail the test.
"""
import argparse
import re
import subprocess
import sys

# Exact names.
DENY = {
    # sockets and name resolution
    "socket", "socketpair", "connect", "accept", "accept4", "bind", "listen", "shutdown",
    "send", "sendto", "sendmsg", "sendmmsg", "recv", "recvfrom", "recvmsg", "recvmmsg",
    "getsockopt", "setsockopt", "getpeername", "getsockname",
    "getaddrinfo", "freeaddrinfo", "getnameinfo", "gethostbyname", "gethostbyname_r",
    # file descriptors and streams
    "read", "write", "readv", "writev", "pread", "pwrite", "open", "openat", "close",
    "fcntl", "ioctl", "pipe", "pipe2", "dup", "dup2", "sendfile", "splice",
    "fopen", "fdopen", "freopen", "fclose", "fread", "fwrite", "fgets", "fputs", "fputc",
    "putc", "getc", "fgetc", "fflush", "printf", "fprintf", "vprintf", "vfprintf",
    "dprintf", "puts", "putchar", "perror", "stdin", "stdout", "stderr",
    # waiting for events
    "poll", "ppoll", "select", "pselect", "epoll_create", "epoll_create1", "epoll_ctl",
    "epoll_wait", "epoll_pwait", "eventfd",
    # clocks, timers, sleeping
    "time", "clock", "clock_gettime", "gettimeofday", "nanosleep", "clock_nanosleep",
    "sleep", "usleep", "alarm", "setitimer", "timer_create", "timerfd_create",
    "localtime", "localtime_r", "gmtime", "gmtime_r", "mktime",
    # process state: signals, environment, exit, randomness, limits
    "signal", "sigaction", "raise", "kill", "getenv", "secure_getenv", "setenv",
    "exit", "_exit", "_Exit", "rand", "srand", "random", "srandom", "getrandom",
    "setrlimit", "getrlimit", "fork", "execve", "system",
    # TLS set-up outside the SSL_ prefix
    "OPENSSL_init_ssl",
}
# Prefixes: libssl (SSL_, TLS_, DTLS_ methods), OpenSSL's I/O abstraction, threads.
DENY_PREFIX = ("SSL_", "TLS_", "DTLS_", "BIO_", "pthread_")


def base_name(symbol):
    name = symbol.split("@", 1)[0]
    m = re.fullmatch(r"__(\w+)_chk", name)
    if m:
        name = m.group(1)
    if name.endswith("64") and name[:-2] in DENY:
        name = name[:-2]
    return name


def denied(name):
    return name in DENY or name.startswith(DENY_PREFIX)


def undefined(nm, archive):
    """(object, symbol) pairs of the archive's undefined symbols."""
    out = subprocess.run([nm, "-u", archive], check=True, stdout=subprocess.PIPE,
                         text=True).stdout
    member = archive
    for line in out.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.endswith(":"):
            member = line[:-1]
            continue
        yield member, line.split()[-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nm", default="nm")
    parser.add_argument("--expect", default=None,
                        help="comma-separated violations the archive must show, exactly")
    parser.add_argument("archives", nargs="+")
    args = parser.parse_args()

    found = {}
    for archive in args.archives:
        for member, symbol in undefined(args.nm, archive):
            name = base_name(symbol)
            if denied(name):
                found.setdefault(name, set()).add(member)

    if args.expect is not None:
        want = {n for n in args.expect.split(",") if n}
        if set(found) != want:
            print(f"check_io_free: self-test: expected exactly {sorted(want)}, "
                  f"caught {sorted(found)}")
            return 1
        print(f"check_io_free: self-test: caught {len(want)} planted violations: "
              f"{', '.join(sorted(want))}")
        return 0

    for name in sorted(found):
        print(f"check_io_free: {name} referenced by {', '.join(sorted(found[name]))}")
    if found:
        print(f"check_io_free: {len(found)} forbidden functions in the codec")
        return 1
    print(f"check_io_free: no socket, poll, clock, TLS or process function in "
          f"{', '.join(args.archives)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
