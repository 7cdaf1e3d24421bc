/*
 * test_decoder.c - the response decoder (codec/src/decoder.c, status.c).
 *
 * Table-driven: each row is an input, the expectations the client would set, and the
 * transcript of events it must give (see support/chunking.h for the format). Every row
 * is also decoded split at every offset and one octet at a time, and must give the same
 * transcript. Ids in comments are RFC requirement ids and quirk numbers (Qn).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chunking.h"
#include "pop3/error.h"
#include "pop3/wire.h"

#define G  POP3_EXPECT_GREETING
#define S1 POP3_EXPECT_SINGLE
#define M  POP3_EXPECT_MULTI
#define L  POP3_EXPECT_LISTING
#define A  POP3_EXPECT_SASL

enum { DEF = 0, STRICT, LENIENT_CASE, POPLIB, TINY_LINE, TWO_LINES, BODY5 };

typedef struct row {
    const char *name;
    const char *in;
    size_t len;
    pop3_expect expects[4];
    int options;
    const char *want;
} row;

#define IN(s) s, sizeof(s) - 1

static const row rows[] = {
    /* RFC 1939 section 4, greeting; section 7 APOP greeting. */
    {"rfc1939_greeting",
     IN("+OK POP3 server ready\r\n"),
     {G},
     DEF,
     "STATUS OK text=POP3 server ready q=0\nEOF-IDLE\n"},
    {"rfc1939_apop_greeting",
     IN("+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n"),
     {G},
     DEF,
     "STATUS OK text=POP3 server ready <1896.697170952@dbc.mtview.ca.us> q=0\nEOF-IDLE\n"},
    /* RFC1939-4.1 / RFC 1957: a bare "+OK" greeting. */
    {"bare_ok_greeting", IN("+OK\r\n"), {G}, DEF, "STATUS OK text= q=0\nEOF-IDLE\n"},
    {"negative_greeting",
     IN("-ERR go away\r\n"),
     {G},
     DEF,
     "STATUS ERR text=go away q=0\nEOF-IDLE\n"},
    /* RFC 1939 section 5 STAT, LIST, LIST n, RETR, DELE, NOOP, RSET, section 6 QUIT. */
    {"rfc1939_stat", IN("+OK 2 320\r\n"), {S1}, DEF, "STATUS OK text=2 320 q=0\nEOF-IDLE\n"},
    {"rfc1939_list",
     IN("+OK 2 messages (320 octets)\r\n1 120\r\n2 200\r\n.\r\n"),
     {L},
     DEF,
     "STATUS OK text=2 messages (320 octets) q=0\nLINE 1 120\nLINE 2 200\nEND q=0\nEOF-IDLE\n"},
    {"rfc1939_list_n_err",
     IN("-ERR no such message, only 2 messages in maildrop\r\n"),
     {L},
     DEF,
     "STATUS ERR text=no such message, only 2 messages in maildrop q=0\nEOF-IDLE\n"},
    {"rfc1939_retr",
     IN("+OK 120 octets\r\nSubject: hi\r\n\r\nbody\r\n.\r\n"),
     {M},
     DEF,
     "STATUS OK text=120 octets q=0\nDATA Subject: hi\\r\\n\\r\\nbody\\r\\n\nEND q=0\nEOF-IDLE\n"},
    {"rfc1939_dele_twice",
     IN("+OK message 1 deleted\r\n-ERR message 2 already deleted\r\n"),
     {S1, S1},
     DEF,
     "STATUS OK text=message 1 deleted q=0\nSTATUS ERR text=message 2 already deleted q=0\n"
     "EOF-IDLE\n"},
    {"rfc1939_quit",
     IN("+OK dewey POP3 server signing off (maildrop empty)\r\n"),
     {S1},
     DEF,
     "STATUS OK text=dewey POP3 server signing off (maildrop empty) q=0\nEOF-IDLE\n"},
    /* RFC 1939 section 7 TOP and UIDL. */
    {"rfc1939_top",
     IN("+OK\r\nFrom: a\r\n\r\nline 1\r\n.\r\n-ERR no such message\r\n"),
     {M, M},
     DEF,
     "STATUS OK text= q=0\nDATA From: a\\r\\n\\r\\nline 1\\r\\n\nEND q=0\n"
     "STATUS ERR text=no such message q=0\nEOF-IDLE\n"},
    {"rfc1939_uidl",
     IN("+OK\r\n1 whqtswO00WBw418f9t5JxYwZ\r\n2 QhdPYR:00WBw1Ph7x7\r\n.\r\n"),
     {L},
     DEF,
     "STATUS OK text= q=0\nLINE 1 whqtswO00WBw418f9t5JxYwZ\nLINE 2 QhdPYR:00WBw1Ph7x7\nEND q=0\n"
     "EOF-IDLE\n"},
    {"rfc1939_uidl_n",
     IN("+OK 2 QhdPYR:00WBw1Ph7x7\r\n"),
     {S1},
     DEF,
     "STATUS OK text=2 QhdPYR:00WBw1Ph7x7 q=0\nEOF-IDLE\n"},
    /* RFC 2449 section 5 CAPA. */
    {"rfc2449_capa",
     IN("+OK Capability list follows\r\nTOP\r\nUSER\r\nSASL CRAM-MD5 KERBEROS_V4\r\nRESP-CODES\r\n"
        "LOGIN-DELAY 900\r\nPIPELINING\r\nEXPIRE 60\r\nUIDL\r\nIMPLEMENTATION "
        "Shlemazle-Plotz-v302\r\n"
        ".\r\n"),
     {L},
     DEF,
     "STATUS OK text=Capability list follows q=0\nLINE TOP\nLINE USER\nLINE SASL CRAM-MD5 "
     "KERBEROS_V4\nLINE RESP-CODES\nLINE LOGIN-DELAY 900\nLINE PIPELINING\nLINE EXPIRE 60\n"
     "LINE UIDL\nLINE IMPLEMENTATION Shlemazle-Plotz-v302\nEND q=0\nEOF-IDLE\n"},
    /* RFC 2449 section 8 response codes; RFC2449-8.2 unknown levels ignored. */
    {"rfc2449_in_use",
     IN("-ERR [IN-USE] Do you have another POP session running?\r\n"),
     {S1},
     DEF,
     "STATUS ERR code=IN-USE[IN-USE] text=Do you have another POP session running? q=0\n"
     "EOF-IDLE\n"},
    {"code_lower_case",
     IN("-ERR [in-use] busy\r\n"),
     {S1},
     DEF,
     "STATUS ERR code=IN-USE[in-use] text=busy q=0\nEOF-IDLE\n"},
    {"code_login_delay",
     IN("-ERR [LOGIN-DELAY] wait\r\n"),
     {S1},
     DEF,
     "STATUS ERR code=LOGIN-DELAY[LOGIN-DELAY] text=wait q=0\nEOF-IDLE\n"},
    {"code_sys_temp_hier",
     IN("-ERR [SYS/TEMP/QUOTA] full\r\n"),
     {S1},
     DEF,
     "STATUS ERR code=SYS/TEMP[SYS/TEMP/QUOTA] text=full q=0\nEOF-IDLE\n"},
    {"code_sys_perm",
     IN("-ERR [SYS/PERM] call support\r\n"),
     {S1},
     DEF,
     "STATUS ERR code=SYS/PERM[SYS/PERM] text=call support q=0\nEOF-IDLE\n"},
    {"code_sys_other",
     IN("-ERR [SYS/WHATEVER] x\r\n"),
     {S1},
     DEF,
     "STATUS ERR code=SYS[SYS/WHATEVER] text=x q=0\nEOF-IDLE\n"},
    {"code_auth",
     IN("-ERR [AUTH] bad password\r\n"),
     {S1},
     DEF,
     "STATUS ERR code=AUTH[AUTH] text=bad password q=0\nEOF-IDLE\n"},
    {"code_utf8",
     IN("-ERR [UTF8] message needs UTF8\r\n"),
     {M},
     DEF,
     "STATUS ERR code=UTF8[UTF8] text=message needs UTF8 q=0\nEOF-IDLE\n"},
    {"code_unknown_kept",
     IN("-ERR [REFERRAL/user@host:110] Referral\r\n"),
     {S1},
     DEF,
     "STATUS ERR code=OTHER[REFERRAL/user@host:110] text=Referral q=0\nEOF-IDLE\n"},
    {"code_on_ok",
     IN("+OK [XCLIENT] ready\r\n"),
     {G},
     DEF,
     "STATUS OK code=OTHER[XCLIENT] text=ready q=0\nEOF-IDLE\n"},
    {"code_unclosed_is_text",
     IN("-ERR [SYS/TEMP no bracket\r\n"),
     {S1},
     DEF,
     "STATUS ERR text=[SYS/TEMP no bracket q=0\nEOF-IDLE\n"},
    {"code_empty_is_text",
     IN("-ERR [] empty\r\n"),
     {S1},
     DEF,
     "STATUS ERR text=[] empty q=0\nEOF-IDLE\n"},
    {"code_empty_level_is_text",
     IN("-ERR [SYS//TEMP] x\r\n"),
     {S1},
     DEF,
     "STATUS ERR text=[SYS//TEMP] x q=0\nEOF-IDLE\n"},
    {"code_only",
     IN("-ERR [AUTH]\r\n"),
     {S1},
     DEF,
     "STATUS ERR code=AUTH[AUTH] text= q=0\nEOF-IDLE\n"},
    /* RFC 2449 section 9: rchar excludes SP, so "[not a code]" is text. */
    {"code_with_space_is_text",
     IN("-ERR [not a code] x\r\n"),
     {S1},
     DEF,
     "STATUS ERR text=[not a code] x q=0\nEOF-IDLE\n"},
    /* RFC 2595 section 4 STLS. */
    {"rfc2595_stls",
     IN("+OK Begin TLS negotiation\r\n"),
     {S1},
     DEF,
     "STATUS OK text=Begin TLS negotiation q=0\nEOF-IDLE\n"},
    /* RFC2595-4.8 / Q41 / curl test 982: replies after STLS +OK are unsolicited. */
    {"stls_injection",
     IN("+OK Begin TLS\r\n+OK user accepted\r\n+OK authenticated\r\n"),
     {S1},
     DEF,
     "STATUS OK text=Begin TLS q=0\nUNSOLICITED +\n"},
    /* RFC 5034 section 4 and 6: continuations. */
    {"rfc5034_empty_challenge",
     IN("+ \r\n+OK Maildrop locked and ready\r\n"),
     {A, A},
     DEF,
     "STATUS CONT text= q=0\nSTATUS OK text=Maildrop locked and ready q=0\nEOF-IDLE\n"},
    {"rfc5034_digest_challenge",
     IN("+ cnNwYXV0aD0wYjk3MTQ2MmNlZjVlOGY5MzBkYjlhMzNiMDJmYzlhMA==\r\n"),
     {A},
     DEF,
     "STATUS CONT text=cnNwYXV0aD0wYjk3MTQ2MmNlZjVlOGY5MzBkYjlhMzNiMDJmYzlhMA== q=0\nEOF-IDLE\n"},
    {"rfc1734_unknown_mech",
     IN("-ERR Unrecognized authentication type\r\n"),
     {A},
     DEF,
     "STATUS ERR text=Unrecognized authentication type q=0\nEOF-IDLE\n"},
    /* Q39, curl test 891: "+" alone, bare LF. */
    {"bare_plus_tolerated", IN("+\n"), {A}, DEF, "STATUS CONT text= q=5\nEOF-IDLE\n"},
    {"bare_plus_strict",
     IN("+\r\n"),
     {A},
     STRICT,
     "ERROR EPROTO SASL continuation \"+\" without its space (RFC 5034 section 4, Q39)\n"},
    {"continuation_outside_sasl",
     IN("+ hello\r\n"),
     {S1},
     DEF,
     "ERROR EPROTO SASL continuation \"+\" where no authentication is running\n"},
    /* Q40 hMailServer "+ERR"; poplib's "+ Hola mundo" greeting accepted only in its mode. */
    {"plus_err_refused",
     IN("+ERR no\r\n"),
     {S1},
     DEF,
     "ERROR EPROTO \"+ERR\" is not a status indicator (Q40): neither +OK nor -ERR\n"},
    {"plus_err_greeting_refused",
     IN("+ERR no\r\n"),
     {G},
     DEF,
     "ERROR EPROTO \"+ERR\" is not a status indicator (Q40): neither +OK nor -ERR\n"},
    {"poplib_hola",
     IN("+ Hola mundo\n"),
     {G},
     POPLIB,
     "STATUS OK text=Hola mundo q=21\nEOF-IDLE\n"},
    {"hola_refused",
     IN("+ Hola mundo\r\n"),
     {G},
     DEF,
     "ERROR EPROTO SASL continuation \"+\" where no authentication is running\n"},
    /* RFC1939-3.1: upper case. */
    {"lower_case_refused",
     IN("+ok fine\r\n"),
     {S1},
     DEF,
     "ERROR EPROTO status indicator not in upper case (RFC 1939 section 3 requires +OK or -ERR)\n"},
    {"lower_case_tolerated",
     IN("-err [auth] no\r\n"),
     {S1},
     LENIENT_CASE,
     "STATUS ERR code=AUTH[auth] text=no q=10\nEOF-IDLE\n"},
    {"okay_not_indicator",
     IN("+OKAY\r\n"),
     {S1},
     DEF,
     "ERROR EPROTO status indicator not followed by a space or the line end\n"},
    {"not_status",
     IN("220 smtp.example.com ESMTP\r\n"),
     {S1},
     DEF,
     "ERROR EPROTO not a status line: expected +OK or -ERR\n"},
    {"text_two_spaces", IN("+OK  two\r\n"), {S1}, DEF, "STATUS OK text= two q=0\nEOF-IDLE\n"},
    {"text_tab", IN("-ERR\tx\r\n"), {S1}, DEF, "STATUS ERR text=x q=0\nEOF-IDLE\n"},
    {"text_8bit",
     IN("+OK caf\xc3\xa9\r\n"),
     {S1},
     DEF,
     "STATUS OK text=caf\\xc3\\xa9 q=0\nEOF-IDLE\n"},
    /* Q48: NUL in response lines. */
    {"nul_in_status",
     IN("+OK a\0b\r\n"),
     {S1},
     DEF,
     "ERROR EPROTO NUL octet in a status line (Q48)\n"},
    {"nul_in_listing",
     IN("+OK\r\n1 a\0\r\n.\r\n"),
     {L},
     DEF,
     "STATUS OK text= q=0\nERROR EPROTO NUL octet in a listing line (Q48)\n"},
    /* Q35: banner lines before the greeting. */
    {"banner_skipped",
     IN("  _   _\r\n | |_| |\r\n+OK curl POP3 server ready to serve\r\n"),
     {G},
     DEF,
     "BANNER   _   _\nBANNER  | |_| |\nSTATUS OK text=curl POP3 server ready to serve q=2\n"
     "EOF-IDLE\n"},
    {"banner_strict",
     IN("hello\r\n+OK\r\n"),
     {G},
     STRICT,
     "ERROR EPROTO not a status line: expected +OK or -ERR\n"},
    {"banner_not_after_greeting",
     IN("hello\r\n"),
     {S1},
     DEF,
     "ERROR EPROTO not a status line: expected +OK or -ERR\n"},
    /* Q6: bare LF; strict mode refuses it without losing the octets before it. */
    {"bare_lf_everywhere",
     IN("+OK\nline1\nline2\n.\n"),
     {M},
     DEF,
     "STATUS OK text= q=1\nDATA line1\\nline2\\n\nEND q=1\nEOF-IDLE\n"},
    {"bare_lf_listing",
     IN("+OK\n1 120\n.\n"),
     {L},
     DEF,
     "STATUS OK text= q=1\nLINE 1 120\nEND q=1\nEOF-IDLE\n"},
    {"bare_lf_status_strict",
     IN("+OK\n"),
     {S1},
     STRICT,
     "ERROR EPROTO status line ends in a bare LF, not CRLF (strict mode)\n"},
    {"bare_lf_body_strict",
     IN("+OK\r\nab\ncd\r\n.\r\n"),
     {M},
     STRICT,
     "STATUS OK text= q=0\nDATA ab\nERROR EPROTO body line ends in a bare LF, not CRLF (strict "
     "mode)\n"},
    {"bare_lf_empty_line_strict",
     IN("+OK\r\nab\r\n\n.\r\n"),
     {M},
     STRICT,
     "STATUS OK text= q=0\nDATA ab\\r\\n\nERROR EPROTO body line ends in a bare LF, not CRLF "
     "(strict mode)\n"},
    {"bare_lf_terminator_strict",
     IN("+OK\r\nab\r\n.\n"),
     {M},
     STRICT,
     "STATUS OK text= q=0\nDATA ab\\r\\n\nERROR EPROTO terminator \".\" ends in a bare LF, not "
     "CRLF (strict mode)\n"},
    {"crlf_strict_ok",
     IN("+OK\r\nab\r\n\r\n.\r\n"),
     {M},
     STRICT,
     "STATUS OK text= q=0\nDATA ab\\r\\n\\r\\n\nEND q=0\nEOF-IDLE\n"},
    /* RFC1939-3.4: byte-stuffing. */
    {"stuffed_dots",
     IN("+OK\r\n..\r\n...x\r\n..\r\n.\r\n"),
     {M},
     DEF,
     "STATUS OK text= q=0\nDATA .\\r\\n..x\\r\\n.\\r\\n\nEND q=0\nEOF-IDLE\n"},
    {"dot_x_line",
     IN("+OK\r\n.x\r\n.\r\n"),
     {M},
     DEF,
     "STATUS OK text= q=0\nDATA x\\r\\n\nEND q=10000\nEOF-IDLE\n"},
    {"dot_space_line",
     IN("+OK\r\n. \r\n.\r\n"),
     {M},
     DEF,
     "STATUS OK text= q=0\nDATA  \\r\\n\nEND q=10000\nEOF-IDLE\n"},
    {"dot_cr_x_line",
     IN("+OK\r\n.\rX\r\n.\r\n"),
     {M},
     DEF,
     "STATUS OK text= q=0\nDATA \\rX\\r\\n\nEND q=10000\nEOF-IDLE\n"},
    {"dot_in_middle",
     IN("+OK\r\na.b\r\nc.\r\n .\r\n.\r\n"),
     {M},
     DEF,
     "STATUS OK text= q=0\nDATA a.b\\r\\nc.\\r\\n .\\r\\n\nEND q=0\nEOF-IDLE\n"},
    {"empty_body", IN("+OK\r\n.\r\n"), {M}, DEF, "STATUS OK text= q=0\nEND q=0\nEOF-IDLE\n"},
    {"empty_lines_body",
     IN("+OK\r\n\r\n\r\n.\r\n"),
     {M},
     DEF,
     "STATUS OK text= q=0\nDATA \\r\\n\\r\\n\nEND q=0\nEOF-IDLE\n"},
    /* Q3: an empty listing; the "." follows the status line directly. */
    {"empty_listing",
     IN("+OK 0 messages:\r\n.\r\n"),
     {L},
     DEF,
     "STATUS OK text=0 messages: q=0\nEND q=0\nEOF-IDLE\n"},
    /* Q50: a listing line starting with "." (stuffed) is not the end. */
    {"listing_stuffed_line",
     IN("+OK\r\n..weird\r\n.x\r\nTOP\r\n.\r\n"),
     {L},
     DEF,
     "STATUS OK text= q=0\nLINE .weird\nLINE x\nLINE TOP\nEND q=10000\nEOF-IDLE\n"},
    /* NUL and 8-bit octets pass through bodies untouched. */
    {"nul_8bit_body",
     IN("+OK\r\na\0b\xff\x80\r\n\0\r\n.\r\n"),
     {M},
     DEF,
     "STATUS OK text= q=0\nDATA a\\0b\\xff\\x80\\r\\n\\0\\r\\n\nEND q=0\nEOF-IDLE\n"},
    {"lone_cr_body",
     IN("+OK\r\na\rb\r\r\n.\r\n"),
     {M},
     STRICT,
     "STATUS OK text= q=0\nDATA a\\rb\\r\\r\\n\nEND q=0\nEOF-IDLE\n"},
    /* Q2 Cyrus: ".\r" then close. */
    {"dot_cr_eof_tolerated",
     IN("+OK\r\nabc\r\n.\r"),
     {M},
     DEF,
     "STATUS OK text= q=0\nDATA abc\\r\\n\nEND q=8\n"},
    {"dot_cr_eof_strict",
     IN("+OK\r\nabc\r\n.\r"),
     {M},
     STRICT,
     "STATUS OK text= q=0\nDATA abc\\r\\n\nERROR ECLOSED connection closed after \".\\r\" without "
     "LF (Q2)\n"},
    /* Q1 Exchange 2000: "." appended to the last line. */
    {"dot_appended_no_crlf",
     IN("+OK\r\nlast line.\r\n"),
     {M},
     DEF,
     "STATUS OK text= q=0\nDATA last line.\\r\\n\nERROR ECLOSED connection closed before the end "
     "of "
     "the multi-line response; its last line ends in \".\", as from a server that appends \".\" "
     "without CRLF (Q1)\n"},
    {"body_cut",
     IN("+OK\r\nabc"),
     {M},
     DEF,
     "STATUS OK text= q=0\nDATA abc\nERROR ECLOSED connection closed before the end of the "
     "multi-line response\n"},
    {"eof_before_greeting",
     IN(""),
     {G},
     DEF,
     "ERROR ECLOSED connection closed before the greeting\n"},
    {"eof_in_status",
     IN("+OK hel"),
     {S1},
     DEF,
     "ERROR ECLOSED connection closed inside a status line\n"},
    {"eof_in_listing",
     IN("+OK\r\n1 1"),
     {L},
     DEF,
     "STATUS OK text= q=0\nERROR ECLOSED connection closed before the end of the multi-line "
     "response\n"},
    /* Pipelining (RFC2449-6.6b): replies matched in order, several per segment. */
    {"pipelined_retr_dele",
     IN("+OK 5 octets\r\nabc\r\n.\r\n+OK deleted\r\n+OK 3\r\nx\r\n.\r\n+OK deleted\r\n"),
     {M, S1, M, S1},
     DEF,
     "STATUS OK text=5 octets q=0\nDATA abc\\r\\n\nEND q=0\nSTATUS OK text=deleted q=0\n"
     "STATUS OK text=3 q=0\nDATA x\\r\\n\nEND q=0\nSTATUS OK text=deleted q=0\nEOF-IDLE\n"},
    {"pipelined_err_in_middle",
     IN("+OK\r\n.\r\n-ERR no such message\r\n+OK\r\n"),
     {M, M, S1},
     DEF,
     "STATUS OK text= q=0\nEND q=0\nSTATUS ERR text=no such message q=0\nSTATUS OK text= q=0\n"
     "EOF-IDLE\n"},
    /* Limits: a status line of exactly max_line octets passes, one more fails (16 here). */
    {"status_at_limit",
     IN("+OK 1234567890\r\n"),
     {S1},
     TINY_LINE,
     "STATUS OK text=1234567890 q=0\nEOF-IDLE\n"},
    {"status_past_limit",
     IN("+OK 12345678901\r\n"),
     {S1},
     TINY_LINE,
     "ERROR ELIMIT status line longer than the line limit\n"},
    {"status_past_limit_no_lf",
     IN("+OK 1234567890123456789"),
     {S1},
     TINY_LINE,
     "ERROR ELIMIT status line longer than the line limit\n"},
    {"listing_line_past_limit",
     IN("+OK\r\n1 12345678901234\r\n.\r\n"),
     {L},
     TINY_LINE,
     "STATUS OK text= q=0\nERROR ELIMIT listing line longer than the line limit\n"},
    {"body_line_beyond_line_limit",
     IN("+OK\r\n0123456789012345678901234567890123456789\r\n.\r\n"),
     {M},
     TINY_LINE,
     "STATUS OK text= q=0\nDATA 0123456789012345678901234567890123456789\\r\\n\nEND q=0\n"
     "EOF-IDLE\n"},
    {"listing_lines_at_limit",
     IN("+OK\r\n1 1\r\n2 2\r\n.\r\n"),
     {L},
     TWO_LINES,
     "STATUS OK text= q=0\nLINE 1 1\nLINE 2 2\nEND q=0\nEOF-IDLE\n"},
    {"listing_lines_past_limit",
     IN("+OK\r\n1 1\r\n2 2\r\n3 3\r\n.\r\n"),
     {L},
     TWO_LINES,
     "STATUS OK text= q=0\nLINE 1 1\nLINE 2 2\nERROR ELIMIT too many lines in a listing\n"},
    {"body_at_limit",
     IN("+OK\r\nabc\r\n.\r\n"),
     {M},
     BODY5,
     "STATUS OK text= q=0\nDATA abc\\r\\n\nEND q=0\nEOF-IDLE\n"},
    {"body_past_limit",
     IN("+OK\r\nabcdefgh\r\n.\r\n"),
     {M},
     BODY5,
     "STATUS OK text= q=0\nDATA abcde\nERROR ELIMIT message body larger than the limit\n"},
    {"body_past_limit_stuffed",
     IN("+OK\r\n..\r\n..\r\n.\r\n"),
     {M},
     BODY5,
     "STATUS OK text= q=0\nDATA .\\r\\n.\\r\nERROR ELIMIT message body larger than the limit\n"},
};

