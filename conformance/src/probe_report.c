/*
 * probe_report.c - what `pop3-conform --probe` writes for CI systems besides its text lines:
 * TAP 13 (--tap: a test point per finding, "not ok" for a deviation), a JSON document
 * (--json: the server, what it supports, every finding, the summary; its form is
 * documented in conformance/README.md and pop3-conform(1) and only grows), and JUnit XML
 * (--junit FILE: a test case per finding, a failure per deviation).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "pop3/parse.h"
#include "probe.h"
#include "quirk_names.h"

#ifndef POP3KIT_VERSION
#define POP3KIT_VERSION "0"
#endif

/* The version of the JSON document's form: raised only when a field changes meaning. */
#define PROBE_JSON_FORMAT "pop3-conform-probe/1"

static const char *const level_names[] = {"pass", "note", "dev"};

/* TAP descriptions end at "#" (a directive follows): it is escaped. */
static void tap_text(FILE *f, const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '#')
            fputs("\\#", f);
        else if (*s == '\n' || *s == '\r')
            fputc(' ', f);
        else
            fputc(*s, f);
    }
}

void probe_tap_point(const probe_findings *f, const probe_finding *x)
{
    printf("%s %zu - %s %s ", x->level == F_DEV ? "not ok" : "ok", f->n, level_names[x->level],
           x->id);
    if (x->quirk != NULL) {
        bool only_ids = pop3conform_quirk_ids_only(x->quirk);
        printf("%s", only_ids ? "" : "quirk=");
        tap_text(stdout, x->quirk);
        fputc(' ', stdout);
    }
    tap_text(stdout, x->text);
    fputc('\n', stdout);
    fflush(stdout);
}

void probe_tap_end(const probe_findings *f)
{
    if (f->fatal[0] != '\0') {
        fputs("Bail out! ", stdout);
        tap_text(stdout, f->fatal);
        fputc('\n', stdout);
    }
    printf("1..%zu\n", f->n);
    printf("# probe: %zu passed, %zu notes, %zu deviations\n", f->pass, f->note, f->dev);
    fflush(stdout);
}

/* A JSON string. Server text may hold any octet: valid UTF-8 is kept, every other octet
 * becomes U+FFFD, so the document is always valid JSON. */
static void json_str(FILE *o, const char *s)
{
    if (s == NULL) {
        fputs("null", o);
        return;
    }
    fputc('"', o);
    const unsigned char *p = (const unsigned char *)s;
    while (*p != '\0') {
        unsigned char ch = *p;
        if (ch == '"' || ch == '\\') {
            fprintf(o, "\\%c", ch);
            p++;
        } else if (ch == '\n') {
            fputs("\\n", o);
            p++;
        } else if (ch == '\r') {
            fputs("\\r", o);
            p++;
        } else if (ch == '\t') {
            fputs("\\t", o);
            p++;
        } else if (ch < 0x20 || ch == 0x7f) {
            fprintf(o, "\\u%04x", ch);
            p++;
        } else if (ch < 0x80) {
            fputc(ch, o);
            p++;
        } else {
            /* The length of a well-formed sequence starting here, 0 if none. */
            size_t n = ch >= 0xc2 && ch <= 0xdf   ? 2
                       : ch >= 0xe0 && ch <= 0xef ? 3
                       : ch >= 0xf0 && ch <= 0xf4 ? 4
                                                  : 0;
            for (size_t i = 1; i < n; i++)
                if ((p[i] & 0xc0) != 0x80) n = 0;
            if (n == 3 && ((ch == 0xe0 && p[1] < 0xa0) || (ch == 0xed && p[1] > 0x9f))) n = 0;
            if (n == 4 && ((ch == 0xf0 && p[1] < 0x90) || (ch == 0xf4 && p[1] > 0x8f))) n = 0;
            if (n == 0) {
                fputs("\\ufffd", o);
                p++;
            } else {
                fwrite(p, 1, n, o);
                p += n;
            }
        }
    }
    fputc('"', o);
}

/* "no-dot-stuffing Q4" -> the quirk name and the catalogue ids. */
static void json_quirk(FILE *o, const char *quirk)
{
    fputs("\"quirk\": ", o);
    const char *ids = quirk;
    if (quirk != NULL && !pop3conform_quirk_ids_only(quirk)) {
        size_t n = strcspn(quirk, " ");
        char name[80];
        snprintf(name, sizeof name, "%.*s", (int)n, quirk);
        json_str(o, name);
        ids = quirk + n;
    } else {
        fputs("null", o);
    }
    fputs(", \"catalogue\": [", o);
    bool first = true;
    for (const char *p = ids; p != NULL && *p != '\0';) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        if (n > 0 && p[0] == 'Q') {
            char id[16];
            snprintf(id, sizeof id, "%.*s", (int)n, p);
            fputs(first ? "" : ", ", o);
            json_str(o, id);
            first = false;
        }
        p += n;
    }
    fputc(']', o);
}

static void json_strlist(FILE *o, const strlist *l)
{
    fputc('[', o);
    for (size_t i = 0; i < l->n; i++) {
        fputs(i ? ", " : "", o);
        json_str(o, l->v[i]);
    }
    fputc(']', o);
}

static const char *security(const probe_config *cfg)
{
    return cfg->tls ? "tls" : cfg->starttls ? "starttls" : "plain";
}

