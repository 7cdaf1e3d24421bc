#!/usr/bin/env python3
"""make_seeds.py - write the generated seeds of corpus/<target>/.

The seeds are the example dialogues of the RFCs (RFC 1939 sections 4-10, RFC 2449
sections 5-8, RFC 2595 section 4, RFC 5034 section 6, RFC 1734 section 2, RFC 6856
section 3, RFC 2195 section 2) and the quirk vectors of conformance/QUIRKS.md (Qn), each
wrapped in the header bytes its target reads (see the header comment of
fuzz/fuzz_<target>.c). Names say what a seed is: rfc1939-5-list, q2-dot-cr-eof.
The fast twins (fast_<target>) get the same vectors in their own layout: the same bytes
where the headers agree, else without the twin's header bytes or with their own.

Deterministic and re-runnable: the same files with the same bytes every time; files it
did not write (regress-* reproducers, inputs merged by fuzz/campaign) are left alone.
    fuzz/make_seeds.py           write the seeds
    fuzz/make_seeds.py --check   exit 1 if a generated seed is missing or differs
Python 3 standard library only.
"""
import argparse
import base64
import sys
from pathlib import Path

CORPUS = Path(__file__).resolve().parent.parent / "corpus"

# pop3/wire.h
BARE_LF, BANNER, BARE_PLUS, DOT_CR_EOF, STATUS_CASE, ANY_PLUS = 1, 2, 4, 8, 16, 32
DEFAULT = BARE_LF | BANNER | BARE_PLUS | DOT_CR_EOF
STRICT = 0
NONE, G, S1, M, L, A = range(6)  # POP3_EXPECT_*

SEEDS = {}


def seed(target, name, data):
    if isinstance(data, str):
        data = data.encode("latin-1")
    names = SEEDS.setdefault(target, {})
    assert name not in names, f"{target}/{name} defined twice"
    names[name] = data


def crlf(*lines):
    """Lines joined with CRLF, each ended by CRLF."""
    return "".join(line + "\r\n" for line in lines)


# ---------------------------------------------------------------------------------------
# decoder: 13 header bytes (fuzz_decoder.c), then what the server sends.


def decoder(name, wire, expects, tol=DEFAULT, eager=False, max_line=None, max_body=0,
            banners=None, listing=None, chunks=(1, 2, 3, 7)):
    assert 1 <= len(expects) <= 8
    flags = tol | (0x40 if eager else 0)
    line = 0 if max_line is None else max_line - 8
    assert 0 <= line <= 255
    counts = (7 if banners is None else banners) | ((31 if listing is None else listing) << 3)
    nib = list(expects) + [NONE] * (8 - len(expects))
    exp = bytes(nib[i] | (nib[i + 1] << 4) for i in range(0, 8, 2))
    head = bytes([flags, line, max_body, counts, len(expects) - 1]) + exp
    head += bytes(c - 1 for c in chunks)
    assert len(head) == 13
    octets = wire.encode("latin-1") if isinstance(wire, str) else wire
    seed("decoder", name, head + octets)
    # fast_decoder: byte 0 tolerances | line limit choice << 6, byte 1 the first
    # expectation | every later one << 4 (fuzz_fast_decoder.c).
    limit = {None: 0, 8: 1, 16: 2, 64: 3}[max_line]
    later = expects[1] if len(expects) > 1 else NONE
    seed("fast_decoder", name, bytes([tol | (limit << 6), expects[0] | (later << 4)]) + octets)


RETR1 = crlf("Subject: lunch", "From: mrose@dbc.mtview.ca.us", "", "Lunch at noon?",
             "..stuffed line", "", ".")
decoder("rfc1939-4-greeting", crlf("+OK POP3 server ready"), [G])
decoder("rfc1939-4-quit", crlf("+OK dewey POP3 server signing off"), [S1])
decoder("rfc1939-5-stat", crlf("+OK 2 320"), [S1])
decoder("rfc1939-5-list",
        crlf("+OK 2 messages (320 octets)", "1 120", "2 200", "."), [L])
decoder("rfc1939-5-list-n", crlf("+OK 2 200",
                                 "-ERR no such message, only 2 messages in maildrop"), [S1, S1])
decoder("rfc1939-5-retr", crlf("+OK 120 octets") + RETR1, [M])
decoder("rfc1939-5-dele", crlf("+OK message 1 deleted", "-ERR message 2 already deleted"),
        [S1, S1])
decoder("rfc1939-5-noop-rset", crlf("+OK", "+OK maildrop has 2 messages (320 octets)"),
        [S1, S1])
decoder("rfc1939-7-top", crlf("+OK", "From: a", "", "line 1", ".", "-ERR no such message"),
        [M, M])