static void options_for(int which, pop3_decoder_options *o)
{
    pop3_decoder_options_default(o);
    switch (which) {
    case STRICT: o->tolerances = POP3_TOL_STRICT; break;
    case LENIENT_CASE: o->tolerances |= POP3_TOL_STATUS_CASE; break;
    case POPLIB: o->tolerances |= POP3_TOL_ANY_PLUS; break;
    case TINY_LINE: o->max_line = 16; break;
    case TWO_LINES: o->max_listing_lines = 2; break;
    case BODY5: o->max_body = 5; break;
    default: break;
    }
}

static size_t count_expects(const row *r)
{
    size_t n = 0;
    while (n < 4 && r->expects[n] != POP3_EXPECT_NONE)
        n++;
    return n;
}

Test(decoder, vectors_whole)
{
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const row *r = &rows[i];
        pop3_decoder_options o;
        options_for(r->options, &o);
        char *got = pop3t_whole(r->in, r->len, r->expects, count_expects(r), &o);
        cr_expect_str_eq(got, r->want, "row %s:\n--- got\n%s--- want\n%s", r->name, got, r->want);
        free(got);
    }
}

Test(decoder, vectors_every_split_and_bytewise)
{
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const row *r = &rows[i];
        pop3_decoder_options o;
        options_for(r->options, &o);
        char *diff = pop3t_check_chunkings(r->in, r->len, r->expects, count_expects(r), &o);
        cr_expect_null(diff, "row %s: %s", r->name, diff ? diff : "");
        free(diff);
    }
}

