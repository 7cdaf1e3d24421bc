/*
 * fuzz_listing.c - STAT, LIST and UIDL lines and the pop3_listing collection.
 *
 * Exercises pop3_parse_number, pop3_parse_stat, pop3_parse_scan, pop3_parse_uidl,
 * pop3_listing_add, _find and _free: RFC 1939 section 5 (STAT "nn mm", scan listings "msg size"),
 * section 7 (UIDL "msg unique-id", unique-ids of 1 to 70 octets in 0x21..0x7E, two
 * messages may share one) and the quirks Q13 (sizes past 2^32), Q45 (message number 0,
 * duplicates), Q46 (long or spaced unique-ids, extra spaces), Q47 (hostile listings:
 * a bounded number of entries).
 *
 * Input: byte 0 bit 0: UIDL rather than LIST, bit 1: strict, bits 2-7: max_entries
 * (63: the default, else 1 + value); byte 1 bit 0: free the listing and add every line
 * again; the rest: lines separated by LF, each given without its LF in a block of
 * exactly its size. Every line also goes through all three line parsers.
 *
 * max_entries is small, as a careful client sets it, so that hitting it is POP3_ELIMIT
 * and never a finding.
 *
 * Oracles: the number parser (on the whole line) and the line parsers agree with
 * reference parsers written from RFC 1939 (fields, 64-bit range decided on the digit
 * string, anomaly flags); after every add the listing equals a plain model (entries in order,
 * message 0 and duplicate numbers skipped, shared unique-ids kept and flagged, strict mode refusing
 * any anomaly, the limit); pop3_listing_find agrees with a linear search.
 */
#include "fuzz_common.h"

#include "pop3/error.h"
#include "pop3/parse.h"

static bool blank(char c)
{
    return c == ' ' || c == '\t';
}

/* A decimal field: digits only, at most 2^64 - 1, judged on the digit string. */
static bool ref_number(const char *s, size_t n, uint64_t *out)
{
    if (n == 0) return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    size_t z = 0;
    while (z + 1 < n && s[z] == '0')
        z++;
    static const char max[] = "18446744073709551615";
    size_t digits = n - z;
    if (digits > sizeof max - 1) return false;
    if (digits == sizeof max - 1 && memcmp(s + z, max, digits) > 0) return false;
    uint64_t v = 0;
    for (size_t i = z; i < n; i++)
        v = v * 10u + (uint64_t)(s[i] - '0');
    *out = v;
    return true;
}

typedef struct ref_line {
    int rc;
    uint64_t a, b; /* message number (or count) and size */
    size_t uid_off, uid_len;
    unsigned anomalies;
} ref_line;

/* The fields of a line: blanks, a token, a separator, and what follows. */
static size_t skip(const char *s, size_t len, size_t i, bool blanks)
{
    while (i < len && blank(s[i]) == blanks)
        i++;
    return i;
}

/*
 * What every listing line starts with: blanks (an anomaly), a number into r->a, then
 * blanks (anything but one SP is an anomaly) before a second field. Returns where that
 * field starts, or 0 when there is none or the number is bad.
 */
static size_t ref_first_field(const char *s, size_t len, ref_line *r, unsigned *anom)
{
    size_t i = skip(s, len, 0, true);
    if (i > 0) *anom |= POP3_ANOM_EXTRA_SPACE;
    size_t j = skip(s, len, i, false);
    if (!ref_number(s + i, j - i, &r->a)) return 0;
    size_t k = skip(s, len, j, true);
    if (k == j || k == len) return 0;
    if (k - j != 1 || s[j] != ' ') *anom |= POP3_ANOM_EXTRA_SPACE;
    return k;
}

/* "n m" and optional trailing text (STAT, scan listings). */
static ref_line ref_two(const char *s, size_t len)
{
    ref_line r = {POP3_EPROTO, 0, 0, 0, 0, 0};
    unsigned anom = 0;
    size_t k = ref_first_field(s, len, &r, &anom);
    if (k == 0) return r;
    size_t l = skip(s, len, k, false);
    if (!ref_number(s + k, l - k, &r.b)) return r;
    size_t t = skip(s, len, l, true);
    if (t < len)
        anom |= POP3_ANOM_TRAILING;
    else if (t > l)
        anom |= POP3_ANOM_EXTRA_SPACE;
    r.rc = POP3_OK;
    r.anomalies = anom;
    return r;
}

