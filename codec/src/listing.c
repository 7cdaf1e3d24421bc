/*
 * listing.c - STAT replies, scan listings and unique-id listings (pop3/parse.h).
 *
 * Implements RFC 1939 section 5 (STAT "+OK nn mm", LIST "msg size") and section 7
 * (UIDL "msg unique-id", unique-ids of 1 to 70 octets in 0x21..0x7E), with the
 * tolerances of conformance/QUIRKS.md: 64-bit sizes (Q13), message number 0 and duplicate
 * numbers (Q45), long, spaced or 8-bit unique-ids and extra spaces (Q46), and a bounded
 * number of entries against hostile listings (Q47).
 *
 * The line parsers allocate nothing. A pop3_listing keeps the lines in the order
 * received; its duplicate checks use hash indexes so that a million lines in any order
 * cost linear time, and its memory grows geometrically up to max_entries (pop3/buf.h).
 */
#include "pop3/parse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pop3/buf.h"
#include "pop3/error.h"

/* mpop's cap on messages (Q47), also the decoder's default max_listing_lines. */
#define LISTING_DEFAULT_MAX_ENTRIES 1000000u

/* Smallest allocations, so that short listings do not realloc on every line. */
#define LISTING_MIN_ENTRIES 16u
#define LISTING_MIN_SLOTS   32u
/* The largest power of two of slots whose index fits a size_t. */
#define LISTING_MAX_SLOTS   (SIZE_MAX / sizeof(size_t) / 2 + 1)

/* Line parsing
 * ------------ */

/* RFC 1939 separates fields by one SP; servers also send runs of SP and HTAB (Q46). */
static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/*
 * Skip the blanks at `*pos`. `expected` is what the RFC allows there: 0 before the first
 * field, 1 (a single SP) between fields. Anything else is flagged, not refused. Returns
 * the number of blanks skipped.
 */
static size_t skip_blanks(const char *s, size_t len, size_t *pos, size_t expected,
                          unsigned *anomalies)
{
    size_t start = *pos;
    while (*pos < len && is_blank(s[*pos]))
        (*pos)++;
    size_t n = *pos - start;
    if (n != expected || (n == 1 && s[start] != ' ')) *anomalies |= POP3_ANOM_EXTRA_SPACE;
    return n;
}

/*
 * One decimal field ending at a blank or at the end of the line, read by
 * pop3_parse_number. Digits only: a sign, a letter or a value past 2^64-1 makes the
 * whole line a protocol violation rather than a number silently cut short or wrapped
 * (libetpan's 32-bit sizes wrapped, Q13).
 */
static int parse_field_number(const char *s, size_t len, size_t *pos, uint64_t *out)
{
    size_t start = *pos;
    while (*pos < len && !is_blank(s[*pos]))
        (*pos)++;
    return pop3_parse_number(s + start, *pos - start, out) == POP3_OK ? POP3_OK : POP3_EPROTO;
}

/* After the last field: blanks alone are extra space, anything else is trailing text. */
static void check_tail(const char *s, size_t len, size_t pos, unsigned *anomalies)
{
    size_t start = pos;
    while (pos < len && is_blank(s[pos]))
        pos++;
    if (pos < len)
        *anomalies |= POP3_ANOM_TRAILING;
    else if (pos > start)
        *anomalies |= POP3_ANOM_EXTRA_SPACE;
}

/* "n m" with optional trailing text: the shared shape of STAT replies and scan listings. */
static int parse_two_numbers(const char *s, size_t len, uint64_t *a, uint64_t *b,
                             unsigned *anomalies)
{
    size_t pos = 0;
    unsigned anom = 0;
    uint64_t first, second;

    skip_blanks(s, len, &pos, 0, &anom);
    if (parse_field_number(s, len, &pos, &first) != POP3_OK) return POP3_EPROTO;
    if (skip_blanks(s, len, &pos, 1, &anom) == 0 || pos == len) return POP3_EPROTO;
    if (parse_field_number(s, len, &pos, &second) != POP3_OK) return POP3_EPROTO;
    check_tail(s, len, pos, &anom);

    *a = first;
    *b = second;
    if (anomalies) *anomalies = anom;
    return POP3_OK;
}