decoder("rfc1939-7-uidl",
        crlf("+OK", "1 whqtswO00WBw418f9t5JxYwZ", "2 QhdPYR:00WBw1Ph7x7", "."), [L])
decoder("rfc1939-7-uidl-n", crlf("+OK 2 QhdPYR:00WBw1Ph7x7",
                                 "-ERR no such message, only 2 messages in maildrop"), [S1, S1])
decoder("rfc1939-7-user-pass",
        crlf("-ERR sorry, no mailbox for frated here", "+OK mrose is a real hoopy frood",
             "-ERR maildrop already locked"), [S1, S1, S1])
decoder("rfc1939-7-apop",
        crlf("+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>",
             "+OK maildrop has 1 message (369 octets)"), [G, S1])
decoder("rfc1939-10-session",
        crlf("+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>",
             "+OK mrose's maildrop has 2 messages (320 octets)", "+OK 2 320",
             "+OK 2 messages (320 octets)", "1 120", "2 200", ".", "+OK 120 octets") + RETR1 +
        crlf("+OK message 1 deleted", "+OK 200 octets", "second message", ".",
             "+OK message 2 deleted"), [G, S1, S1, L, M, S1, M, S1], chunks=(5, 64, 1, 200))
decoder("rfc2449-5-capa",
        crlf("+OK Capability list follows", "TOP", "USER", "SASL CRAM-MD5 KERBEROS_V4",
             "RESP-CODES", "LOGIN-DELAY 900", "PIPELINING", "EXPIRE 60", "UIDL",
             "IMPLEMENTATION Shlemazle-Plotz-v302", "."), [L])
decoder("rfc2449-8-in-use", crlf("-ERR [IN-USE] Do you have another POP session running?"),
        [S1])
decoder("rfc3206-sys-temp", crlf("-ERR [SYS/TEMP/QUOTA] full", "-ERR [AUTH] bad password",
                                 "-ERR [SYS/PERM] call support"), [S1, S1, A])
decoder("rfc2595-4-stls", crlf("+OK Begin TLS negotiation",
                               "-ERR Command not permitted when TLS active"), [S1, S1])
decoder("rfc5034-6-plain-ir",
        crlf("+OK pop.example.com BlurdyBlurp POP3 server ready", "+OK List of capabilities follows",
             "SASL DIGEST-MD5 GSSAPI ANONYMOUS", "STLS", "IMPLEMENTATION BlurdyBlurp POP3 server",
             ".", "+OK Begin TLS negotiation now", "+OK List of capabilities follows",
             "SASL PLAIN DIGEST-MD5 GSSAPI ANONYMOUS", "IMPLEMENTATION BlurdyBlurp POP3 server",
             ".", "+OK Maildrop locked and ready"), [G, L, S1, L, A])
decoder("rfc5034-6-plain", crlf("+ ", "+OK Maildrop locked and ready"), [A, A])
decoder("rfc5034-6-digest-md5",
        crlf("+ cmVhbG09ImVsd29vZC5pbm5vc29mdC5jb20iLG5vbmNlPSJPQTZNRzl0RVFHbTJoaCIscW9wPSJhdXRoIix"
             "hbGdvcml0aG09bWQ1LXNlc3MsY2hhcnNldD11dGYtOA==",
             "+ cnNwYXV0aD0wYjk3MTQ2MmNlZjVlOGY5MzBkYjlhMzNiMDJmYzlhMA==",
             "+OK Maildrop locked and ready"), [A, A, A])
decoder("rfc1734-2-kerberos",
        crlf("+OK POP3 server ready", "+ AmFYig==", "+ or//EoAADZI=",
             "+OK Kerberos V4 authentication successful", "-ERR Unrecognized authentication type"),
        [G, A, A, A, A])
decoder("rfc6856-3-lang",
        crlf("+OK Language listing follows", "en English", "en-boont English Boontling dialect",
             "de Deutsch", "it Italiano", "es Espanol", "sv Svenska", ".",
             "-ERR es Idioma <<UGA>> no es conocido"), [L, S1])
decoder("rfc6856-5-utf8", crlf("-ERR [UTF8] message needs UTF8", "+OK caf\xc3\xa9"), [M, S1])