/* "n unique-id": the unique-id runs to the end of the line, trailing blanks removed. */
static ref_line ref_uidl(const char *s, size_t len)
{
    ref_line r = {POP3_EPROTO, 0, 0, 0, 0, 0};
    unsigned anom = 0;
    size_t k = ref_first_field(s, len, &r, &anom);
    if (k == 0) return r;
    size_t end = len;
    while (end > k && blank(s[end - 1]))
        end--;
    if (end < len) anom |= POP3_ANOM_EXTRA_SPACE;
    if (end - k > POP3_UID_MAX) anom |= POP3_ANOM_UID_LONG;
    for (size_t x = k; x < end; x++)
        if ((unsigned char)s[x] < 0x21 || (unsigned char)s[x] > 0x7E) anom |= POP3_ANOM_UID_CHARS;
    if (r.a == 0) anom |= POP3_ANOM_MSGNO_ZERO;
    r.rc = POP3_OK;
    r.uid_off = k;
    r.uid_len = end - k;
    r.anomalies = anom;
    return r;
}

/* pop3_parse_number on the whole line: the reference's verdict, and POP3_ELIMIT (not
 * EPROTO) exactly when the line is all digits but past 2^64 - 1. */
static void check_number(const char *line, size_t len)
{
    uint64_t want = 0, got = 0;
    bool digits = len > 0;
    for (size_t i = 0; i < len; i++)
        digits = digits && line[i] >= '0' && line[i] <= '9';
    int rc = pop3_parse_number(line, len, &got);
    if (ref_number(line, len, &want))
        FUZZ_CHECK(rc == POP3_OK && got == want);
    else
        FUZZ_CHECK(rc == (digits ? POP3_ELIMIT : POP3_EPROTO));
}

static void check_line_parsers(const char *line, size_t len)
{
    uint64_t a = 0, b = 0;
    unsigned anom = 0;
    ref_line two = ref_two(line, len);

    check_number(line, len);

    int rc = pop3_parse_stat(line, len, &a, &b, &anom);
    FUZZ_CHECK(rc == two.rc);
    if (rc == POP3_OK) FUZZ_CHECK(a == two.a && b == two.b && anom == two.anomalies);
    FUZZ_CHECK(pop3_parse_stat(line, len, &a, &b, NULL) == two.rc);

    rc = pop3_parse_scan(line, len, &a, &b, &anom);
    FUZZ_CHECK(rc == two.rc);
    if (rc == POP3_OK) {
        unsigned want = two.anomalies | (two.a == 0 ? POP3_ANOM_MSGNO_ZERO : 0u);
        FUZZ_CHECK(a == two.a && b == two.b && anom == want);
    }
    FUZZ_CHECK(pop3_parse_scan(line, len, &a, &b, NULL) == two.rc);

    ref_line u = ref_uidl(line, len);
    pop3_view uid = {NULL, 0};
    rc = pop3_parse_uidl(line, len, &a, &uid, &anom);
    FUZZ_CHECK(rc == u.rc);
    if (rc == POP3_OK) {
        FUZZ_CHECK(a == u.a && anom == u.anomalies);
        FUZZ_CHECK(uid.ptr == line + u.uid_off && uid.len == u.uid_len);
        FUZZ_CHECK(uid.len > 0 && uid.len < len);
    }
    FUZZ_CHECK(pop3_parse_uidl(line, len, &a, &uid, NULL) == u.rc);
}

/* The model: the entries a listing must hold, in order, plus two sorted indexes so
 * that long listings stay linear-ish (a plain linear search per line made long inputs
 * quadratic and slow to fuzz). */
typedef struct entry {
    uint64_t msgno, size;
    char *uid;
    size_t uid_len;
} entry;

typedef struct numbered {
    uint64_t msgno;
    size_t pos; /* in e */
} numbered;

