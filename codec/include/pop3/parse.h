/*
 * pop3/parse.h - parsers for the contents of POP3 responses.
 *
 * RFC 1939 section 5 (STAT "+OK nn mm", LIST scan listings "n size"), section 7 (UIDL
 * "n unique-id", the APOP timestamp of the greeting), RFC 2449 section 5 (CAPA lines:
 * a tag and its parameters, case-insensitive), with the tolerances of the quirk
 * catalogue (Q13 64-bit sizes, Q45 message number 0 and duplicates, Q46 long or spaced
 * UIDs and extra spaces, Q44 a greeting of a million "<" in linear time).
 *
 * Every decimal number is read by pop3_parse_number (RFC 1939 digits, 64 bits).
 *
 * The line parsers take one line without its line end (as pop3_decode gives it) and
 * allocate nothing. The collections (pop3_listing, pop3_capa_set) allocate, within limits.
 */
#ifndef POP3_PARSE_H
#define POP3_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pop3/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

/* RFC 1939 section 7: a unique-id is 1 to 70 octets in 0x21..0x7E. */
#define POP3_UID_MAX 70

/*
 * pop3_parse_number - a POP3 decimal number: the whole of s[0..len) is one or more
 * ASCII digits "0"-"9" (leading zeros allowed: "007" is 7) and the value fits 64 bits.
 * No sign, no blank before or after, no base prefix, no NUL terminator needed.
 * Returns POP3_OK with `*out` set (`out` may be NULL to validate only); POP3_EPROTO when
 * `len` is 0 or any octet is not a digit; POP3_ELIMIT when the digits are fine but the
 * value is past 2^64-1 (18446744073709551615). `*out` is untouched on error. Callers
 * that want a narrower range (a port, a line count) check the value afterwards.
 */
int pop3_parse_number(const char *s, size_t len, uint64_t *out);

/* Deviations a listing line may show; reported, and refused in strict parsing. */
enum {
    POP3_ANOM_EXTRA_SPACE = 1u << 0,   /* more than one SP, or leading/trailing SP (Q46) */
    POP3_ANOM_TRAILING = 1u << 1,      /* text after the last field (RFC1939-5.1, 7.2) */
    POP3_ANOM_MSGNO_ZERO = 1u << 2,    /* message number 0 (Q45) */
    POP3_ANOM_DUPLICATE = 1u << 3,     /* a message number listed twice (Q45) */
    POP3_ANOM_UID_LONG = 1u << 4,      /* unique-id longer than 70 octets (Q46) */
    POP3_ANOM_UID_CHARS = 1u << 5,     /* unique-id with octets outside 0x21..0x7E (Q46) */
    POP3_ANOM_DUPLICATE_UID = 1u << 6, /* two messages share a unique-id (RFC1939-7.4) */
};

/*
 * pop3_parse_stat - the text of a STAT +OK reply ("2 320", after "+OK "): message
 * count and maildrop size, 64-bit. Extra text after the size is ignored (RFC1939-5.1
 * calls it discouraged, not forbidden) and flagged in `*anomalies` (may be NULL).
 * Returns POP3_OK, or POP3_EPROTO when either number is missing, not decimal, or
 * does not fit 64 bits.
 */
int pop3_parse_stat(const char *text, size_t len, uint64_t *count, uint64_t *size,
                    unsigned *anomalies);

/*
 * pop3_parse_scan - one scan listing "msg size": a LIST body line, or the text of a
 * "LIST n" +OK reply. Returns POP3_OK or POP3_EPROTO; `*anomalies` (may be NULL) gets
 * POP3_ANOM_* bits. Message number 0 parses and is flagged, callers decide.
 */
int pop3_parse_scan(const char *line, size_t len, uint64_t *msgno, uint64_t *size,
                    unsigned *anomalies);

/*
 * pop3_parse_uidl - one unique-id listing "msg uid": a UIDL body line, or the text of a
 * "UIDL n" +OK reply. `*uid` points into `line`. A unique-id that breaks RFC 1939
 * (too long, spaces inside, 8-bit) is returned whole, up to the end of the line with
 * trailing spaces removed, and flagged. Returns POP3_OK or POP3_EPROTO (no number, no
 * unique-id).
 */
int pop3_parse_uidl(const char *line, size_t len, uint64_t *msgno, pop3_view *uid,
                    unsigned *anomalies);

/* One entry of a LIST or UIDL listing. */
typedef struct pop3_listing_entry {
    uint64_t msgno;
    uint64_t size; /* LIST: octets; UIDL: 0 */
    char *uid;     /* UIDL: NUL-terminated copy owned by the listing; LIST: NULL */
    size_t uid_len;
} pop3_listing_entry;