int pop3_parse_stat(const char *text, size_t len, uint64_t *count, uint64_t *size,
                    unsigned *anomalies)
{
    /* RFC1939-5.1 discourages text after the size but does not forbid it: kept as OK. */
    return parse_two_numbers(text, len, count, size, anomalies);
}

int pop3_parse_scan(const char *line, size_t len, uint64_t *msgno, uint64_t *size,
                    unsigned *anomalies)
{
    unsigned anom = 0;
    uint64_t n, octets;

    if (parse_two_numbers(line, len, &n, &octets, &anom) != POP3_OK) return POP3_EPROTO;
    if (n == 0) anom |= POP3_ANOM_MSGNO_ZERO;
    *msgno = n;
    *size = octets;
    if (anomalies) *anomalies = anom;
    return POP3_OK;
}

int pop3_parse_uidl(const char *line, size_t len, uint64_t *msgno, pop3_view *uid,
                    unsigned *anomalies)
{
    size_t pos = 0;
    unsigned anom = 0;
    uint64_t n;

    skip_blanks(line, len, &pos, 0, &anom);
    if (parse_field_number(line, len, &pos, &n) != POP3_OK) return POP3_EPROTO;
    if (skip_blanks(line, len, &pos, 1, &anom) == 0 || pos == len) return POP3_EPROTO;

    /* The unique-id runs to the end of the line: "1 abc def" is one spaced unique-id
     * (Q46), not an id followed by trailing text, so nothing a server sent is lost. */
    size_t end = len;
    while (end > pos && is_blank(line[end - 1]))
        end--;
    if (end < len) anom |= POP3_ANOM_EXTRA_SPACE;
    if (end - pos > POP3_UID_MAX) anom |= POP3_ANOM_UID_LONG;
    for (size_t i = pos; i < end; i++) {
        unsigned char c = (unsigned char)line[i];
        if (c < 0x21 || c > 0x7e) {
            anom |= POP3_ANOM_UID_CHARS;
            break;
        }
    }
    if (n == 0) anom |= POP3_ANOM_MSGNO_ZERO;

    *msgno = n;
    uid->ptr = line + pos;
    uid->len = end - pos;
    if (anomalies) *anomalies = anom;
    return POP3_OK;
}

/* Hash indexes
 * ------------
 * Open addressing with linear probing, at most half full. The seed is the table's own
 * address: it changes from run to run (ASLR), so a hostile server cannot precompute
 * message numbers or unique-ids that all land in one chain and make a listing quadratic.
 * A hardening, not a guarantee; the results never depend on it, only the timing does. */

/* splitmix64's finaliser: every input bit affects every output bit. */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    x ^= x >> 31;
    return x;
}

static uint64_t table_seed(const size_t *table)
{
    return mix64((uint64_t)(uintptr_t)table);
}

static size_t hash_msgno(const size_t *table, uint64_t msgno)
{
    /* Only the low bits are used (masked by the caller); truncation is intended. */
    return (size_t)mix64(msgno ^ table_seed(table));
}

static size_t hash_uid(const size_t *table, const char *uid, size_t len)
{
    uint64_t h = table_seed(table) ^ (uint64_t)len;
    for (size_t i = 0; i < len; i++) /* FNV-1a */
        h = (h ^ (unsigned char)uid[i]) * UINT64_C(0x100000001b3);
    return (size_t)mix64(h);
}

static void index_put(size_t *table, size_t cap, size_t hash, size_t pos)
{
    size_t mask = cap - 1;
    size_t slot = hash & mask;
    while (table[slot] != 0)
        slot = (slot + 1) & mask;
    table[slot] = pos + 1;
}

