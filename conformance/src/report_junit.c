/*
 * report_junit.c - JUnit XML for CI: one <testsuite> per client, one <testcase> per case
 * (its RFC section as the class name), <failure> whose message is the first difference in
 * one line and whose text is the whole diff and transcript, <skipped> for a case the client
 * cannot express.
 */
#include <stdio.h>
#include <string.h>

#include "conform.h"

/* Shared by the probe's JUnit report (probe_report.c). */
void conform_xml_text(FILE *f, const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        switch (ch) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default:
            /* XML 1.0 has no place for most control characters, even escaped. */
            if (ch < 0x20 && ch != '\n' && ch != '\t')
                fputc('?', f);
            else
                fputc(ch, f);
        }
    }
}

int report_junit(const conform_report *r, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        snprintf(err, errlen, "%s: cannot write it", path);
        return -1;
    }
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n", f);
    for (size_t k = 0; k < r->nclients; k++) {
        size_t fail = 0, skip = 0;
        long long ms = 0;
        for (size_t i = 0; i < r->ncases; i++) {
            const case_outcome *o = &r->outcomes[i * r->nclients + k];
            fail += o->v == V_FAIL;
            skip += o->v == V_NA;
            ms += o->ms;
        }
        fprintf(f, "  <testsuite name=\"pop3-conform.");
        conform_xml_text(f, r->clients[k].name);
        fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" skipped=\"%zu\" time=\"%.3f\">\n", r->ncases,
                fail, skip, (double)ms / 1000.0);
        for (size_t i = 0; i < r->ncases; i++) {
            const conform_case *c = r->cases[i];
            const case_outcome *o = &r->outcomes[i * r->nclients + k];
            fputs("    <testcase classname=\"", f);
            conform_xml_text(f, c->section);
            fputs("\" name=\"", f);
            conform_xml_text(f, c->id);
            fprintf(f, "\" time=\"%.3f\">", (double)o->ms / 1000.0);
            const char *detail = o->detail.ptr != NULL ? o->detail.ptr : "";
            if (o->v == V_FAIL) {
                /* The message is what a CI page shows in one line: the first difference. */
                pop3_buf msg = {0};
                int line = 0;
                report_first_difference(c, detail, &msg, &line);
                fputs("\n      <failure message=\"", f);
                conform_xml_text(f, msg.ptr != NULL ? msg.ptr : "");
                fputs("\" type=\"", f);
                conform_xml_text(f, c->title);
                fputs("\">", f);
                cbuf_free(&msg);
                conform_xml_text(f, detail);
                fputs("</failure>\n    ", f);
            } else if (o->v == V_NA) {
                fputs("\n      <skipped message=\"", f);
                conform_xml_text(f, detail);
                fputs("\"/>\n    ", f);
            }
            fputs("</testcase>\n", f);
        }
        fputs("  </testsuite>\n", f);
    }
    fputs("</testsuites>\n", f);
    if (fclose(f) != 0) {
        snprintf(err, errlen, "%s: write failed", path);
        return -1;
    }
    return 0;
}
