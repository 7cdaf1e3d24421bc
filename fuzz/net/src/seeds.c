/*
 * seeds.c - the dialogues pop3-fuzz starts from: built-in sessions (RFC 1939 section 10's
 * login, STAT, LIST, UIDL, RETR, TOP and QUIT; RFC 2449 CAPA; RFC 5034 AUTH), the mock's
 * named quirks written as dialogues, and the dialogues of conformance case files and
 * pop3-mock scripts.
 *
 * A client under test sends what it wants, not what a recorded client sent, so every
 * client line of a seed is loosened to "C: {*}": the server answers the n-th command with
 * the n-th reply, as curl's fuzzer does. Mutations then decide what those replies are.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netfuzz.h"
#include "pop3mock/case_file.h"
#include "pop3mock/script.h"

static const char *const builtin[] = {
    /* USER/PASS, then the listings and a message. */
    "S: +OK POP3 server ready {timestamp}\n"
    "C: USER user\nS: +OK\nC: PASS secret\nS: +OK maildrop has 2 messages (320 octets)\n"
    "C: STAT\nS: +OK 2 320\n"
    "C: LIST\nS: +OK 2 messages (320 octets)\nS: 1 120\nS: 2 200\nS: .\n"
    "C: UIDL\nS: +OK\nS: 1 whqtswO00WBw418f9t5JxYwZ\nS: 2 QhdPYR:00WBw1Ph7x7\nS: .\n"
    "C: RETR 1\nS: +OK 120 octets\nS: From: a@example.org\nS: Subject: hi\nS:\n"
    "S: ..a stuffed line\nS: body\nS: .\n"
    "C: QUIT\nS: +OK dewey POP3 server signing off\n",
    /* The shortest session that lists UIDs (what a UIDL-keeping client does first). */
    "S: +OK ready\nC: USER user\nS: +OK\nC: PASS secret\nS: +OK\n"
    "C: UIDL\nS: +OK unique-id listing follows\nS: 1 uid-one\nS: 2 uid-two\nS: .\n"
    "C: QUIT\nS: +OK bye\n",
    /* RETR straight after login. */
    "S: +OK ready\nC: USER user\nS: +OK\nC: PASS secret\nS: +OK\n"
    "C: RETR 1\nS: +OK message follows\nS: Subject: x\nS:\nS: line one\nS: ..dot\nS: .\n"
    "C: QUIT\nS: +OK bye\n",
    /* CAPA first, as most clients do, then SASL PLAIN with a continuation. */
    "S: +OK POP3 ready\n"
    "C: CAPA\nS: +OK Capability list follows\nS: TOP\nS: USER\nS: UIDL\nS: RESP-CODES\n"
    "S: PIPELINING\nS: SASL PLAIN LOGIN\nS: LOGIN-DELAY 900\nS: EXPIRE 60\n"
    "S: IMPLEMENTATION pop3kit\nS: .\n"
    "C: AUTH PLAIN\nS: +\nC: dGVzdAB0ZXN0AHRlc3Q=\nS: +OK Maildrop locked and ready\n"
    "C: STAT\nS: +OK 1 100\nC: LIST\nS: +OK\nS: 1 100\nS: .\n"
    "C: UIDL\nS: +OK\nS: 1 abc\nS: .\n"
    "C: RETR 1\nS: +OK\nS: Subject: t\nS:\nS: b\nS: .\nC: QUIT\nS: +OK\n",
    /* CAPA, then USER/PASS refused with a response code. */
    "S: +OK ready\nC: CAPA\nS: +OK\nS: USER\nS: RESP-CODES\nS: .\n"
    "C: USER user\nS: +OK\nC: PASS secret\nS: -ERR [IN-USE] maildrop already locked\n"
    "C: QUIT\nS: +OK\n",
    /* TOP and LIST of one message. */
    "S: +OK ready\nC: USER user\nS: +OK\nC: PASS secret\nS: +OK\n"
    "C: LIST 1\nS: +OK 1 120\nC: TOP 1 0\nS: +OK\nS: Subject: t\nS:\nS: .\n"
    "C: QUIT\nS: +OK\n",
    /* The mock's named quirks (mockserver/README.md, "Quirks"), as dialogues. */
    /* bare-lf: every line end a bare LF. */
    "S: +OK ready\\n\\c\nC: USER user\nS: +OK\\n\\c\nC: PASS secret\nS: +OK\\n\\c\n"
    "C: UIDL\nS: +OK\\n1 a\\n2 b\\n.\\n\\c\n"
    "C: RETR 1\nS: +OK\\nSubject: x\\n\\nbody\\n.\\n\\c\nC: QUIT\nS: +OK\\n\\c\n",
    /* dot-cr: the body ends with ".\r" and the server closes. */
    "S: +OK ready\nC: USER user\nS: +OK\nC: PASS secret\nS: +OK\n"
    "C: RETR 1\nS: +OK\nS: Subject: x\nS:\nS: body\nS: .\\r\\c\n!close\n",
    /* plus-err, long-uids, spaced-uids, msgno-zero. */
    "S: +OK ready\nC: USER user\nS: +OK\nC: PASS secret\nS: +OK\n"
    "C: UIDL\nS: +OK\nS: 1  uid with space\n"
    "S: 2 0123456789012345678901234567890123456789012345678901234567890123456789abcdefghij\n"
    "S: .\nC: LIST\nS: +OK\nS: 0 0\nS: 1 120\nS: .\nC: DELE 3\nS: +ERR no such message\nC: "
    "QUIT\nS: +OK\n",
    /* banner, extra-blank-line, nul-bytes, top-twice, capa-err. */
    "S: ____\nS: |  |\nS: +OK ready\nC: CAPA\nS: -ERR unknown command\n"
    "C: USER user\nS: +OK\\0\nC: PASS secret\nS: +OK\\0\n"
    "C: TOP 1 0\nS: +OK\nS: +OK\nS: Subject: x\nS:\nS: .\n"
    "C: RETR 1\nS: +OK\nS: Subject: x\nS:\nS: body\nS:\nS: .\nC: QUIT\nS: +OK\n",
    /* dot-no-crlf: a body lacking its last newline gets "." right after its last octet. */
    "S: +OK ready\nC: USER user\nS: +OK\nC: PASS secret\nS: +OK\n"
    "C: RETR 1\nS: +OK\nS: Subject: x\nS:\nS: no newline.\nC: QUIT\nS: +OK\n",
};