/* Body lines of any length stream through, whatever the line limit (Q43). */
Test(decoder, megabyte_line_streams)
{
    size_t n = 1u << 20;
    char *in = malloc(n + 32);
    memcpy(in, "+OK\r\n", 5);
    memset(in + 5, 'a', n);
    memcpy(in + 5 + n, "\r\n.\r\n", 5);
    pop3_decoder d;
    pop3_decoder_options o;
    pop3_decoder_options_default(&o);
    o.max_line = 64;
    cr_assert_eq(pop3_decoder_init(&d, &o), POP3_OK);
    cr_assert_eq(pop3_decoder_expect(&d, M), POP3_OK);
    size_t total = 0, off = 0, len = n + 10, chunks = 0;
    int ended = 0;
    while (off < len && !ended) {
        size_t step = len - off < 4096 ? len - off : 4096;
        size_t used_chunk = 0;
        while (used_chunk < step) {
            pop3_event ev;
            size_t used = pop3_decode(&d, in + off + used_chunk, step - used_chunk, &ev);
            used_chunk += used;
            if (ev.kind == POP3_EV_DATA) {
                /* zero-copy: the view points into the input */
                cr_assert(ev.data.ptr >= in && ev.data.ptr + ev.data.len <= in + len);
                total += ev.data.len;
                chunks++;
            } else if (ev.kind == POP3_EV_END) {
                ended = 1;
                break;
            } else if (ev.kind == POP3_EV_NEED_MORE) {
                break;
            } else if (ev.kind != POP3_EV_STATUS) {
                cr_assert_fail("unexpected event %d", ev.kind);
            }
        }
        off += used_chunk;
    }
    cr_assert(ended);
    cr_assert_eq(total, n + 2);
    cr_assert_geq(chunks, n / 4096);
    pop3_decoder_free(&d);
    free(in);
}

