#!/usr/bin/env python3
"""probe_mock.py - pop3-conform --probe against pop3-mock --maildrop.

For every quirk the mock knows (pop3-mock --list-quirks), the mock is started with that
quirk alone and the probe must name it ("quirk=NAME"); with no quirk the probe must name
none. Presets name all of their quirks. The mock is also probed over STLS and implicit
TLS (certificate made with the openssl command), and with --destructive.

usage: probe_mock.py POP3_MOCK POP3_CONFORM
"""
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile

import mocksrv

MOCK, CONFORM = sys.argv[1], sys.argv[2]
USER, PASSWORD = "probe", "probe-secret"
# Quirks the read-only probe in clear cannot see, and what makes them visible: mock
# arguments ("TLS" stands for a certificate) and probe arguments.
NEEDS = {"deletes-on-disconnect": ([], ["--destructive"]),
         "plaintext-needs-tls": (["TLS"], ["--starttls", "--cafile", "CERT"])}
PRESETS = {"dovecot": ["capa-lists-capa", "max-bad-commands", "empty-blank-line",
                       "unterminated-size", "capa-drops-auth", "no-lock"],
           "popa3d": ["no-apop", "capa-err", "no-lock"],
           "cyrus": ["capa-drops-auth", "no-lock"],
           "qmail": ["capa-err", "extra-blank-line", "sizes-lf"],
           "exchange": ["no-apop", "lying-sizes", "dot-no-crlf"]}


def messages():
    """Messages that let every quirk show: a line starting with ".", more than ten body
    lines (TOP), a message without a final newline (Q1, Q52), bare LF and CRLF files, an
    empty message (Q51)."""
    body = "".join("body line %02d\n" % i for i in range(1, 16))
    return {
        "1-dots": "From: a@example.org\nSubject: dots\n\n" + body + ".hidden line\n..two\nend\n",
        "2-crlf": b"From: c@example.org\r\nSubject: crlf\r\n\r\nhello\r\nworld\r\n",
        "3-no-final-newline": "From: b@example.org\nSubject: no newline\n\nline one\nlast line",
        "4-empty": "",
    }


def probe(mock_args, probe_args):
    with mocksrv.maildrop(MOCK, messages(), USER, PASSWORD, args=mock_args) as mock:
        env = dict(os.environ, POP3_PASSWORD=PASSWORD)
        p = subprocess.run([CONFORM, "--probe", "127.0.0.1:%d" % mock.port, "--user", USER,
                            "--timeout", "3"] + probe_args,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           env=env, timeout=120)
        return p.returncode, p.stdout


def named(out):
    return set(re.findall(r"quirk=([a-z0-9-]+)", out))


def main():
    quirks = [l.split()[0] for l in subprocess.run([MOCK, "--list-quirks"], text=True,
                                                    stdout=subprocess.PIPE).stdout.splitlines()
              if l.strip()]
    root = tempfile.mkdtemp(prefix="pop3-probe-mock-")
    failures = []
    try:
        cert = os.path.join(root, "cert.pem")
        key = os.path.join(root, "key.pem")
        have_tls = shutil.which("openssl") is not None and subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
             "-keyout", key, "-out", cert], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL).returncode == 0
        tls = ["--tls-cert", cert, "--tls-key", key]
        jobs = {"none": ([], [], set())}
        for q in quirks:
            margs, pargs = NEEDS.get(q, ([], []))
            if "TLS" in margs and not have_tls:
                continue
            margs = [a for m in margs for a in (tls if m == "TLS" else [m])]
            pargs = [cert if a == "CERT" else a for a in pargs]
            jobs[q] = (["--quirk", q] + margs, pargs, {q})
        for p, qs in PRESETS.items():
            jobs["preset " + p] = (["--preset", p], [], set(qs))
        if have_tls:
            jobs["stls"] = (tls, ["--starttls", "--cafile", cert], set())
            jobs["implicit tls"] = (tls + ["--implicit-tls"], ["--tls", "--cafile", cert], set())
        else:
            print("# openssl not found: the TLS probes are skipped")
        jobs["destructive"] = ([], ["--destructive"], set())

        def run(name):
            mock_args, probe_args, want = jobs[name]
            rc, out = probe(mock_args, probe_args)
            got = named(out)
            # A quirk alone is named alone; a preset's quirks are all named, and a preset
            # may grow (only names of the mock's quirks then appear).
            extra_ok = got <= set(quirks) if name.startswith("preset ") else got <= want
            ok = rc in (0, 1) and want <= got and extra_ok
            # With no quirk the mock is a correct server: the probe finds no deviation
            # at all (a message without a final newline is counted with the CRLF sent
            # before ".", and SASL PLAIN is offered only under TLS, RFC 2595 section 6).
            if not want:
                m = re.search(r"(\d+) deviations?", out)
                devs = int(m.group(1)) if m else -1
                ok = ok and devs == 0 and rc == 0
            return name, ok, rc, want, got, out

        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
            for name, ok, rc, want, got, out in ex.map(run, sorted(jobs)):
                print("%s - probe with %s: exit %d, named %s%s" % (
                    "ok" if ok else "not ok", name, rc, sorted(got) or "no quirk",
                    "" if ok else " (wanted %s)" % sorted(want)))
                if not ok:
                    failures.append(name)
                    sys.stdout.write("".join("#   " + l + "\n" for l in out.splitlines()))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print("%d probes, %d failed" % (len(jobs), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
