/*
 * mock_support.c - driving sessions in memory for the unit tests.
 */
#include "mock_support.h"

#include <stdlib.h>
#include <string.h>

#include "pop3mock/quirks.h"

char *mock_run(pop3mock_session *s, const char *in, size_t *len)
{
    size_t cap = 1 << 20;
    char *out = malloc(cap + 1);
    size_t n = pop3mock_session_run(s, in, strlen(in), out, cap);
    if (n > cap) n = cap;
    out[n] = '\0';
    if (len != NULL) *len = n;
    return out;
}

char *mock_run_bytewise(pop3mock_session *s, const char *in, size_t *len)
{
    size_t cap = 1 << 20, n = 0, used = 0, inlen = strlen(in);
    char *out = malloc(cap + 1);
    bool eof = false;
    for (;;) {
        pop3mock_action a;
        pop3mock_session_next(s, &a);
        if (a.kind == POP3MOCK_ACT_SEND) {
            if (n < cap) out[n++] = a.data.ptr[0];
            pop3mock_session_ack(s, &a, 1);
        } else if (a.kind == POP3MOCK_ACT_IDLE) {
            if (used < inlen && pop3mock_session_room(s) > 0)
                used += pop3mock_session_feed(s, in + used, 1);
            else if (!eof) {
                pop3mock_session_eof(s);
                eof = true;
            } else
                break;
        } else if (a.kind == POP3MOCK_ACT_CLOSE || a.kind == POP3MOCK_ACT_RESET ||
                   a.kind == POP3MOCK_ACT_STALL) {
            pop3mock_session_ack(s, &a, 0);
            break;
        } else {
            pop3mock_session_ack(s, &a, 0);
        }
    }
    out[n] = '\0';
    if (len != NULL) *len = n;
    return out;
}

void mock_maildrop(pop3mock_maildrop *md)
{
    pop3mock_maildrop_init(md, "u", "p");
    pop3mock_maildrop_add(md, "1000.M1.host", MOCK_MSG1, strlen(MOCK_MSG1));
    pop3mock_maildrop_add(md, "1001.M2.host:2,S", MOCK_MSG2, strlen(MOCK_MSG2));
}

pop3mock_session *mock_session(pop3mock_maildrop *md, const char *const *quirks)
{
    pop3mock_maildrop_options opt;
    pop3mock_maildrop_options_default(&opt);
    for (size_t i = 0; quirks != NULL && quirks[i] != NULL; i++) {
        const char *why;
        if (pop3mock_quirk_enable(&opt.quirks, quirks[i], &why) != 0) abort();
    }
    return pop3mock_maildrop_session_new(md, &opt, MOCK_TS);
}