# Quirks (clients-and-quirks.md section (d)).
decoder("q1-dot-appended", crlf("+OK", "last line."), [M])
decoder("q2-dot-cr-eof", "+OK\r\nabc\r\n.\r", [M])
decoder("q2-dot-cr-eof-strict", "+OK\r\nabc\r\n.\r", [M], tol=STRICT)
decoder("q3-empty-listing", crlf("+OK 0 messages:", "."), [L])
decoder("q4-dot-not-stuffed", crlf("+OK", ".x", ". ", ".", "+OK"), [M, S1])
decoder("q4-dot-cr-x", "+OK\r\n.\rX\r\n.\r\r\n.\r\n", [M])
decoder("q5-crlf-split", crlf("+OK 3", "ab", "."), [M], chunks=(1, 1, 1, 1))
decoder("q6-bare-lf", "+OK\nline1\nline2\n.\n+OK\n1 1\n.\n", [M, L])
decoder("q6-bare-lf-strict-body", "+OK\r\nab\ncd\r\n.\r\n", [M], tol=STRICT)
decoder("q6-bare-lf-strict-terminator", "+OK\r\nab\r\n.\n", [M], tol=STRICT)
decoder("q6-bare-lf-strict-status", "+OK\n", [S1], tol=STRICT)
decoder("q35-banner", crlf("  _   _", " | |_| |", "+OK curl POP3 server ready to serve"), [G])
decoder("q35-banner-limit", crlf("a", "b", "c", "+OK"), [G], banners=2)
decoder("q35-banner-nul", "banner\x00\r\n+OK\r\n", [G])
decoder("q39-bare-plus", "+\n+OK\r\n", [A, A])
decoder("q39-bare-plus-strict", "+\r\n", [A], tol=STRICT)
decoder("q40-plus-err", crlf("+ERR no"), [S1])
decoder("q40-poplib-hola", "+ Hola mundo\n", [G], tol=DEFAULT | ANY_PLUS)
decoder("q41-stls-injection", crlf("+OK Begin TLS", "+OK user accepted", "+OK authenticated"),
        [S1])
decoder("q43-long-body-line", "+OK\r\n" + "x" * 3000 + "\r\n.\r\n", [M], max_line=16,
        chunks=(100, 1, 250, 17))
decoder("q48-nul-status", "+OK a\x00b\r\n", [S1])
decoder("q48-nul-listing", "+OK\r\n1 a\x00\r\n.\r\n", [L])
decoder("q48-nul-body", "+OK\r\na\x00b\xff\x80\r\n\x00\r\n.\r\n", [M])
decoder("q49-list-n-single", crlf("+OK 1 120", "+OK 2 messages", "1 120", "2 200", "."), [S1, L])
decoder("q50-capa-dot-line", crlf("+OK", "..weird", ".x", "TOP", "."), [L])
decoder("case-lower-refused", crlf("+ok fine"), [S1])
decoder("case-lower-tolerated", crlf("-err [auth] no", "+Ok"), [S1, S1],
        tol=DEFAULT | STATUS_CASE)
decoder("status-okay-not-indicator", crlf("+OKAY"), [S1])
decoder("status-not-pop3", crlf("220 smtp.example.com ESMTP"), [G])
decoder("continuation-outside-sasl", crlf("+ hello"), [S1])
decoder("limit-status-line", crlf("+OK 1234567890", "+OK 12345678901"), [S1, S1], max_line=16)
decoder("limit-status-no-lf", "+OK 1234567890123456789", [S1], max_line=16)
decoder("limit-listing-line", crlf("+OK", "1 12345678901234", "."), [L], max_line=16)
decoder("limit-listing-lines", crlf("+OK", "1 1", "2 2", "3 3", "."), [L], listing=2)
decoder("limit-body", crlf("+OK", "abcdefgh", "."), [M], max_body=5)
decoder("limit-body-stuffed", crlf("+OK", "..", "..", "."), [M], max_body=5)
decoder("limit-body-exact", crlf("+OK", "abc", "."), [M], max_body=5)
decoder("eof-before-greeting", "", [G])
decoder("eof-in-status", "+OK hel", [S1])
decoder("eof-in-listing", "+OK\r\n1 1", [L])
decoder("eof-in-body", "+OK\r\nabc", [M])
decoder("q6-bare-lf-strict-listing", "+OK\r\n1 120\n.\r\n", [L], tol=STRICT)
decoder("limit-body-dot-cr", crlf("+OK", "abc") + ".\rX\r\n.\r\n", [M], max_body=5)
decoder("eof-after-line", crlf("+OK", "abc"), [M])
decoder("eof-before-response", crlf("+OK"), [S1, S1], eager=True)
decoder("pipelined-eager",
        crlf("+OK 5 octets", "abc", ".", "+OK deleted", "+OK 3", "x", ".", "+OK deleted"),
        [M, S1, M, S1], eager=True)
decoder("pipelined-none-between", crlf("+OK", ".", "-ERR no such message", "+OK"),
        [M, NONE, M, S1])

# ---------------------------------------------------------------------------------------
# status: byte 0 expectation, byte 1 tolerances, then one line without its line end.


def status(name, line, expect=S1, tol=DEFAULT):
    seed("status", name, bytes([expect, tol]) + line.encode("latin-1"))
    seed("fast_status", name, bytes([expect, tol]) + line.encode("latin-1"))  # same layout