void pop3fuzz_seed_loosen(pop3fuzz_script *s)
{
    for (size_t i = 0; i < s->n; i++) {
        const char *p = s->line[i];
        while (*p == ' ' || *p == '\t')
            p++;
        if (p[0] != 'C' || (p[1] != ':' && p[1] != '=' && p[1] != '~')) continue;
        if (strstr(p, "<close connection>") != NULL) continue;
        if (strstr(p, "<open connection>") != NULL) {
            pop3fuzz_script_remove(s, i--);
            continue;
        }
        pop3fuzz_script_set(s, i, "C: {*}");
    }
}

static bool add(pop3fuzz_seeds *out, pop3fuzz_script *s)
{
    pop3fuzz_script *v = realloc(out->v, (out->n + 1) * sizeof *v);
    if (v == NULL) return false;
    out->v = v;
    out->v[out->n++] = *s;
    return true;
}

bool pop3fuzz_seeds_builtin(pop3fuzz_seeds *out)
{
    for (size_t i = 0; i < sizeof builtin / sizeof *builtin; i++) {
        pop3fuzz_script s;
        if (!pop3fuzz_script_from_text(&s, builtin[i], strlen(builtin[i]))) return false;
        pop3fuzz_seed_loosen(&s);
        if (!add(out, &s)) return false;
    }
    return true;
}

/* A seed that needs TLS cannot be served without a certificate: left out. */
static bool needs_tls(const pop3fuzz_script *s)
{
    for (size_t i = 0; i < s->n; i++) {
        const char *p = s->line[i];
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncmp(p, "!starttls", 9) == 0 || strncmp(p, "!implicit-tls", 13) == 0 ||
            strncmp(p, "!tls-", 5) == 0)
            return true;
    }
    return false;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *p = realloc(buf, cap);
            if (p == NULL) break;
            buf = p;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    fclose(f);
    *len = n;
    return buf;
}

int pop3fuzz_seeds_load_dir(pop3fuzz_seeds *out, const char *dir, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        snprintf(err, errlen, "%s: cannot open the folder", dir);
        return -1;
    }
    /* Sorted, so that a seed number means the same file on every machine. */
    char **names = NULL;
    size_t nn = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t l = strlen(e->d_name);
        bool is_case = l > 5 && strcmp(e->d_name + l - 5, ".case") == 0;
        bool is_pop3 = l > 5 && strcmp(e->d_name + l - 5, ".pop3") == 0;
        if (!is_case && !is_pop3) continue;
        char **p = realloc(names, (nn + 1) * sizeof *p);
        if (p == NULL) break;
        names = p;
        names[nn++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, nn, sizeof *names, cmp_names);
    int added = 0;
    for (size_t i = 0; i < nn; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        size_t len = 0;
        char *text = slurp(path, &len);
        char *dialogue = text;
        size_t dlen = len;
        char why[512];
        if (text != NULL && strstr(names[i], ".case") != NULL)
            dialogue = pop3mock_case_dialogue(path, text, len, &dlen, why, sizeof why);
        pop3fuzz_script s;
        if (dialogue != NULL && pop3fuzz_script_from_text(&s, dialogue, dlen)) {
            pop3fuzz_seed_loosen(&s);
            size_t tl = 0;
            char *t = pop3fuzz_script_text(&s, &tl);
            /* A seed whose loosened form does not parse (it sent a captured {name}) or
             * that needs TLS is left out. */
            pop3mock_script *sc = t ? pop3mock_script_parse(path, t, tl, why, sizeof why) : NULL;
            if (sc != NULL && !needs_tls(&s) && add(out, &s))
                added++;
            else
                pop3fuzz_script_free(&s);
            pop3mock_script_free(sc);
            free(t);
        }
        if (dialogue != text) free(dialogue);
        free(text);
        free(names[i]);
    }
    free(names);
    return added;
}

void pop3fuzz_seeds_free(pop3fuzz_seeds *s)
{
    for (size_t i = 0; i < s->n; i++)
        pop3fuzz_script_free(&s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}
