#!/usr/bin/env python3
"""preset_probe.py - hold pop3-mock's presets against the real servers they imitate.

For a server of conformance/peers/servers/ (dovecot, popa3d, cyrus, mailutils, courier) the
real server is started by its script (NAME.sh start DIR) with the awkward mailbox of
mailbox.py, and probed (`pop3-conform --probe --json`) in each mode it offers: in clear,
over STLS, over implicit TLS. Then `pop3-mock --preset PRESET` serves the same messages
(mailbox.py's Maildir) to the same user, with a certificate where the server has one, and
is probed the same way. The two probes must agree check by check: the same severity
(pass, note, deviation) and the same named quirk for each check the probe made. Every
difference is printed; the exit status is 1 if there is one.

    preset_probe.py [--conform FILE] [--mock FILE] [--build DIR] SERVER...
    preset_probe.py --record SERVER...     probe the real server only; write its findings to
                                           conformance/tests/preset_findings/SERVER.json
    preset_probe.py --recorded SERVER...   the preset against that file: no real server, no
                                           root (CI)
    preset_probe.py --self-test            the comparison on made-up reports

A check is the probe finding's requirement id and its message with what differs between
two correct stores of the same messages taken out: the size of a message (Cyrus' LMTP adds
trace headers), counts of octets, the greeting's text, the user name, what follows a ":".
The mock is started with the options that make it configured like our server (PRESETS:
our Dovecot takes plaintext logins and four mechanisms on loopback, for example).

Exit status: 0 the preset probes like the server (or --record wrote the file), 1
differences, 2 usage or a server or mock that would not start.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CONF = os.path.dirname(HERE)
ROOT = os.path.dirname(CONF)
SERVERS = os.path.join(CONF, "peers", "servers")
RECORDS = os.path.join(HERE, "preset_findings")
FORMAT = "pop3kit-preset-findings/1"

# server -> (preset, mock options that configure the mock like our server's config).
PRESETS = {
    # peers/dovecot.sh: disable_plaintext_auth = no (Dovecot also counts loopback as
    # secure), auth_mechanisms = plain login apop cram-md5.
    "dovecot": ("dovecot", ["--allow-plaintext", "--sasl-all", "--plain-in-clear"]),
    "popa3d": ("popa3d", []),
    # cyrus.sh: allowplaintext: yes, sasl_mech_list: PLAIN LOGIN CRAM-MD5.
    "cyrus": ("cyrus", ["--sasl-all", "--plain-in-clear"]),
    # No preset (yet): their findings are recorded, nothing is compared.
    "mailutils": (None, []),
    "courier": (None, []),
}
# Longest probe of one server in one mode (seconds); the probe's own read timeout.
PROBE_TIMEOUT = int(os.environ.get("POP3KIT_PROBE_TIMEOUT", "300"))
# (10: Courier answers a wrong password after 5 s.)
READ_TIMEOUT = os.environ.get("POP3KIT_PROBE_READ_TIMEOUT", "10")
PASSWORD = "pop3kit-secret"


def check_key(f, user):
    """The check a finding answers, without what two correct stores may differ in."""
    m = f["message"]
    if user:  # the user name as a word of its own, not inside another
        m = re.sub(r"(?<![\w@.-])%s(?![\w@.-])" % re.escape(user), "USER", m)
    if f["requirement"] == "RFC1939-4.1" or m.startswith(("greeting", "APOP offered")):
        m = m.split(":", 1)[0]
    else:
        m = m.split(": ", 1)[0]
    m = re.sub(r"\b(says|gives|gave|answers|said|has) \d+", r"\1 #", m)
    m = re.sub(r"\b\d{3,}\b", "#", m)
    m = re.sub(r"\"[^\"]*\"", "\"...\"", m) if "answers" in m else m
    return "%s %s" % (f["requirement"], m)


def summarize(doc, user):
    """What is kept of one probe: its checks, severities and quirks, in order."""
    if not isinstance(doc, dict):
        return {"error": str(doc)}
    out = {"exit_status": doc.get("exit_status"), "error": doc.get("error"),
           "summary": doc.get("summary"), "findings": []}
    for f in doc.get("findings", []):
        out["findings"].append({"check": check_key(f, user), "severity": f["severity"],
                                "quirk": f.get("quirk")})
    return out


def probe(conform, host, port, user, password, extra):
    args = [conform, "--probe", "%s:%s" % (host, port), "--user", user, "--json",
            "--timeout", READ_TIMEOUT] + extra
    env = dict(os.environ, POP3_PASSWORD=password)
    try:
        p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                           timeout=PROBE_TIMEOUT)
        return json.loads(p.stdout.decode("utf-8", "replace"))
    except (subprocess.TimeoutExpired, ValueError) as e:
        return "probe failed: %s" % e


def read_env(path):
    env = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.strip().partition("=")
            env[k] = v.strip("'\"")
    return env


def modes_of(env):
    """[(mode, port, probe options)] the server offers."""
    modes = []
    if env.get("SERVER_PORT"):
        modes.append(("plain", env["SERVER_PORT"], []))
        if env.get("SERVER_STLS") == "yes":
            modes.append(("stls", env["SERVER_PORT"], ["--starttls"]))
    if env.get("SERVER_TLS_PORT"):
        modes.append(("tls", env["SERVER_TLS_PORT"], ["--tls"]))
    return modes


def probe_real(conform, server, tmp):
    """The real server's record: {server, version, user, modes: {mode: summary}}."""
    script = os.path.join(SERVERS, server + ".sh")
    d = os.path.join(tmp, server)
    os.makedirs(d, exist_ok=True)
    st = subprocess.run(["bash", script, "start", d], stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT, timeout=PROBE_TIMEOUT)
    if st.returncode != 0:
        sys.stdout.write("".join("#   %s\n" % l for l in
                                 st.stdout.decode("utf-8", "replace").splitlines()))
        raise RuntimeError("%s did not start (conformance/peers/servers/install.sh?)" % server)
    try:
        env = read_env(os.path.join(d, "env"))
        user = env["SERVER_USER"]
        rec = {"format": FORMAT, "server": server, "version": env.get("SERVER_VERSION"),
               "user": user, "stls": env.get("SERVER_STLS") == "yes",
               "implicit_tls": bool(env.get("SERVER_TLS_PORT")), "modes": {}}
        host = env.get("SERVER_HOST", "127.0.0.1")
        for mode, port, extra in modes_of(env):
            if mode != "plain":
                extra = extra + ["--cafile", env["SERVER_CA"]]
            doc = probe(conform, "localhost" if mode == "tls" else host, port, user,
                        env.get("SERVER_PASSWORD", ""), extra)
            rec["modes"][mode] = summarize(doc, user)
        return rec
    finally:
        subprocess.run(["bash", script, "stop", d], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)