status("rfc1939-3-ok", "+OK dewey POP3 server signing off", G)
status("rfc1939-3-err", "-ERR no such message, only 2 messages in maildrop")
status("rfc1939-3-bare-ok", "+OK")
status("rfc1939-3-bare-err", "-ERR")
status("rfc2449-8-in-use", "-ERR [IN-USE] Do you have another POP session running?")
status("rfc2449-8-login-delay", "-ERR [LOGIN-DELAY] wait")
status("rfc2449-8-hierarchy", "-ERR [SYS/TEMP/QUOTA] full")
status("rfc2449-8-unknown", "-ERR [REFERRAL/user@host:110] Referral")
status("rfc2449-9-empty-level", "-ERR [SYS//TEMP] x")
status("rfc2449-9-space-not-rchar", "-ERR [not a code] x")
status("rfc2449-9-unclosed", "-ERR [SYS/TEMP no bracket")
status("rfc3206-sys-perm", "-ERR [sys/perm] call support")
status("rfc3206-auth", "-ERR [AUTH]")
status("rfc6856-utf8", "-ERR [UTF8] message needs UTF8")
status("rfc5034-4-continuation", "+ cnNwYXV0aD0wYjk3MTQ2MmNlZjVlOGY5MzBkYjlhMzNiMDJmYzlhMA==", A)
status("rfc5034-4-empty-challenge", "+ ", A)
status("q39-bare-plus", "+", A)
status("q39-bare-plus-strict", "+", A, STRICT)
status("q40-plus-err", "+ERR no")
status("q40-poplib-hola", "+ Hola mundo", G, DEFAULT | ANY_PLUS)
status("q40-poplib-okay", "+OKAY[IN-USE]", S1, DEFAULT | ANY_PLUS)
status("q48-nul", "+OK a\x00b")
status("case-lower", "+ok fine", S1, DEFAULT | STATUS_CASE)
status("case-lower-refused", "-Err no", S1)
status("text-tab", "-ERR\tx")
status("text-two-spaces", "+OK  two")
status("text-8bit", "+OK caf\xc3\xa9")
status("code-then-tab", "+OK [XCLIENT]\tready", G)
status("banner-line", "  _   _", G)
status("trailing-cr", "+OK text\r")
status("plus-other", "+XYZ")
status("code-first", "[SYS/TEMP] not a status line")
status("codes-all-known", "-ERR [LOGIN-DELAY/900] [IN-USE] [SYS] [UTF8] [AUTH]")
status("code-sys-temp", "-ERR [SYS/TEMP] try later")
status("code-sys-bare", "-ERR [SYS] system error")

# ---------------------------------------------------------------------------------------
# stuffing: crlf flag, 3 input chunk sizes, 3 output capacities, 3 decoder chunk sizes.


def stuffing(name, body, crlf_flag=False, ins=(1, 3, 7), caps=(1, 2, 5), dec=(1, 4, 9)):
    head = bytes([1 if crlf_flag else 0]) + bytes(x - 1 for x in ins + caps + dec)
    seed("stuffing", name, head + (body.encode("latin-1") if isinstance(body, str) else body))


stuffing("empty", "")
stuffing("rfc1939-3-dot-line", ".\r\n")
stuffing("rfc1939-3-dots", "..\r\n.\r\n...\r\n")
stuffing("rfc1939-3-terminator-inside", "a\r\n.\r\nb\r\n")
stuffing("rfc1939-5-message", RETR1[:-3].replace("..stuffed", ".stuffed"))
stuffing("rfc1939-11-maildrop-lf", "From: a\nSubject: b\n\n.hidden\nbody\n", crlf_flag=True)
stuffing("bare-lf-kept", "a\nb\n.c\n")
stuffing("no-final-newline", "last line")
stuffing("no-final-newline-dot", "x\r\n.")
stuffing("cr-at-end", "a\r", crlf_flag=True)
stuffing("lone-cr", "a\rb\r\r\n.\r\n")
stuffing("crlf-split-chunks", "ab\r\n.\r\ncd\r\n", ins=(3, 1, 2), caps=(1, 1, 1))
stuffing("nul-8bit", "a\x00b\xff\x80\r\n\x00\r\n")
stuffing("dot-cr-lf-mixed", ".\r\n.\n.\r.", crlf_flag=True)
stuffing("big-room", "x" * 300 + "\n." * 10, ins=(256, 256, 256), caps=(256, 256, 256),
         dec=(256, 256, 256))

# ---------------------------------------------------------------------------------------
# capa: byte 0 max_caps (31: default) | 0x20 alias | 0x40 free and again, byte 1 clear-at.


def capa(name, lines, max_caps=None, alias=False, again=False, clear_at=0):
    flags = (31 if max_caps is None else max_caps - 1) | (0x20 if alias else 0)
    flags |= 0x40 if again else 0
    seed("capa", name, bytes([flags, clear_at]) + "\n".join(lines).encode("latin-1"))
    seed("fast_capa", name, bytes([flags & 31]) + "\n".join(lines).encode("latin-1"))


