"""load_sessions.py - 1,000 concurrent sessions against one pop3-mock --maildrop.

All sessions are connected at once (the server holds them together in one epoll loop);
each logs in, pipelines STAT, UIDL and RETR of every message (RFC 2449 section 6.6), then
QUIT, and checks every octet: nothing lost, nothing mixed between sessions. --no-lock
lets one user hold many sessions. No timing is asserted; the ctest timeout bounds it.
"""
import asyncio
import resource
import sys

from mockrun import MSG1, MSG2, Mock, cleanup, main, make_maildir, rfc_size, wire

SESSIONS = 1000
MSG3 = b"Subject: third\n\n" + b"".join(b".line %04d\n" % i for i in range(400))
MSGS = [MSG1, MSG2, MSG3]


def expected():
    out = b"+OK send PASS\r\n+OK alice's maildrop has 3 messages (%d octets)\r\n" % \
        sum(rfc_size(m) for m in MSGS)
    out += b"+OK 3 %d\r\n" % sum(rfc_size(m) for m in MSGS)
    return out


def stuffed(m):
    w = wire(m)
    lines = w.split(b"\r\n")[:-1]
    return b"".join((b"." + l if l.startswith(b".") else l) + b"\r\n" for l in lines) + b".\r\n"


async def session(port, want_tail, results, i):
    r, w = await asyncio.open_connection("127.0.0.1", port)
    greeting = await r.readline()
    assert greeting.startswith(b"+OK POP3 server ready <"), greeting
    w.write(b"USER alice\r\nPASS pw\r\nSTAT\r\nUIDL\r\nRETR 1\r\nRETR 2\r\nRETR 3\r\nQUIT\r\n")
    await w.drain()
    data = await r.read()  # until the server closes after QUIT
    w.close()
    results[i] = data


def test(binary):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want_fds = 2 * SESSIONS + 64
    if soft < want_fds:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want_fds, hard), hard))
    md = make_maildir(MSGS)
    try:
        with Mock(binary, ["--maildrop", md, "--user", "alice", "--password", "pw",
                           "--no-lock", "--max-sessions", str(SESSIONS + 10)]) as m:
            results = [None] * SESSIONS

            async def all_sessions():
                await asyncio.gather(*(session(m.port, None, results, i)
                                       for i in range(SESSIONS)))
            asyncio.run(all_sessions())
        head = expected()
        sizes = [rfc_size(x) for x in MSGS]
        first = results[0]
        uidl_start = first.index(b"+OK unique-id listing follows\r\n")
        uidl_end = first.index(b".\r\n", uidl_start) + 3
        uidl = first[uidl_start:uidl_end]
        tail = b""
        for i, msg in enumerate(MSGS):
            tail += b"+OK %d octets\r\n" % sizes[i] + stuffed(msg)
        tail += b"+OK pop3kit-mock POP3 server signing off (3 messages left)\r\n"
        want = head + uidl + tail
        bad = [i for i, got in enumerate(results) if got != want]
        assert not bad, "%d sessions got other octets, first %d: %r" % (
            len(bad), bad[0], results[bad[0]][:300])
    finally:
        cleanup(md)


if __name__ == "__main__":
    main(test)