/* The dot-line terminator split at every offset inside a large body (RFC1939-3.4). */
Test(decoder, terminator_split_in_large_body)
{
    const char *head = "+OK\r\n";
    size_t body_len = 3000;
    char *in = malloc(5 + body_len + 5);
    memcpy(in, head, 5);
    for (size_t i = 0; i < body_len; i++)
        in[5 + i] = (i % 50 == 48) ? '\r' : (i % 50 == 49) ? '\n' : (char)('a' + i % 26);
    memcpy(in + 5 + body_len, ".\r\n", 3);
    size_t len = 5 + body_len + 3;
    pop3_expect e = M;
    char *want = pop3t_whole(in, len, &e, 1, NULL);
    cr_assert(strstr(want, "END q=0"));
    for (size_t size = 1; size <= 64; size++) {
        char *got = pop3t_chunked(in, len, &e, 1, NULL, size);
        cr_assert_str_eq(got, want, "chunk size %zu", size);
        free(got);
    }
    free(want);
    free(in);
}

Test(decoder, expect_only_when_idle)
{
    pop3_decoder d;
    pop3_event ev;
    cr_assert_eq(pop3_decoder_init(&d, NULL), POP3_OK);
    cr_assert(pop3_decoder_idle(&d));
    cr_assert_eq(pop3_decoder_expect(&d, M), POP3_OK);
    cr_assert_not(pop3_decoder_idle(&d));
    cr_assert_eq(pop3_decoder_expect(&d, S1), POP3_ESTATE);
    size_t used = pop3_decode(&d, "+OK\r\nab", 7, &ev);
    cr_assert_eq(ev.kind, POP3_EV_STATUS);
    cr_assert_eq(used, 5);
    cr_assert_eq(pop3_decoder_expect(&d, S1), POP3_ESTATE);
    pop3_decoder_free(&d);
}