RFC2449_CAPA = ["TOP", "USER", "SASL CRAM-MD5 KERBEROS_V4", "RESP-CODES", "LOGIN-DELAY 900",
                "PIPELINING", "EXPIRE 60", "UIDL", "IMPLEMENTATION Shlemazle-Plotz-v302"]
capa("rfc2449-5-capa", RFC2449_CAPA)
capa("rfc2449-6-expire", ["EXPIRE 5 USER", "EXPIRE 30", "EXPIRE NEVER", "EXPIRE 0"])
capa("rfc5034-3-capa", ["SASL PLAIN DIGEST-MD5 GSSAPI ANONYMOUS", "STLS",
                        "IMPLEMENTATION BlurdyBlurp POP3 server"])
capa("rfc2595-4-clear-after-stls",
     ["SASL DIGEST-MD5 GSSAPI ANONYMOUS", "STLS", "SASL PLAIN DIGEST-MD5 GSSAPI ANONYMOUS"],
     clear_at=3)
capa("rfc6856-utf8-lang", ["UTF8 USER", "LANG", "utf8"])
capa("sasl-split-lines", ["SASL PLAIN", "sasl login", "Sasl\tXOAUTH2  OAUTHBEARER"])
capa("blanks", ["  TOP  ", "\tUSER\t", "", "   ", "SASL  PLAIN\t\tLOGIN "])
capa("q50-dot-line", [".TOP", "..", "TOP"])
capa("limit-two", RFC2449_CAPA, max_caps=2)
capa("alias-grow", ["SASL " + " ".join("M%d" % i for i in range(40))] * 3 + RFC2449_CAPA,
     alias=True)
capa("free-and-again", RFC2449_CAPA, again=True, alias=True)
capa("nul-and-8bit", ["X-\x00NUL a\x00b", "X-UTF8 caf\xc3\xa9"])

# ---------------------------------------------------------------------------------------
# listing: byte 0 uidl | strict<<1 | (max_entries-1 or 63)<<2, byte 1 again.


def listing(name, lines, uidl=False, strict=False, max_entries=None, again=False):
    mode = (1 if uidl else 0) | (2 if strict else 0)
    mode |= (63 if max_entries is None else max_entries - 1) << 2
    seed("listing", name, bytes([mode, 1 if again else 0]) + "\n".join(lines).encode("latin-1"))
    # fast_listing: one line per input, no header; each line once (libFuzzer runs the
    # empty input by itself and does not count an empty file).
    for i, line in enumerate(lines):
        if line and line not in FAST_LISTING_LINES:
            FAST_LISTING_LINES.add(line)
            seed("fast_listing", name if len(lines) == 1 else f"{name}-{i + 1}", line)


FAST_LISTING_LINES = set()


listing("rfc1939-5-stat", ["2 320"])
listing("rfc1939-5-list", ["1 120", "2 200"])
listing("rfc1939-7-uidl", ["1 whqtswO00WBw418f9t5JxYwZ", "2 QhdPYR:00WBw1Ph7x7"], uidl=True)
listing("rfc1939-7-uidl-shared", ["1 same", "2 same", "3 other"], uidl=True)
listing("q13-big-sizes", ["1 4294967400", "2 18446744073709551615", "3 18446744073709551616",
                          "4 99999999999999999999", "5 0000000000000000000000000001"])
listing("q45-zero-and-duplicates", ["0 12345", "0 bad", "1 10", "1 20", "2 30"])
listing("q45-descending", ["9 1", "3 1", "7 1", "3 2", "1 1", "8 1", "2 1", "6 1", "5 1",
                           "4 1", "10 1", "12 1", "11 1"] + ["%d 1" % n for n in range(40, 13, -1)])
listing("q46-long-uid", ["1 " + "x" * 71, "2 abc def", "3  spaced", "4 tab\tuid ",
                         "5 caf\xc3\xa9"], uidl=True)
listing("q46-extra-spaces", ["  1 120", "2  200", "3\t300", "4 400 ", "5 500 trailing"])
listing("q47-limit", ["%d 1" % n for n in range(1, 12)], max_entries=8)
listing("strict-list", ["1 120", "2  200", "3 300"], strict=True)
listing("strict-uidl", ["1 abc", "2 abc", "3 " + "y" * 80], uidl=True, strict=True)
listing("malformed", ["", " ", "1", "1 ", "a 1", "1 a", "-1 5", "+1 5", "1 -5", "1\x005"])
listing("free-and-again", ["3 1", "1 1", "2 1"], uidl=True, again=True)

# ---------------------------------------------------------------------------------------
# apop: the greeting line.