def make_cert(d):
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def start_mock(mock, args, d):
    port_file = os.path.join(d, "port-%d" % len(os.listdir(d)))
    p = subprocess.Popen([mock, "--port-file", port_file, "--idle-timeout", "60"] + args,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # The mock writes the port file (renamed into place) once it listens, within
    # POP3KIT_MOCK_WAIT seconds (10).
    for _ in range(int(float(os.environ.get("POP3KIT_MOCK_WAIT", "10")) / 0.02)):
        if os.path.exists(port_file):
            with open(port_file) as f:
                return p, int(f.read().strip())
        if p.poll() is not None:
            break
        time.sleep(0.02)
    p.kill()
    err = p.communicate()[1].decode("utf-8", "replace")
    raise RuntimeError("pop3-mock did not start: %s" % err.strip())


def probe_mock(conform, mock, rec, preset, margs, tmp):
    """The preset's summaries, mode by mode, as rec's."""
    d = os.path.join(tmp, "mock")
    os.makedirs(d, exist_ok=True)
    maildir = os.path.join(d, "Maildir")
    subprocess.run([sys.executable, os.path.join(SERVERS, "mailbox.py"), "maildir", maildir],
                   check=True, stderr=subprocess.DEVNULL)
    user = rec["user"]
    base = [mock, "--maildrop", maildir, "--user", user, "--password", PASSWORD,
            "--preset", preset] + margs
    cert = key = None
    if rec.get("stls") or rec.get("implicit_tls"):
        cert, key = make_cert(d)
    out = {}
    for mode in rec["modes"]:
        args = base[1:]
        extra = []
        if mode in ("stls", "tls") or (mode == "plain" and rec.get("stls")):
            args += ["--tls-cert", cert, "--tls-key", key]
        if mode == "tls":
            args.append("--implicit-tls")
            extra = ["--tls", "--cafile", cert]
        elif mode == "stls":
            extra = ["--starttls", "--cafile", cert]
        p, port = start_mock(mock, args, d)
        try:
            doc = probe(conform, "localhost" if mode == "tls" else "127.0.0.1", port, user,
                        PASSWORD, extra)
        finally:
            p.terminate()
            p.wait(timeout=30)
        out[mode] = summarize(doc, user)
    return out


def differences(real, fake):
    """Lines saying where the preset's probe differs from the server's, mode by mode."""
    diffs = []
    for mode, r in real["modes"].items():
        f = fake.get(mode)
        if f is None:
            diffs.append("%s: the mock was not probed" % mode)
            continue
        for what, doc in (("server", r), ("preset", f)):
            if doc.get("error") or doc.get("exit_status") not in (0, 1):
                diffs.append("%s: the %s's probe did not complete: %s" % (
                    mode, what, doc.get("error")))
        checks = {}
        for side, doc in ((0, r), (1, f)):
            for x in doc.get("findings", []):
                checks.setdefault(x["check"], ([], []))[side].append(
                    "%s%s" % (x["severity"], " quirk=%s" % x["quirk"] if x["quirk"] else ""))
        for check, (a, b) in checks.items():
            if sorted(a) != sorted(b):
                diffs.append("%s: %s: server %s, preset %s" % (
                    mode, check, ", ".join(a) or "-", ", ".join(b) or "-"))
    return diffs


def self_test():
    """The comparison itself, on made-up probe reports: what a check is, and that each kind
    of difference is caught while store differences are not."""
    def doc(*findings):
        return {"exit_status": 1, "error": None, "summary": {},
                "findings": [{"requirement": r, "severity": s, "quirk": q, "message": m}
                             for r, s, q, m in findings]}
    fails = []

    def want(what, got, expected):
        if got != expected:
            fails.append("%s: %r, not %r" % (what, got, expected))
    f = {"requirement": "RFC1939-11", "message": "LIST 3 says 131, RETR gives 133 octets: x"}
    want("sizes out of a check", check_key(f, "u"), "RFC1939-11 LIST 3 says #, RETR gives # octets")
    f = {"requirement": "RFC1939-4.1", "message": "greeting: +OK vm Cyrus <1.2@vm>"}
    want("greeting text out of a check", check_key(f, "u"), "RFC1939-4.1 greeting")
    f = {"requirement": "RFC1939-7.6", "message": "logged in as tester@pop3kit.test"}
    want("user out of a check", check_key(f, "tester@pop3kit.test"), "RFC1939-7.6 logged in as USER")
    f = {"requirement": "RFC1939-3.5", "message": "the server hangs up after 4 unknown commands"}
    want("small counts kept", check_key(f, "u"), "RFC1939-3.5 the server hangs up after 4 unknown commands")
    base = [("RFC1939-4.1", "pass", None, "greeting: +OK a"),
            ("RFC1939-5.1", "pass", None, "STAT: 7 messages, 4242 octets"),
            ("RFC1939-11", "deviation", "unterminated-size Q52", "LIST 3 says 131, RETR gives 133 octets")]
    other_store = [("RFC1939-4.1", "pass", None, "greeting: +OK b"),
                   ("RFC1939-5.1", "pass", None, "STAT: 7 messages, 6475 octets"),
                   ("RFC1939-11", "deviation", "unterminated-size Q52", "LIST 3 says 140, RETR gives 142 octets")]
    real = {"modes": {"plain": summarize(doc(*base), "u")}}
    want("another store of the same messages",
         differences(real, {"plain": summarize(doc(*other_store), "u")}), [])
    severity = base[:2] + [("RFC1939-11", "pass", None, "LIST sizes match RETR octets")]
    want("a deviation the preset lacks",
         len(differences(real, {"plain": summarize(doc(*severity), "u")})), 2)
    quirk = base[:2] + [("RFC1939-11", "deviation", None, "LIST 3 says 131, RETR gives 133 octets")]
    want("another quirk name", len(differences(real, {"plain": summarize(doc(*quirk), "u")})), 1)
    want("a mode not probed", differences(real, {}), ["plain: the mock was not probed"])
    broken = summarize(doc(*base), "u")
    broken["exit_status"], broken["error"] = 3, "cannot log in"
    want("a probe that could not log in",
         differences(real, {"plain": broken}), ["plain: the preset's probe did not complete: cannot log in"])
    for line in fails:
        print("not ok - " + line)
    print("%s - preset_probe.py self-test" % ("not ok" if fails else "ok"))
    return 1 if fails else 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("servers", nargs="+", metavar="SERVER", choices=sorted(PRESETS))
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--conform", help="pop3-conform (BUILD/bin/pop3-conform)")
    ap.add_argument("--mock", help="pop3-mock (BUILD/bin/pop3-mock)")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--record", action="store_true",
                   help="write the real server's findings to preset_findings/SERVER.json")
    g.add_argument("--recorded", action="store_true",
                   help="compare the preset with preset_findings/SERVER.json")
    a = ap.parse_args()
    conform = os.path.abspath(a.conform or os.path.join(a.build, "bin", "pop3-conform"))
    mock = os.path.abspath(a.mock or os.path.join(a.build, "bin", "pop3-mock"))
    status = 0
    tmp = tempfile.mkdtemp(prefix="pop3kit-preset-")
    os.chmod(tmp, 0o755)
    try:
        for server in a.servers:
            preset, margs = PRESETS[server]
            path = os.path.join(RECORDS, server + ".json")
            try:
                if a.recorded:
                    with open(path) as f:
                        real = json.load(f)
                else:
                    real = probe_real(conform, server, tmp)
                    print("# %s %s: %s" % (server, real["version"], ", ".join(
                        "%s %s" % (m, s.get("summary")) for m, s in real["modes"].items())))
                if a.record:
                    os.makedirs(RECORDS, exist_ok=True)
                    with open(path, "w") as f:
                        json.dump(real, f, indent=1, sort_keys=True)
                        f.write("\n")
                    print("ok - %s: findings written to %s" % (server,
                                                                os.path.relpath(path, ROOT)))
                    continue
                if preset is None:
                    print("ok - %s: no preset to compare # SKIP" % server)
                    continue
                fake = probe_mock(conform, mock, real, preset, margs, tmp)
            except (RuntimeError, OSError, subprocess.CalledProcessError) as e:
                print("not ok - %s: %s" % (server, e))
                status = max(status, 2)
                continue
            diffs = differences(real, fake)
            if diffs:
                print("not ok - pop3-mock --preset %s does not probe like %s %s%s:" % (
                    preset, server, real.get("version"), " (recorded)" if a.recorded else ""))
                for d in diffs:
                    print("#   " + d)
                status = max(status, 1)
            else:
                print("ok - pop3-mock --preset %s probes like %s %s (%s)" % (
                    preset, server, real.get("version"), ", ".join(real["modes"])))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