Test(decoder, error_is_sticky)
{
    pop3_decoder d;
    pop3_event ev;
    cr_assert_eq(pop3_decoder_init(&d, NULL), POP3_OK);
    pop3_decoder_expect(&d, S1);
    pop3_decode(&d, "bogus\r\n", 7, &ev);
    cr_assert_eq(ev.kind, POP3_EV_ERROR);
    cr_assert_eq(ev.error, POP3_EPROTO);
    size_t used = pop3_decode(&d, "+OK\r\n", 5, &ev);
    cr_assert_eq(used, 0);
    cr_assert_eq(ev.kind, POP3_EV_ERROR);
    cr_assert_eq(pop3_decoder_expect(&d, S1), POP3_EPROTO);
    pop3_decode_eof(&d, &ev);
    cr_assert_eq(ev.kind, POP3_EV_ERROR);
    pop3_decoder_free(&d);
}

Test(decoder, idle_consumes_nothing)
{
    pop3_decoder d;
    pop3_event ev;
    cr_assert_eq(pop3_decoder_init(&d, NULL), POP3_OK);
    cr_assert_eq(pop3_decode(&d, "+OK\r\n", 5, &ev), 0);
    cr_assert_eq(ev.kind, POP3_EV_IDLE);
    cr_assert_eq(pop3_decode(&d, "", 0, &ev), 0);
    cr_assert_eq(ev.kind, POP3_EV_NEED_MORE);
    pop3_decode_eof(&d, &ev);
    cr_assert_eq(ev.kind, POP3_EV_IDLE);
    pop3_decoder_free(&d);
}