typedef struct pop3_listing {
    pop3_listing_entry *entries; /* in the order received, anomalous lines left out */
    size_t count;
    size_t capacity;
    size_t max_entries; /* limit (1000000); exceeding it is POP3_ELIMIT */
    bool uidl;          /* lines are "msg uid" rather than "msg size" */
    bool strict;        /* any anomaly is POP3_EPROTO instead of a skipped line */
    unsigned anomalies; /* union of POP3_ANOM_* over all lines */
    size_t skipped;     /* lines left out: message number 0, duplicate numbers */
    /* private: hash indexes for duplicate detection and pop3_listing_find; a slot holds
     * an entry's position + 1, 0 when empty. by_msgno stays NULL while numbers ascend. */
    size_t *by_msgno;
    size_t *by_uid;
    size_t index_cap; /* slots in each index, a power of two */
} pop3_listing;

/* Start an empty listing of LIST lines (uidl false) or UIDL lines (uidl true). */
void pop3_listing_init(pop3_listing *l, bool uidl);

/* Free everything the listing owns; it is then empty and may be reused (the uidl,
 * strict and max_entries settings are kept). */
void pop3_listing_free(pop3_listing *l);

/*
 * pop3_listing_add - parse one body line and keep it. Lines with message number 0 or
 * a number already listed are left out (counted in `skipped`, flagged); a unique-id
 * already used by another message is kept and flagged (RFC1939-7.4: the client must
 * cope). In strict mode any anomaly is refused. Duplicate detection is O(1) per line
 * for ascending numbers (the normal case) and O(log n) otherwise.
 * Returns POP3_OK, POP3_EPROTO, POP3_ELIMIT or POP3_ENOMEM.
 */
int pop3_listing_add(pop3_listing *l, const char *line, size_t len);

/* The entry for message `msgno`, or NULL. Owned by the listing; valid until the next
 * pop3_listing_add or pop3_listing_free (entries may move when the listing grows). */
const pop3_listing_entry *pop3_listing_find(const pop3_listing *l, uint64_t msgno);

/* One capability: its tag and parameters, views into the capa's own storage. */
typedef struct pop3_capability {
    pop3_view name;    /* as received; compare case-insensitively */
    pop3_view *params; /* `nparams` space-separated parameters */
    size_t nparams;
    pop3_view line; /* the whole line as received */
} pop3_capability;

typedef struct pop3_capa_set {
    pop3_capability *caps;
    size_t count;
    size_t max_caps; /* limit on capability lines (256); exceeding it is POP3_ELIMIT */
    /* private storage */
    size_t caps_cap;
    char *store;
    size_t store_len, store_cap;
    pop3_view *params;
    size_t params_len, params_cap;
} pop3_capa_set;

void pop3_capa_init(pop3_capa_set *c);
/* Free the storage; the capa is then empty and may be reused (max_caps is kept). */
void pop3_capa_free(pop3_capa_set *c);

/* Forget every capability (after STLS, RFC2595-4.7) while keeping the limits. */
void pop3_capa_clear(pop3_capa_set *c);

/*
 * pop3_capa_add - parse and keep one CAPA body line: a tag (RFC 2449 capa-tag) and
 * parameters separated by spaces or tabs. An empty or blank line is refused with
 * POP3_EPROTO. Returns POP3_OK, POP3_EPROTO, POP3_ELIMIT or POP3_ENOMEM.
 */
int pop3_capa_add(pop3_capa_set *c, const char *line, size_t len);

/* The capability named `name` (case-insensitive, NUL-terminated), or NULL; the first
 * when several lines share the tag. It and its views are owned by the capa and valid
 * until the next pop3_capa_add, pop3_capa_clear or pop3_capa_free. */
const pop3_capability *pop3_capa_find(const pop3_capa_set *c, const char *name);

/* True when capability `name` lists parameter `param` (case-insensitive): SASL PLAIN.
 * Every line with that tag is searched. */
bool pop3_capa_has_param(const pop3_capa_set *c, const char *name, const char *param);

/*
 * pop3_apop_timestamp - find the APOP timestamp in a greeting line (RFC 1939 section 7):
 * the first "<...>" that has RFC 822 msg-id form: printable ASCII without spaces, "<"
 * or ">" inside, and an "@" with text on both sides (CVE-2007-1558; Q33). Runs in time
 * linear in `len` whatever the input (Q44). On success `*ts` is a view into `line`,
 * angle brackets included, and the function returns true.
 */
bool pop3_apop_timestamp(const char *line, size_t len, pop3_view *ts);

#ifdef __cplusplus
}
#endif
#endif
