"""interop_poplib.py - Python's poplib against pop3-mock --maildrop, byte-exact.

Every poplib call: getwelcome, capa, user, pass_, apop, stat, list, retr, top, uidl,
dele, rset, noop, utf8, stls (certificate verified against a CA made at test time),
quit; and POP3_SSL against --implicit-tls. RFC 1939 sections 5 to 7, RFC 2449, RFC 2595.
"""
import hashlib
import os
import poplib
import re
import ssl
import tempfile

from mockrun import (MSG1, MSG2, MSG3, Mock, cleanup, main, make_ca, make_maildir, rfc_size,
                     wire)

MSGS = [MSG1, MSG2, MSG3]


def body_of(lines):
    return b"".join(l + b"\r\n" for l in lines)


def check_session(p, apop=False):
    welcome = p.getwelcome()
    assert re.match(rb"^\+OK POP3 server ready <\d+\.\d+\.\d+@[^>]+>$", welcome), welcome
    caps = p.capa()
    for cap in ("USER", "TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "UTF8"):
        assert cap in caps, caps
    # PLAIN only under TLS (RFC 2595 section 6); in clear CRAM-MD5 (--sasl-all adds more).
    tls = isinstance(p, poplib.POP3_SSL)
    assert caps["SASL"] == (["PLAIN"] if tls else ["CRAM-MD5"]), caps
    assert caps["IMPLEMENTATION"] == ["pop3kit-mock"], caps
    assert p.utf8().startswith(b"+OK"), "utf8"
    if apop:
        assert p.apop("alice", "s3cret pass").startswith(b"+OK"), "apop"
    else:
        assert p.user("alice").startswith(b"+OK")
        assert p.pass_("s3cret pass").startswith(b"+OK")
    sizes = [rfc_size(m) for m in MSGS]
    assert p.stat() == (3, sum(sizes)), p.stat()
    resp, lines, _ = p.list()
    assert lines == [b"%d %d" % (i + 1, s) for i, s in enumerate(sizes)], lines
    assert p.list(2) == b"+OK 2 %d" % sizes[1]
    resp, uids, _ = p.uidl()
    assert len(uids) == 3 and len(set(u.split()[1] for u in uids)) == 3, uids
    assert p.uidl(1) == b"+OK " + uids[0]
    for i, m in enumerate(MSGS):
        resp, lines, octets = p.retr(i + 1)
        assert resp == b"+OK %d octets" % sizes[i], resp
        assert body_of(lines) == wire(m), (i, body_of(lines)[:200])
    resp, lines, _ = p.top(1, 2)
    assert body_of(lines) == wire(MSG1).split(b"\r\n\r\n")[0] + b"\r\n\r\nHello Bob,\r\n" \
        b".a line starting with a dot\r\n", lines
    assert p.dele(1).startswith(b"+OK")
    try:
        p.retr(1)
        raise AssertionError("RETR of a deleted message succeeded")
    except poplib.error_proto as e:
        assert b"already deleted" in e.args[0], e
    assert p.rset().startswith(b"+OK")
    assert p.noop() == b"+OK"
    assert p.retr(1)[0].startswith(b"+OK")
    assert p.quit().startswith(b"+OK")


def test(binary):
    tmp = tempfile.mkdtemp(prefix="pop3mock-tls-")
    md = make_maildir(MSGS)
    try:
        ca, cert, key = make_ca(tmp)
        args = ["--maildrop", md, "--user", "alice", "--password", "s3cret pass",
                "--tls-cert", cert, "--tls-key", key, "--listen", "127.0.0.1:0"]
        with Mock(binary, args) as m:
            # Plain, USER/PASS.
            check_session(poplib.POP3(m.host, m.port, timeout=10))
            # APOP.
            check_session(poplib.POP3(m.host, m.port, timeout=10), apop=True)
            # STLS with verification against the test CA; STLS vanishes from CAPA.
            p = poplib.POP3(m.host, m.port, timeout=10)
            assert "STLS" in p.capa()
            ctx = ssl.create_default_context(cafile=ca)
            p.stls(context=ctx)
            assert "STLS" not in p.capa()
            check_session_after_stls(p)
            # A second session of the same user while one is logged in: [IN-USE].
            a = poplib.POP3(m.host, m.port, timeout=10)
            a.user("alice")
            a.pass_("s3cret pass")
            b = poplib.POP3(m.host, m.port, timeout=10)
            b.user("alice")
            try:
                b.pass_("s3cret pass")
                raise AssertionError("second session was let in")
            except poplib.error_proto as e:
                assert e.args[0].startswith(b"-ERR [IN-USE]"), e
            b.quit()
            a.quit()
            # Bad password: [AUTH].
            c = poplib.POP3(m.host, m.port, timeout=10)
            c.user("alice")
            try:
                c.pass_("wrong")
                raise AssertionError("bad password accepted")
            except poplib.error_proto as e:
                assert e.args[0].startswith(b"-ERR [AUTH]"), e
            c.quit()
        # Implicit TLS (POP3_SSL).
        args = ["--maildrop", md, "--user", "alice", "--password", "s3cret pass",
                "--tls-cert", cert, "--tls-key", key, "--implicit-tls"]
        with Mock(binary, args) as m:
            ctx = ssl.create_default_context(cafile=ca)
            p = poplib.POP3_SSL(m.host, m.port, context=ctx, timeout=10)
            caps = p.capa()
            assert "STLS" not in caps, caps
            check_session(p)
    finally:
        cleanup(tmp)
        cleanup(md)


def check_session_after_stls(p):
    assert p.user("alice").startswith(b"+OK")
    assert p.pass_("s3cret pass").startswith(b"+OK")
    resp, lines, _ = p.retr(2)
    assert body_of(lines) == wire(MSG2)
    p.quit()


if __name__ == "__main__":
    main(test)