static void index_put_entry(const pop3_listing *l, size_t *by_msgno, size_t *by_uid, size_t cap,
                            size_t pos)
{
    const pop3_listing_entry *e = &l->entries[pos];
    if (by_msgno) index_put(by_msgno, cap, hash_msgno(by_msgno, e->msgno), pos);
    if (by_uid) index_put(by_uid, cap, hash_uid(by_uid, e->uid, e->uid_len), pos);
}

/*
 * Replace the indexes by fresh ones of `cap` slots holding every entry: on growth, and
 * when the message numbers stop ascending and by_msgno is first needed. The old indexes
 * are kept until the new ones are complete, so ENOMEM leaves the listing as it was.
 */
static int index_rebuild(pop3_listing *l, size_t cap, bool with_msgno)
{
    size_t *by_msgno = NULL, *by_uid = NULL;

    if (with_msgno && (by_msgno = calloc(cap, sizeof *by_msgno)) == NULL) return POP3_ENOMEM;
    if (l->uidl && (by_uid = calloc(cap, sizeof *by_uid)) == NULL) {
        free(by_msgno);
        return POP3_ENOMEM;
    }
    for (size_t i = 0; i < l->count; i++)
        index_put_entry(l, by_msgno, by_uid, cap, i);

    free(l->by_msgno);
    free(l->by_uid);
    l->by_msgno = by_msgno;
    l->by_uid = by_uid;
    l->index_cap = cap;
    return POP3_OK;
}

/* Make room in the indexes for one more entry. */
static int index_reserve(pop3_listing *l, bool with_msgno)
{
    bool need_new = (with_msgno && l->by_msgno == NULL) || (l->uidl && l->by_uid == NULL);
    if (!with_msgno && !l->uidl) return POP3_OK; /* ascending LIST: no index at all */

    /* At most half the slots in use, so that probes stay short; the slot count stays a
     * power of two (the hash is masked), which LISTING_MAX_SLOTS is too. */
    if (l->count + 1 > SIZE_MAX / 2) return POP3_ELIMIT;
    size_t cap = 0;
    int rc = pop3_grow_cap(l->index_cap, 2 * (l->count + 1), LISTING_MIN_SLOTS, sizeof(size_t),
                           LISTING_MAX_SLOTS, &cap);
    if (rc != POP3_OK) return rc;
    if (cap == l->index_cap && !need_new) return POP3_OK;
    return index_rebuild(l, cap, with_msgno);
}

/* The position of message `msgno`, or SIZE_MAX. */
static size_t find_msgno(const pop3_listing *l, uint64_t msgno)
{
    if (l->count == 0 || msgno == 0) return SIZE_MAX;
    if (l->by_msgno == NULL) {
        /* No index yet: every number so far was larger than the one before, so the
         * entries are sorted. The next number of an ascending listing is decided by
         * one comparison with the last; anything else by binary search. */
        if (msgno > l->entries[l->count - 1].msgno) return SIZE_MAX;
        size_t lo = 0, hi = l->count;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (l->entries[mid].msgno < msgno)
                lo = mid + 1;
            else
                hi = mid;
        }
        return lo < l->count && l->entries[lo].msgno == msgno ? lo : SIZE_MAX;
    }
    size_t mask = l->index_cap - 1;
    for (size_t slot = hash_msgno(l->by_msgno, msgno) & mask; l->by_msgno[slot] != 0;
         slot = (slot + 1) & mask) {
        size_t pos = l->by_msgno[slot] - 1;
        if (l->entries[pos].msgno == msgno) return pos;
    }
    return SIZE_MAX;
}