def apop(name, line):
    seed("apop", name, line)
    seed("fast_apop", name, line)  # same layout: the greeting alone


apop("rfc1939-7-greeting", "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>")
apop("q33-not-msg-id", "+OK E.Novation POP3 <a.b.c> ready")
apop("q33-then-valid", "+OK <abc> <x y@z> <@b> <a@> <1.2@host> <later@one>")
apop("q44-many-lt", "+OK " + "<" * 8000)
apop("q44-lt-then-valid", "+OK " + "<" * 2000 + "a@b>")
apop("nested", "+OK <<a@b>> <c@d>")
apop("no-timestamp", "+OK POP3 server ready")
apop("control-inside", "+OK <a\x00@b> <a\x7f@b> <a@\xffb> <ok@b>")

# ---------------------------------------------------------------------------------------
# command: byte 0 status kind | allow_space<<2 | with_code<<3, byte 1 max, byte 2 cap;
# fields separated by NUL.


def command(name, fields, kind=1, allow_space=False, with_code=False, max_len=0, cap=254):
    flags = kind | (4 if allow_space else 0) | (8 if with_code else 0)
    seed("command", name, bytes([flags, max_len, cap]) + "\x00".join(fields).encode("latin-1"))


command("rfc1939-7-user", ["USER", "mrose"])
command("rfc1939-7-pass-spaces", ["PASS", "secret with spaces"], allow_space=True)
command("rfc1939-7-apop", ["APOP", "mrose", "c4c9334bac560ecc979e58001b3e22fb"])
command("rfc1939-7-top", ["TOP", "1", "10"])
command("rfc1939-5-stat", ["STAT"])
command("rfc5034-4-sasl-cancel", ["*"], kind=3)
command("rfc5034-4-sasl-response", ["dGVzdAB0ZXN0AHRlc3Q="], kind=3)
command("rfc2449-4-limit", ["PASS", "p" * 249], cap=255)
command("rfc2449-4-over-limit", ["PASS", "p" * 250], cap=255)
command("rfc2449-8-status-code", ["SYS/TEMP", "mailbox busy"], kind=2, with_code=True)
command("rfc2449-9-bad-code", ["SYS//TEMP", "x"], kind=2, with_code=True)
command("q42-crlf-injection", ["USER", "mrose\r\nDELE 1"])
command("q42-nul", ["PASS", "a", "b"], allow_space=True)
command("q42-controls", ["USER", "a\x1bb\x7f"])
command("q42-tab", ["USER", "a\tb"])
command("q42-lf", ["USER", "a\nb"])
command("q42-del", ["USER", "a\x7fb"])
command("custom-max-no-args", ["STAT"], max_len=4)
command("small-cap-line", ["STAT"], cap=3)
command("status-code-with-space", ["A B", "text"], kind=1, with_code=True)
command("status-text-lf", ["", "two\nlines"], kind=1)
command("empty-middle-arg", ["TOP", "", "10"])
command("keyword-bad", ["RE-R", "1"])
command("rfc6856-utf8-keyword", ["UTF8"])
command("small-cap", ["RETR", "1"], cap=5)
command("custom-max", ["LIST", "12345"], max_len=8)
command("continuation-with-code", ["AUTH", "x"], kind=3, with_code=True)
command("invalid-kind", ["", "text"], kind=0)
command("8bit-utf8", ["USER", "j\xc3\xb6rg"])

# ---------------------------------------------------------------------------------------
# command_parse: byte 0 bit 0 SPACES, bit 1 8BIT, bits 2-3 argument limit (0 none, 1 the
# 40 of RFC 1939, 2-3 byte 1 % 16 + 1); byte 1 max_line (0: 255); then the line.
CMD_SPACES, CMD_8BIT = 1, 2
CMD_DEFAULT = CMD_SPACES | CMD_8BIT


def command_parse(name, line, tol=CMD_DEFAULT, arg_limit=0, max_line=0):
    head = bytes([tol | (arg_limit << 2), max_line])
    seed("command_parse", name, head + line.encode("latin-1"))
    seed("fast_command_parse", name, head + line.encode("latin-1"))  # same layout