Test(decoder, init_refuses_tiny_line_limit)
{
    pop3_decoder d;
    pop3_decoder_options o;
    pop3_decoder_options_default(&o);
    cr_assert_eq(o.max_line, 2048);
    o.max_line = 7;
    cr_assert_eq(pop3_decoder_init(&d, &o), POP3_EUSAGE);
    o.max_line = 8;
    cr_assert_eq(pop3_decoder_init(&d, &o), POP3_OK);
    pop3_decoder_free(&d);
}

/* A status line of poplib's _MAXLINE (2048 with CRLF) passes; 2049 fails (RFC1939-3.3). */
Test(decoder, default_limit_2048)
{
    char line[2100];
    memcpy(line, "+OK ", 4);
    memset(line + 4, 'x', sizeof line - 4);
    pop3_expect e = S1;
    memcpy(line + 2046, "\r\n", 2);
    char *got = pop3t_whole(line, 2048, &e, 1, NULL);
    cr_assert(strncmp(got, "STATUS OK", 9) == 0, "%s", got);
    free(got);
    line[2046] = 'x';
    memcpy(line + 2047, "\r\n", 2);
    got = pop3t_whole(line, 2049, &e, 1, NULL);
    cr_assert_str_eq(got, "ERROR ELIMIT status line longer than the line limit\n");
    free(got);
}