static bool has_uid(const pop3_listing *l, pop3_view uid)
{
    if (l->by_uid == NULL) return false; /* no entry yet */
    size_t mask = l->index_cap - 1;
    for (size_t slot = hash_uid(l->by_uid, uid.ptr, uid.len) & mask; l->by_uid[slot] != 0;
         slot = (slot + 1) & mask) {
        const pop3_listing_entry *e = &l->entries[l->by_uid[slot] - 1];
        if (e->uid_len == uid.len && memcmp(e->uid, uid.ptr, uid.len) == 0) return true;
    }
    return false;
}

/* The listing
 * ----------- */

void pop3_listing_init(pop3_listing *l, bool uidl)
{
    memset(l, 0, sizeof *l);
    l->uidl = uidl;
    l->max_entries = LISTING_DEFAULT_MAX_ENTRIES;
}

void pop3_listing_free(pop3_listing *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->entries[i].uid);
    free(l->entries);
    free(l->by_msgno);
    free(l->by_uid);

    /* Settings survive so that a caller can reuse the listing for the next response. */
    size_t max_entries = l->max_entries;
    bool uidl = l->uidl, strict = l->strict;
    pop3_listing_init(l, uidl);
    l->max_entries = max_entries;
    l->strict = strict;
}

/* Room for one more entry; the caller has checked max_entries, which caps the growth. */
static int entries_reserve(pop3_listing *l)
{
    int rc = POP3_OK;
    pop3_listing_entry *p =
        pop3_array_grow(l->entries, &l->capacity, l->count + 1, sizeof *l->entries,
                        LISTING_MIN_ENTRIES, l->max_entries, &rc);
    if (p == NULL) return rc;
    l->entries = p;
    return POP3_OK;
}

int pop3_listing_add(pop3_listing *l, const char *line, size_t len)
{
    uint64_t msgno, size = 0;
    pop3_view uid = {NULL, 0};
    unsigned anom = 0;
    int rc = l->uidl ? pop3_parse_uidl(line, len, &msgno, &uid, &anom)
                     : pop3_parse_scan(line, len, &msgno, &size, &anom);
    if (rc != POP3_OK) return rc;

    /* Message number 0 is flagged by the parser and never looked up (Q45). */
    if (msgno != 0 && find_msgno(l, msgno) != SIZE_MAX) anom |= POP3_ANOM_DUPLICATE;
    bool keep = (anom & (POP3_ANOM_MSGNO_ZERO | POP3_ANOM_DUPLICATE)) == 0;
    /* RFC1939-7.4: two messages may share a unique-id; kept, but the caller is told. */
    if (keep && l->uidl && has_uid(l, uid)) anom |= POP3_ANOM_DUPLICATE_UID;

    l->anomalies |= anom;
    if (l->strict && anom != 0) return POP3_EPROTO;
    if (!keep) {
        l->skipped++;
        return POP3_OK;
    }
    if (l->count >= l->max_entries) return POP3_ELIMIT;

    bool ascending = l->count == 0 || msgno > l->entries[l->count - 1].msgno;
    bool with_msgno = l->by_msgno != NULL || !ascending;
    if ((rc = entries_reserve(l)) != POP3_OK || (rc = index_reserve(l, with_msgno)) != POP3_OK)
        return rc;

    char *copy = NULL;
    if (l->uidl) {
        /* uid.len < len, so uid.len + 1 cannot overflow. */
        if ((copy = malloc(uid.len + 1)) == NULL) return POP3_ENOMEM;
        memcpy(copy, uid.ptr, uid.len);
        copy[uid.len] = '\0';
    }

    size_t pos = l->count++;
    l->entries[pos] =
        (pop3_listing_entry){.msgno = msgno, .size = size, .uid = copy, .uid_len = uid.len};
    index_put_entry(l, l->by_msgno, l->by_uid, l->index_cap, pos);
    return POP3_OK;
}

const pop3_listing_entry *pop3_listing_find(const pop3_listing *l, uint64_t msgno)
{
    size_t pos = find_msgno(l, msgno);
    return pos == SIZE_MAX ? NULL : &l->entries[pos];
}