typedef struct model {
    entry *e;
    size_t count, cap;
    numbered *msgnos; /* sorted by msgno */
    size_t *by_uid;   /* positions in e, sorted by unique-id */
    unsigned anomalies;
    size_t skipped;
} model;

/* Where `msgno` is, or would go, in the sorted msgnos. */
static size_t msgno_slot(const model *m, uint64_t msgno)
{
    size_t lo = 0, hi = m->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->msgnos[mid].msgno < msgno)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The position of message `msgno` in listing order, or SIZE_MAX. */
static size_t model_find(const model *m, uint64_t msgno)
{
    size_t k = msgno_slot(m, msgno);
    return k < m->count && m->msgnos[k].msgno == msgno ? m->msgnos[k].pos : SIZE_MAX;
}

static bool model_has_msgno(const model *m, uint64_t msgno)
{
    return model_find(m, msgno) != SIZE_MAX;
}

static int uid_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    return c != 0 ? c : (alen > blen) - (alen < blen);
}

static size_t uid_slot(const model *m, const char *uid, size_t len)
{
    size_t lo = 0, hi = m->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const entry *e = &m->e[m->by_uid[mid]];
        if (uid_cmp(e->uid, e->uid_len, uid, len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool model_has_uid(const model *m, const char *uid, size_t len)
{
    size_t k = uid_slot(m, uid, len);
    if (k == m->count) return false;
    const entry *e = &m->e[m->by_uid[k]];
    return uid_cmp(e->uid, e->uid_len, uid, len) == 0;
}

static void model_free(model *m)
{
    for (size_t i = 0; i < m->count; i++)
        free(m->e[i].uid);
    free(m->e);
    free(m->msgnos);
    free(m->by_uid);
    memset(m, 0, sizeof *m);
}

static void model_append(model *m, uint64_t msgno, uint64_t size, const char *uid, size_t uid_len,
                         bool uidl)
{
    if (m->count == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 16;
        m->e = realloc(m->e, m->cap * sizeof *m->e);
        m->msgnos = realloc(m->msgnos, m->cap * sizeof *m->msgnos);
        m->by_uid = realloc(m->by_uid, m->cap * sizeof *m->by_uid);
        FUZZ_CHECK(m->e != NULL && m->msgnos != NULL && m->by_uid != NULL);
    }
    size_t pos = m->count;
    entry *e = &m->e[pos];
    e->msgno = msgno;
    e->size = size;
    e->uid = uidl ? fuzz_dup(uid, uid_len) : NULL;
    e->uid_len = uidl ? uid_len : 0;

    size_t k = msgno_slot(m, msgno);
    memmove(m->msgnos + k + 1, m->msgnos + k, (m->count - k) * sizeof *m->msgnos);
    m->msgnos[k] = (numbered){msgno, pos};
    k = uidl ? uid_slot(m, uid, uid_len) : m->count;
    memmove(m->by_uid + k + 1, m->by_uid + k, (m->count - k) * sizeof *m->by_uid);
    m->by_uid[k] = pos;
    m->count++;
}

/* What pop3_listing_add must do with one line, by pop3/parse.h. */
static int model_add(model *m, const pop3_listing *l, const char *line, size_t len)
{
    ref_line r = l->uidl ? ref_uidl(line, len) : ref_two(line, len);
    if (r.rc != POP3_OK) return POP3_EPROTO;
    unsigned anom = r.anomalies;
    if (!l->uidl && r.a == 0) anom |= POP3_ANOM_MSGNO_ZERO;
    if (r.a != 0 && model_has_msgno(m, r.a)) anom |= POP3_ANOM_DUPLICATE;
    bool keep = (anom & (POP3_ANOM_MSGNO_ZERO | POP3_ANOM_DUPLICATE)) == 0;
    if (keep && l->uidl && model_has_uid(m, line + r.uid_off, r.uid_len))
        anom |= POP3_ANOM_DUPLICATE_UID;
    m->anomalies |= anom;
    if (l->strict && anom != 0) return POP3_EPROTO;
    if (!keep) {
        m->skipped++;
        return POP3_OK;
    }
    if (m->count >= l->max_entries) return POP3_ELIMIT;
    model_append(m, r.a, l->uidl ? 0 : r.b, line + r.uid_off, r.uid_len, l->uidl);
    return POP3_OK;
}

static void compare_one(const pop3_listing *l, const model *m, size_t i)
{
    const pop3_listing_entry *a = &l->entries[i];
    const entry *b = &m->e[i];
    FUZZ_CHECK(a->msgno == b->msgno && a->size == b->size && a->uid_len == b->uid_len);
    if (l->uidl) {
        FUZZ_CHECK(a->uid != NULL && a->uid[a->uid_len] == '\0');
        FUZZ_CHECK(memcmp(a->uid, b->uid, b->uid_len) == 0);
    } else {
        FUZZ_CHECK(a->uid == NULL);
    }
}

/* The counters always; every entry when `all` (the entries moved, or at the end), else
 * the last one: earlier entries cannot change without moving. */
static void compare(const pop3_listing *l, const model *m, bool all)
{
    FUZZ_CHECK(l->count == m->count && l->count <= l->capacity);
    FUZZ_CHECK(l->count <= l->max_entries);
    FUZZ_CHECK(l->anomalies == m->anomalies && l->skipped == m->skipped);
    if (all) {
        for (size_t i = 0; i < m->count; i++)
            compare_one(l, m, i);
    } else if (m->count > 0) {
        compare_one(l, m, m->count - 1);
    }
}

static void check_find(const pop3_listing *l, const model *m)
{
    FUZZ_CHECK(pop3_listing_find(l, 0) == NULL);
    for (size_t i = 0; i < m->count; i++) {
        uint64_t n = m->e[i].msgno;
        FUZZ_CHECK(pop3_listing_find(l, n) == &l->entries[i]);
        /* Neighbours: present or absent, the linear search decides. */
        uint64_t around[2] = {n + 1, n - 1};
        for (size_t k = 0; k < 2; k++) {
            size_t pos = around[k] == 0 ? SIZE_MAX : model_find(m, around[k]);
            const pop3_listing_entry *want = pos == SIZE_MAX ? NULL : &l->entries[pos];
            FUZZ_CHECK(pop3_listing_find(l, around[k]) == want);
        }
    }
    FUZZ_CHECK(
        pop3_listing_find(l, UINT64_MAX) ==
        (model_find(m, UINT64_MAX) == SIZE_MAX ? NULL : &l->entries[model_find(m, UINT64_MAX)]));
}

static void run(pop3_listing *l, model *m, const uint8_t *p, size_t len)
{
    size_t start = 0;
    for (;;) {
        const uint8_t *lf = memchr(p + start, '\n', len - start);
        size_t end = lf ? (size_t)(lf - p) : len;
        char *line = fuzz_dup(p + start, end - start);
        check_line_parsers(line, end - start);
        int want = model_add(m, l, line, end - start);
        const pop3_listing_entry *before = l->entries;
        FUZZ_CHECK(pop3_listing_add(l, line, end - start) == want);
        free(line);
        compare(l, m, l->entries != before);
        if (lf == NULL) break;
        start = end + 1;
    }
    compare(l, m, true);
    check_find(l, m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    uint8_t mode = fuzz_byte(&in);
    uint8_t again = fuzz_byte(&in);

    pop3_listing l;
    pop3_listing_init(&l, (mode & 1) != 0);
    FUZZ_CHECK(l.count == 0 && l.max_entries > 0 && !l.strict);
    l.strict = (mode & 2) != 0;
    if ((mode >> 2) != 63) l.max_entries = 1u + (mode >> 2u);
    size_t max_entries = l.max_entries;

    model m = {0};
    run(&l, &m, in.p, in.len);
    if (again & 1) {
        pop3_listing_free(&l);
        FUZZ_CHECK(l.count == 0 && l.anomalies == 0 && l.skipped == 0);
        FUZZ_CHECK(l.max_entries == max_entries && l.strict == ((mode & 2) != 0));
        FUZZ_CHECK(l.uidl == ((mode & 1) != 0));
        model_free(&m);
        run(&l, &m, in.p, in.len);
    }
    pop3_listing_free(&l);
    model_free(&m);
    return 0;
}