Test(status, parse_status_directly)
{
    pop3_status_line st;
    unsigned q;
    const char *msg = NULL;
    cr_assert_eq(pop3_parse_status("+OK 2 320", 9, S1, POP3_TOL_DEFAULT, &st, &q, &msg), POP3_OK);
    cr_assert_eq(st.kind, POP3_STATUS_OK);
    cr_assert_eq(st.text.len, 5);
    cr_assert_eq(pop3_parse_status("-ERRx", 5, S1, POP3_TOL_DEFAULT, &st, &q, &msg), POP3_EPROTO);
    cr_assert_not_null(msg);
    cr_assert_eq(pop3_parse_status("", 0, S1, POP3_TOL_DEFAULT, &st, &q, &msg), POP3_EPROTO);
}

Test(status, resp_code_names)
{
    cr_assert_str_eq(pop3_resp_code_name(POP3_CODE_IN_USE), "IN-USE");
    cr_assert_str_eq(pop3_resp_code_name(POP3_CODE_SYS_TEMP), "SYS/TEMP");
    cr_assert_str_eq(pop3_resp_code_name(POP3_CODE_NONE), "");
    pop3_resp_code c;
    pop3_view v;
    cr_assert_eq(pop3_parse_resp_code("[a]", 3, &c, &v), 3);
    cr_assert_eq(c, POP3_CODE_OTHER);
    cr_assert_eq(pop3_parse_resp_code("[a\x01]", 4, &c, &v), 0);
    cr_assert_eq(c, POP3_CODE_NONE);
    cr_assert_eq(pop3_parse_resp_code("[a]x", 1, &c, &v), 0);
}