command_parse("rfc1939-7-user", "USER mrose")
command_parse("rfc1939-7-pass-spaces", "PASS secret with spaces")
command_parse("rfc1939-7-apop", "APOP mrose c4c9334bac560ecc979e58001b3e22fb", tol=0)
command_parse("rfc1939-7-top", "TOP 1 10", tol=0)
command_parse("rfc1939-5-stat", "STAT", tol=0)
command_parse("rfc1939-5-list-lower", "list 1")
command_parse("rfc1939-3-arg-40", "USER " + "u" * 40, tol=0, arg_limit=1)
command_parse("rfc1939-3-arg-41", "USER " + "u" * 41, tol=0, arg_limit=1)
command_parse("rfc2449-4-limit", "PASS " + "p" * 248)
command_parse("rfc2449-4-over-limit", "PASS " + "p" * 249)
command_parse("rfc2449-4-raised-limit", "PASS " + "p" * 40, max_line=47)
command_parse("rfc5034-4-auth-ir", "AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=", tol=0)
command_parse("rfc5034-4-auth-empty-ir", "AUTH PLAIN =", tol=0)
command_parse("rfc6856-utf8", "UTF8", tol=0)
command_parse("rfc6856-8bit-user", "USER j\xc3\xb6rg")
command_parse("rfc6856-8bit-user-strict", "USER j\xc3\xb6rg", tol=0)
command_parse("q42-crlf-injection", "USER a\r\nDELE 1")
command_parse("q42-nul", "PASS a\x00b")
command_parse("q42-tab", "LIST\t1")
command_parse("q42-esc", "USER \x1b[0m")
command_parse("spaces-double", "TOP 1  2")
command_parse("spaces-double-strict", "TOP 1  2", tol=0)
command_parse("spaces-trailing", "STAT ")
command_parse("spaces-trailing-strict", "STAT ", tol=0)
command_parse("keyword-short", "QU")
command_parse("keyword-long", "QUITS")
command_parse("keyword-8bit", "R\xc3\x89TR 1")
command_parse("keyword-unknown", "XTND XLST")
command_parse("empty", "")
command_parse("many-args", "XYZ 1 2 3 4 5 6 7 8 9 10")
command_parse("small-arg-limit", "TOP 12345 1", arg_limit=2, max_line=4)
command_parse("encode-fields", "TOP\x001\x0010")
command_parse("encode-fields-empty-last", "PASS\x00")


# ---------------------------------------------------------------------------------------
# base64: byte 0 bit 0 CRAM-MD5, byte 1 secret length, secret, then R.


def b64(name, text, secret=b"", cram=False):
    data = text if isinstance(text, bytes) else text.encode("latin-1")
    seed("base64", name, bytes([1 if cram else 0, len(secret)]) + secret + data)
    # fast_base64: byte 0 the capacity, 255 for enough; then the text.
    seed("fast_base64", name, bytes([255]) + data)


b64("rfc5034-6-plain", "dGVzdAB0ZXN0AHRlc3Q=")
b64("rfc5034-6-digest-challenge", "cnNwYXV0aD0wYjk3MTQ2MmNlZjVlOGY5MzBkYjlhMzNiMDJmYzlhMA==")
b64("rfc1734-2-kerberos", "AmFYig==")
b64("rfc4648-10-vectors", "Zm9vYmFy")
b64("rfc4648-3-5-pad-bits", "Zh==")
b64("rfc4648-pad-one", "Zm8=")
b64("misplaced-pad", "Zg==Zg==")
b64("x-eq-y", "Zg=a")
b64("spaces-and-newlines", "Zm9v\r\nYmFy ")
b64("base64url", "-_-_")
b64("not-multiple-of-4", "Zm9vY")
b64("binary-octets", bytes(range(256)))
RFC2195_CHALLENGE = "<1896.697170952@postoffice.reston.mci.net>"
b64("rfc2195-2-cram-md5", base64.b64encode(RFC2195_CHALLENGE.encode()).decode(),
    secret=b"tanstaaftanstaaf", cram=True)
b64("cram-long-secret", "AQ==", secret=b"k" * 100, cram=True)
b64("cram-not-base64", "<raw challenge>", secret=b"s", cram=True)
seed("fast_base64", "capacity-one-short", bytes([5]) + b"Zm9vYmFy")
seed("fast_base64", "capacity-exact", bytes([5]) + b"Zm9vYmE=")
seed("fast_base64", "capacity-zero-empty", bytes([0]))



# ---------------------------------------------------------------------------------------
# script: byte 0 is the size of a small error buffer, then a pop3-mock dialogue script.
# The dialogues of the conformance cases that use directives or come from the RFCs,
# and scripts that each stop at one parse error.

CASES = CORPUS.parent / "conformance" / "cases"


def script(name, text, errbuf=24):
    data = text if isinstance(text, bytes) else text.encode("latin-1")
    seed("script", name, bytes([errbuf]) + data)
    seed("fast_script", name, data)  # fast_script: no header


for case in sorted(CASES.glob("*.case")):
    text = case.read_text(encoding="latin-1")
    head, sep, dialogue = text.partition("\ndialogue:\n")
    if sep and ("\n!" in "\n" + dialogue or case.name.startswith("rfc")):
        script("case-" + case.stem, dialogue)