void probe_json(const probe_findings *f, const probe_config *cfg, int exit_status)
{
    FILE *o = stdout;
    /* What the capabilities say, read by the codec as the probe read them. */
    pop3_capa_set caps;
    pop3_capa_init(&caps);
    for (size_t i = 0; i < f->caps.n; i++)
        (void)pop3_capa_add(&caps, f->caps.v[i], strlen(f->caps.v[i]));
    fprintf(o, "{\n  \"format\": \"%s\",\n  \"version\": \"%s\",\n", PROBE_JSON_FORMAT,
            POP3KIT_VERSION);
    fputs("  \"server\": {\"host\": ", o);
    json_str(o, cfg->host);
    fprintf(o, ", \"port\": %u, \"user\": ", cfg->port);
    json_str(o, cfg->user);
    fprintf(o, ", \"security\": \"%s\", \"destructive\": %s, \"greeting\": ", security(cfg),
            cfg->destructive ? "true" : "false");
    json_str(o, f->greeting);
    fputs("},\n", o);

    fputs("  \"supported\": {\n    \"capa\": ", o);
    fputs(f->caps_known ? "true" : "false", o);
    fputs(",\n    \"capabilities\": ", o);
    json_strlist(o, &f->caps);
    static const struct {
        const char *key, *tag;
    } flags[] = {
        {"user", "USER"},
        {"top", "TOP"},
        {"uidl", "UIDL"},
        {"pipelining", "PIPELINING"},
        {"resp_codes", "RESP-CODES"},
        {"auth_resp_code", "AUTH-RESP-CODE"},
        {"utf8", "UTF8"},
        {"stls_announced", "STLS"},
    };
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        fprintf(o, ",\n    \"%s\": %s", flags[i].key,
                pop3_capa_find(&caps, flags[i].tag) != NULL ? "true" : "false");
    fprintf(o, ",\n    \"apop\": %s,\n    \"stls\": %s,\n    \"implicit_tls\": %s",
            f->apop ? "true" : "false", f->stls ? "true" : "false", cfg->tls ? "true" : "false");
    fputs(",\n    \"sasl\": [", o);
    const pop3_capability *sasl = pop3_capa_find(&caps, "SASL");
    for (size_t i = 0; sasl != NULL && i < sasl->nparams; i++) {
        char mech[128];
        snprintf(mech, sizeof mech, "%.*s", (int)sasl->params[i].len, sasl->params[i].ptr);
        fputs(i ? ", " : "", o);
        json_str(o, mech);
    }
    fputs("],\n    \"sasl_working\": ", o);
    json_strlist(o, &f->sasl_works);
    fputs("\n  },\n  \"findings\": [", o);
    static const char *const severity[] = {"pass", "note", "deviation"};
    for (size_t i = 0; i < f->n; i++) {
        const probe_finding *x = &f->v[i];
        fprintf(o, "%s\n    {\"severity\": \"%s\", \"requirement\": ", i ? "," : "",
                severity[x->level]);
        json_str(o, x->id);
        fputs(", ", o);
        json_quirk(o, x->quirk);
        fputs(", \"message\": ", o);
        json_str(o, x->text);
        fputc('}', o);
    }
    fprintf(o,
            "%s],\n  \"summary\": {\"passed\": %zu, \"notes\": %zu, \"deviations\": %zu, "
            "\"quirks\": ",
            f->n > 0 ? "\n  " : "", f->pass, f->note, f->dev);
    json_strlist(o, &f->quirks);
    fputs("},\n  \"error\": ", o);
    json_str(o, f->fatal[0] != '\0' ? f->fatal : NULL);
    fprintf(o, ",\n  \"exit_status\": %d\n}\n", exit_status);
    fflush(o);
    pop3_capa_free(&caps);
}

int probe_junit(const probe_findings *f, const probe_config *cfg, const char *path, char *err,
                size_t errlen)
{
    FILE *o = fopen(path, "w");
    if (o == NULL) {
        snprintf(err, errlen, "%s: cannot write it", path);
        return -1;
    }
    bool fatal = f->fatal[0] != '\0';
    fprintf(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n"
               "  <testsuite name=\"pop3-conform.probe\" hostname=\"");
    conform_xml_text(o, cfg->host);
    fprintf(o, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%d\" skipped=\"0\">\n",
            f->n + (fatal ? 1 : 0), f->dev, fatal ? 1 : 0);
    for (size_t i = 0; i < f->n; i++) {
        const probe_finding *x = &f->v[i];
        /* The requirement is the class, so that a CI page groups findings by it. */
        fputs("    <testcase classname=\"", o);
        conform_xml_text(o, x->id);
        fputs("\" name=\"", o);
        if (x->quirk != NULL) {
            bool only_ids = pop3conform_quirk_ids_only(x->quirk);
            fputs(only_ids ? "" : "quirk=", o);
            conform_xml_text(o, x->quirk);
            fputs(" ", o);
        }
        conform_xml_text(o, x->text);
        fputs("\">", o);
        if (x->level == F_DEV) {
            fputs("<failure type=\"deviation\" message=\"", o);
            conform_xml_text(o, x->text);
            fputs("\"/>", o);
        } else if (x->level == F_NOTE) {
            fputs("<system-out>note: ", o);
            conform_xml_text(o, x->text);
            fputs("</system-out>", o);
        }
        fputs("</testcase>\n", o);
    }
    if (fatal) {
        fputs("    <testcase classname=\"probe\" name=\"the probe could go on\">"
              "<error message=\"",
              o);
        conform_xml_text(o, f->fatal);
        fputs("\"/></testcase>\n", o);
    }
    fputs("  </testsuite>\n</testsuites>\n", o);
    if (fclose(o) != 0) {
        snprintf(err, errlen, "%s: write failed", path);
        return -1;
    }
    return 0;
}
