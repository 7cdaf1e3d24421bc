"""interop_curl.py - curl against pop3-mock --maildrop, byte-exact.

LIST (pop3://host/), RETR of every message (pop3://host/N) compared octet for octet with
what RFC 1939 says goes on the wire, and STLS with --ssl-reqd and certificate
verification (RFC 2595). curl logs in with AUTH PLAIN and an initial response (RFC 5034).
"""
import subprocess
import tempfile

from mockrun import (MSG1, MSG2, MSG3, Mock, cleanup, main, make_ca, make_maildir, rfc_size,
                     wire)

MSGS = [MSG1, MSG2, MSG3]


def curl(*args):
    r = subprocess.run(["curl", "--silent", "--show-error", "--max-time", "20"] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert r.returncode == 0, "curl %s: %s" % (" ".join(args), r.stderr.decode())
    return r.stdout


def test(binary):
    tmp = tempfile.mkdtemp(prefix="pop3mock-curl-")
    md = make_maildir(MSGS)
    try:
        ca, cert, key = make_ca(tmp)
        args = ["--maildrop", md, "--user", "alice", "--password", "s3cret",
                "--tls-cert", cert, "--tls-key", key]
        with Mock(binary, args) as m:
            base = "pop3://alice:s3cret@127.0.0.1:%d/" % m.port
            listing = curl(base)
            want = b"".join(b"%d %d\r\n" % (i + 1, rfc_size(x)) for i, x in enumerate(MSGS))
            assert listing == want, listing
            for i, msg in enumerate(MSGS):
                got = curl(base + str(i + 1))
                assert got == wire(msg), "RETR %d: %r" % (i + 1, got[:120])
            # STLS required and verified.
            got = curl("--ssl-reqd", "--cacert", ca, base.replace("127.0.0.1", "localhost") + "2")
            assert got == wire(MSG2), got[:120]
            # Implicit TLS is a separate test below; a bad CA must fail.
            r = subprocess.run(["curl", "-s", "--max-time", "20", "--ssl-reqd", base + "1"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            assert r.returncode != 0, "an unverifiable certificate was accepted"
        args.append("--implicit-tls")
        with Mock(binary, args) as m:
            got = curl("--cacert", ca, "pop3s://alice:s3cret@localhost:%d/3" % m.port)
            assert got == wire(MSG3)
    finally:
        cleanup(tmp)
        cleanup(md)


if __name__ == "__main__":
    main(test)