script("every-directive", "!secret mrose tanstaaf\n!set who mrose\\x41{user}\n!tls-max 1.2\n"
       "S: +OK ready {timestamp}\nC~ APOP {who} {apop}\n!delay 5\n!drip 3 1\n"
       "S: +OK\\r\\n\\c\n!drip off\n!split 2 4 wait 1\nS: +OK split\nC= CAPA\n!flush\n"
       "S: +OK\\x41\\s\\t\\0\\{\\}\\\\\nC: STLS\nS: +OK go\n!starttls\nC: USER {name:word}\n"
       "S: +OK {name}\nC: PASS {n:digits}\nS: +OK {n}\nC: AUTH {*}\nS: + {cram-md5}\n"
       "!half-close\n!close-after 3\nS: +OK bye\n!session\n!implicit-tls\nS: +OK tls\n!stall\n"
       "!session\n!tls-alert handshake_failure\n!session\n!tls-garbage \\x16\\x03\n"
       "!session\n!tls-truncate 10 stall\n!session\n!tls-abort 5\n!session\nS: +OK\n!reset\n")
script("optional-exchanges", "S: +OK ready\n!optional\nC: CAPA\nS: +OK\nS: USER\nS: .\n"
       "!optional\nC= NOOP\n!delay 1\nS: +OK\nC: USER {u:word}\nS: +OK {u}\nC: QUIT\n")
script("error-optional-at-end", "S: +OK\n!optional\nC: CAPA\nS: +OK\nS: .\n", errbuf=40)
script("error-unknown-directive", "S: +OK\n!bogus 1\n")
script("error-bad-escape", "S: +OK \\q\n", errbuf=5)
script("error-unclosed-brace", "S: +OK\nC: USER {name\n")
script("error-split-without-line", "S: +OK\n!split 3\n")
script("error-no-dialogue", "# only a comment\r\n\r\n")
script("error-apop-without-secret", "S: +OK {timestamp}\nC~ APOP u {apop}\n", errbuf=0)
script("error-after-close", "S: +OK\n!close\nS: +OK more\n", errbuf=1)
script("crlf-lines", "S: +OK\r\nC: QUIT\r\nS: +OK\r\n")



# ---------------------------------------------------------------------------------------
# mock_session, script mode: byte 0 bit 0 set, bytes 1-4 quirk flags (unused there), byte 5
# the feed chunk size; then the dialogue of a conformance case, "\n@@client@@\n" and the
# octets of its C: lines, so that the session plays the whole dialogue and not only its
# first line. Patterns become octets they match; {apop} and {cram-md5} are left as they
# are (the session departs there, which is a path worth having too).

PATTERN_OCTETS = {"*": "x", "word": "mrose", "digits": "1"}
ESCAPES = {"r": "\r", "n": "\n", "t": "\t", "0": "\0", "\\": "\\", "{": "{", "}": "}", "s": " "}


def client_octets(text):
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            e = text[i + 1]
            if e == "x" and i + 3 < len(text):
                out.append(chr(int(text[i + 2:i + 4], 16)) if all(
                    h in "0123456789abcdefABCDEF" for h in text[i + 2:i + 4]) else "?")
                i += 4
                continue
            out.append(ESCAPES.get(e, e))
            i += 2
            continue
        if c == "{" and "}" in text[i:]:
            j = text.index("}", i)
            name = text[i + 1:j]
            kind = name.split(":", 1)[1] if ":" in name else name
            out.append(PATTERN_OCTETS.get(kind, "{" + name + "}"))
            i = j + 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


for case in sorted(CASES.glob("*.case")):
    text = case.read_text(encoding="latin-1")
    head, sep, dialogue = text.partition("\ndialogue:\n")
    if not sep:
        continue
    client = "".join(client_octets(line[3:]) + "\r\n" for line in dialogue.splitlines()
                     if line[:3] in ("C: ", "C= ", "C~ "))
    chunk = 15 if len(case.stem) % 3 else 0  # whole writes mostly, one octet at a time too
    seed("mock_session", "script-case-" + case.stem,
         bytes([1, 0, 0, 0, 0, chunk]) + (dialogue + "\n@@client@@\n" + client).encode("latin-1"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="report generated seeds that are missing or differ; write nothing")
    args = parser.parse_args()
    stale = 0
    for target in sorted(SEEDS):
        directory = CORPUS / target
        if not args.check:
            directory.mkdir(parents=True, exist_ok=True)
        for name, data in sorted(SEEDS[target].items()):
            path = directory / name
            if path.exists() and path.read_bytes() == data:
                continue
            if args.check:
                print(f"stale or missing: corpus/{target}/{name}")
                stale += 1
            else:
                path.write_bytes(data)
    total = sum(len(s) for s in SEEDS.values())
    if args.check:
        print(f"{total} generated seeds, {stale} stale or missing")
        return 1 if stale else 0
    print(f"{total} seeds in {len(SEEDS)} targets under corpus/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
