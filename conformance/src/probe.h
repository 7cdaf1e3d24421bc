/*
 * probe.h - the server probe of `pop3-conform --probe`: a raw POP3 session that keeps
 * every octet a server sends (so framing deviations can be seen, not just survived), the
 * findings it makes, and the checks.
 *
 * RFC 1939 (sections 3-7, 11), RFC 2449 (CAPA, response codes, PIPELINING), RFC 2595
 * (STLS), RFC 3206, RFC 5034 (AUTH), RFC 8314 (implicit TLS); quirks Qn of the catalogue
 * (conformance/QUIRKS.md) named as pop3-mock names them (mockserver/README.md).
 */
#ifndef POP3_CONFORM_PROBE_H
#define POP3_CONFORM_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conform.h"
#include "pop3/transport.h"
#include "pop3/wire.h"

typedef struct probe_config {
    const char *host;
    unsigned port;
    const char *user;
    const char *password;
    bool tls;      /* implicit TLS (RFC 8314) */
    bool starttls; /* STLS after the greeting (RFC 2595) */
    pop3_tls_options tlsopt;
    int timeout_ms;
    bool destructive;
    unsigned idle_s;     /* stay idle this long once, then check the session (0: no) */
    unsigned max_msgs;   /* messages retrieved */
    uint64_t max_octets; /* larger messages are not retrieved */
} probe_config;

/* A raw session: every octet read is kept in `in` until consumed. */
typedef struct probe_conn {
    pop3_transport *t;
    const probe_config *cfg;
    pop3_buf in;
    size_t pos;     /* consumed octets of `in` */
    unsigned reads; /* transport reads so far (slow-drip detection) */
    int status;     /* POP3_OK, or the error that ended the session */
    bool tls;
    char error[POP3_TRANSPORT_ERROR_SIZE];
} probe_conn;

/* One line as received: its octets without the line end, and how it ended. */
typedef struct probe_line {
    char *p;
    size_t n;
    bool bare_lf; /* LF without CR */
    bool has_nul;
} probe_line;

/* A reply: the status line and, for multi-line replies, the body lines as sent (still
 * byte-stuffed) and how the body ended. */
typedef struct probe_reply {
    int status; /* POP3_OK, POP3_ETIMEOUT, POP3_ECLOSED, ... */
    probe_line status_line;
    /* The codec's reading of the status line (pop3_parse_status, no tolerance): its kind,
     * response code and text, views into status_line. Zero when it is no status line. */
    pop3_status_line st;
    bool ok;           /* "+OK" */
    bool err;          /* "-ERR" */
    bool cont;         /* "+ ": a SASL continuation (RFC 5034 section 4) */
    bool plus_err;     /* "+ERR": neither, and taken for success by some clients (Q40) */
    probe_line *lines; /* body lines, raw */
    size_t nlines;
    bool terminated; /* the "." line came */
    bool dot_cr_eof; /* ".\r" and then the end of the stream (Q2) */
    bool bare_lf;    /* any line of the reply ended in a bare LF (Q6) */
} probe_reply;

int probe_conn_open(probe_conn *c, const probe_config *cfg, char *err, size_t errlen);
void probe_conn_close(probe_conn *c);
/* Send "line" and CRLF (several lines may be given at once, for pipelining). */
int probe_send(probe_conn *c, const char *line);
int probe_send_raw(probe_conn *c, const char *data, size_t len);
/* Read one line within `timeout_ms`. */
int probe_read_line(probe_conn *c, probe_line *l, int timeout_ms);
/* A single-line reply; a multi-line one (status, then lines up to "."). */
void probe_read_reply(probe_conn *c, probe_reply *r, bool multi, int timeout_ms);
/* Octets that arrive within `ms` without being asked for. */
size_t probe_unsolicited(probe_conn *c, int ms);
int probe_starttls(probe_conn *c);
void probe_reply_free(probe_reply *r);
void probe_line_free(probe_line *l);

/* Findings. */
typedef enum finding_level {
    F_PASS = 0, /* the server does what the RFC says */
    F_NOTE,     /* allowed, but worth knowing (an option it does not take, a preset) */
    F_DEV,      /* a deviation from the RFC or a named quirk that clients must survive */
} finding_level;

/* One finding as reported. */
typedef struct probe_finding {
    finding_level level;
    char *id;    /* requirement id: "RFC1939-11" */
    char *quirk; /* "no-dot-stuffing Q4", "Q41", or NULL */
    char *text;
} probe_finding;

/* How findings are written as they are made (--tap, --json; text otherwise). */
typedef enum probe_format {
    PROBE_TEXT = 0,
    PROBE_TAP,
    PROBE_JSON,
} probe_format;

typedef struct probe_findings {
    size_t pass, note, dev;
    strlist quirks;   /* names seen, once each */
    probe_finding *v; /* every finding in order, for --json and --junit */
    size_t n, cap;
    probe_format format;
    /* What the server supports, filled by probe_run for --json. */
    char *greeting;
    strlist caps;       /* the CAPA lines used (before login; after STLS with --starttls) */
    bool caps_known;    /* CAPA answered */
    bool apop;          /* the greeting has an APOP timestamp */
    bool stls;          /* --starttls and the handshake succeeded */
    strlist sasl_works; /* mechanisms that logged in */
    char fatal[600];    /* why the probe could not go on (exit 3), "" otherwise */
} probe_findings;

/* Record and print one finding: level, requirement id, quirk (mock name and Qn, or NULL),
 * text. */
void finding(probe_findings *f, finding_level level, const char *id, const char *quirk,
             const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* The probe cannot go on: one line on stderr, kept for the reports. */
void probe_fatal(probe_findings *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void probe_findings_free(probe_findings *f);

int probe_run(const probe_config *cfg, probe_findings *f);

/* The reports (probe_report.c): a TAP test point per finding as it is made, and at the
 * end the TAP plan, the JSON document, the JUnit file. */
void probe_tap_point(const probe_findings *f, const probe_finding *x);
void probe_tap_end(const probe_findings *f);
void probe_json(const probe_findings *f, const probe_config *cfg, int exit_status);
int probe_junit(const probe_findings *f, const probe_config *cfg, const char *path, char *err,
                size_t errlen);

#endif
