/*
 * planted_uidl.c - a test client for pop3-fuzz with a planted bug: it copies each UID of
 * a UIDL listing (RFC 1939 section 7, unique-id listing) into a 64-octet buffer without a
 * length check. RFC 1939 caps a unique-id at 70 characters, but a hostile server sends
 * more, and the copy overflows (built with AddressSanitizer, which reports it).
 */
#include "planted_common.h"

/* Kept out of line, so that the overflow is in a frame of its own. */
static void __attribute__((noinline)) remember_uid(const char *line)
{
    char uid[64];
    const char *sp = strchr(line, ' ');
    strcpy(uid, sp != NULL ? sp + 1 : line); /* the planted bug: no bound */
    if (uid[0] == '\1') puts(uid);           /* so the copy is not optimised away */
}

int main(void)
{
    static char line[1 << 22];
    int fd = planted_connect();
    planted_ok(fd, line, sizeof line);
    planted_send(fd, "USER user\r\n");
    planted_ok(fd, line, sizeof line);
    planted_send(fd, "PASS secret\r\n");
    planted_ok(fd, line, sizeof line);
    planted_send(fd, "UIDL\r\n");
    planted_ok(fd, line, sizeof line);
    while (planted_line(fd, line, sizeof line), strcmp(line, ".") != 0)
        remember_uid(line);
    planted_send(fd, "QUIT\r\n");
    close(fd);
    return 0;
}

/* Leak checking needs ptrace, which containers often refuse: the planted overflow is the
 * only report this client should make. No symbols: symbolising takes seconds on a busy
 * machine, and the tests need only the error's name. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "detect_leaks=0:symbolize=0";
}
